"""Workload identities trust exactly one Kubernetes service account.

An IRSA role, an Azure federated credential or a GCP workload-identity grant
with a wildcard (or no) subject hands a Materialize instance's blob access
to every service account that matches: another instance, or anything else
running in the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .documents import one_or_many, statements
from .fields import (
    AZURE_FEDERATED_CREDENTIAL,
    GCP_PROJECT_IAM_BINDING,
    GCP_PROJECT_IAM_MEMBER,
    GCP_SERVICE_ACCOUNT_IAM_BINDING,
    GCP_SERVICE_ACCOUNT_IAM_MEMBER,
    GCS_BUCKET_IAM_BINDING,
    GCS_BUCKET_IAM_MEMBER,
    IAM_ROLE,
    Field,
    field,
)

ROLE_TRUST = field(IAM_ROLE, "assumeRolePolicy")
CREDENTIAL_SUBJECT = field(AZURE_FEDERATED_CREDENTIAL, "subject")
GCP_MEMBER_FIELDS: dict[str, Field] = {
    token: field(token, "member")
    for token in (GCP_PROJECT_IAM_MEMBER, GCP_SERVICE_ACCOUNT_IAM_MEMBER, GCS_BUCKET_IAM_MEMBER)
} | {
    token: field(token, "members")
    for token in (GCP_PROJECT_IAM_BINDING, GCP_SERVICE_ACCOUNT_IAM_BINDING, GCS_BUCKET_IAM_BINDING)
}

WEB_IDENTITY_ACTION = "sts:assumerolewithwebidentity"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
# IAM condition operators that admit a subject (the negated ones only exclude).
ADMITTING = ("stringequals", "stringequalsignorecase", "stringlike")
WILDCARDS = ("*", "?")


def kubernetes_subject_problem(subject: str) -> str | None:
    """Why a `system:serviceaccount:...` subject does not name exactly one service account, if it does not."""
    if not subject.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, _, name = subject.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
    if not namespace or not name or ":" in name:
        return f"{subject!r} is not system:serviceaccount:<namespace>:<name>"
    return None


def _web_identity(statement: Mapping[str, Any]) -> bool:
    actions = statement.get("Action")
    # Action names are case-insensitive and may be patterns such as sts:*.
    return statement.get("Effect") == "Allow" and any(
        isinstance(a, str) and fnmatchcase(WEB_IDENTITY_ACTION, a.lower()) for a in one_or_many(actions)
    )


def _subject_tests(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(operator, value) for every condition that admits a `...:sub` claim."""
    tests: list[tuple[str, str]] = []
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return tests
    for operator, keys in condition.items():
        # ForAnyValue:/ForAllValues: qualify and IfExists suffixes do not change what matches.
        base = operator.rsplit(":", 1)[-1].lower().removesuffix("ifexists")
        if base not in ADMITTING or not isinstance(keys, Mapping):
            continue
        for key, value in keys.items():
            if key.lower().endswith(":sub"):
                tests.extend((base, v) for v in one_or_many(value) if isinstance(v, str))
    return tests


def trust_policy_problems(policy: Any) -> list[str]:
    """What lets more than one workload assume a role through web identity."""
    problems: list[str] = []
    for statement in filter(_web_identity, statements(policy)):
        tests = _subject_tests(statement)
        if not tests:
            problems.append("a web-identity statement has no :sub condition, so every identity of the issuer matches")
        for operator, subject in tests:
            if operator == "stringlike" and any(w in subject for w in WILDCARDS):
                problems.append(f"the subject {subject!r} is a StringLike pattern")
            problem = kubernetes_subject_problem(subject)
            if problem:
                problems.append(problem)
    return problems


def _wildcard_workload_member(member: Any) -> bool:
    if not isinstance(member, str):
        return False
    # GKE's workload pool is <project>.svc.id.goog; principalSet:// names a group of identities.
    workload = ".svc.id.goog" in member or "/workloadIdentityPools/" in member
    return workload and (member.startswith("principalSet://") or "*" in member)


def validate_workload_identity_exact_subject(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type
    if kind == IAM_ROLE:
        for problem in trust_policy_problems(ROLE_TRUST.get(args.props)):
            report_violation(f"assumeRolePolicy: {problem}.", None)
    elif kind == AZURE_FEDERATED_CREDENTIAL:
        subject = CREDENTIAL_SUBJECT.get(args.props)
        if not isinstance(subject, str) or not subject or "*" in subject:
            report_violation(f"subject {subject!r} does not name one identity.", None)
        elif problem := kubernetes_subject_problem(subject):
            report_violation(f"subject: {problem}.", None)
    elif kind in GCP_MEMBER_FIELDS:
        value = GCP_MEMBER_FIELDS[kind].get(args.props)
        for member in filter(_wildcard_workload_member, one_or_many(value)):
            report_violation(f"{member!r} grants to a set of workloads, not one Kubernetes service account.", None)


WORKLOAD_IDENTITY_EXACT_SUBJECT = ResourceValidationPolicy(
    name="workload-identity-exact-subject",
    description=(
        "Workload identity trusts exactly one service account: IAM web-identity trust with an exact :sub, "
        "Azure federated credentials and GCP workload-identity members without wildcards or sets."
    ),
    validate=validate_workload_identity_exact_subject,
    enforcement_level=EnforcementLevel.MANDATORY,
)
