"""Workload identity subjects, secrets in Helm values, and protect in production."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from policy.materialize_policies import fields as f
from policy.materialize_policies.helm_values import NO_SECRETS_IN_HELM_VALUES, secret_key, secrets_in_values
from policy.materialize_policies.identity import WORKLOAD_IDENTITY_EXACT_SUBJECT, trust_policy_problems
from policy.materialize_policies.protection import PROTECT_STATEFUL_RESOURCES, STATEFUL_TYPES
from policy.materialize_policies.rbac import MATERIALIZE_TYPES, RBAC_ON_IN_PRODUCTION
from tests.policy.harness import matches, violations

ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF"
SUBJECT = "system:serviceaccount:materialize-main:main"


def irsa(condition: dict[str, Any] | None, **changes: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
    } | changes
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def exact(subject: Any = SUBJECT, operator: str = "StringEquals") -> dict[str, Any]:
    return {operator: {f"{ISSUER}:sub": subject, f"{ISSUER}:aud": "sts.amazonaws.com"}}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (irsa(exact()), []),
        (irsa(exact([SUBJECT])), []),
        (irsa(exact(operator="StringLike")), []),  # a pattern without wildcards matches one subject
        (irsa(exact(operator="ForAnyValue:StringEqualsIfExists")), []),
        (irsa(exact("system:serviceaccount:materialize-main:*", "StringLike")), ["is a StringLike pattern"]),
        (irsa(exact("system:serviceaccount:materialize-?:main", "StringLike")), ["is a StringLike pattern"]),
        (irsa(exact("system:serviceaccount:materialize-main")), ["is not system:serviceaccount:<namespace>:<name>"]),
        (irsa({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}), ["has no :sub condition"]),
        (irsa(None), ["has no :sub condition"]),
        (irsa({"StringNotEquals": {f"{ISSUER}:sub": SUBJECT}}), ["has no :sub condition"]),
        (irsa(None, Action=["sts:*"]), ["has no :sub condition"]),
        # Not web identity: a service's trust has no subject to check.
        (irsa(None, Principal={"Service": "eks.amazonaws.com"}, Action="sts:AssumeRole"), []),
        (irsa(None, Effect="Deny"), []),
        ("not json", []),
    ],
)
def test_iam_role_trust_names_one_service_account(policy: str, expected: list[str]) -> None:
    assert matches(trust_policy_problems(policy), expected)


def identity_violations(token: str, props: dict[str, Any]) -> list[str]:
    return violations(WORKLOAD_IDENTITY_EXACT_SUBJECT, token, props)


def test_iam_role_rule_reports_each_problem_and_ignores_an_absent_policy() -> None:
    assert identity_violations(f.IAM_ROLE, {"assumeRolePolicy": irsa(exact())}) == []
    assert identity_violations(f.IAM_ROLE, {"assumeRolePolicy": irsa(None)}) == [
        "assumeRolePolicy: a web-identity statement has no :sub condition, so every identity of the issuer matches."
    ]
    assert identity_violations(f.IAM_ROLE, {}) == []


@pytest.mark.parametrize(
    ("subject", "violates"),
    [
        (SUBJECT, False),
        ("repo:materialize/deploy:ref:refs/heads/main", False),
        ("system:serviceaccount:ns:*", True),
        ("system:serviceaccount:ns", True),
        ("", True),
        (None, True),
    ],
)
def test_azure_federated_credential_subject(subject: str | None, violates: bool) -> None:
    props = {"issuer": "https://oidc.example", "audiences": ["api://AzureADTokenExchange"]}
    if subject is not None:
        props["subject"] = subject
    assert bool(identity_violations(f.AZURE_FEDERATED_CREDENTIAL, props)) is violates


POOL = "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p.svc.id.goog"


@pytest.mark.parametrize(
    ("token", "props", "violates"),
    [
        (f.GCP_SERVICE_ACCOUNT_IAM_MEMBER, {"member": "serviceAccount:p.svc.id.goog[materialize-main/main]"}, False),
        (f.GCP_PROJECT_IAM_MEMBER, {"member": f"{POOL}/subject/ns/materialize-main/sa/main"}, False),
        (f.GCP_PROJECT_IAM_MEMBER, {"member": "serviceAccount:nodes@p.iam.gserviceaccount.com"}, False),
        (f.GCP_SERVICE_ACCOUNT_IAM_MEMBER, {"member": "serviceAccount:p.svc.id.goog[materialize-main/*]"}, True),
        (f.GCS_BUCKET_IAM_MEMBER, {"member": "principalSet" + POOL.removeprefix("principal") + "/namespace/x"}, True),
        (f.GCP_PROJECT_IAM_BINDING, {"members": ["user:a@example.com", "principalSet" + POOL[9:] + "/*"]}, True),
        (f.GCS_BUCKET_IAM_BINDING, {}, False),
    ],
)
def test_gcp_workload_identity_members(token: str, props: dict[str, Any], violates: bool) -> None:
    assert bool(identity_violations(token, props)) is violates


def test_an_unknown_value_is_left_to_the_sdk_during_preview() -> None:
    # The SDK turns this error into an advisory "cannot run during preview" note.
    with pytest.raises(UnknownValueError):
        identity_violations(f.IAM_ROLE, {"assumeRolePolicy": UNKNOWN_STRING_VALUE})


@pytest.mark.parametrize(
    "key",
    ["password", "adminPassword", "license_key", "licenseKey", "apiToken", "client-secret", "privateKey", "PASSWD"],
)
def test_secret_keys(key: str) -> None:
    assert secret_key(key)


@pytest.mark.parametrize(
    "key", ["secretName", "existingSecret", "passwordSecretRef", "tokenPath", "replicas", "tokenSecretNamespace"]
)
def test_keys_that_reference_a_secret_are_not_secrets(key: str) -> None:
    assert not secret_key(key)


def test_secrets_in_values_names_places_never_values() -> None:
    values = {
        "operator": {"args": {"licenseKey": "eyJhbGciOi-not-real", "installV1CRD": True}},
        "tls": {"secretName": "materialize-tls"},
        "backends": [{"url": "postgres://mz:hunter2@db:5432/mz"}, {"url": "postgres://db:5432/mz"}],
        "persist": "s3://AKIA0000:c2VjcmV0@bucket/prefix?region=us-east-1",
        "sidecar": {"key": "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----"},
        "auth": {"password": "", "token": 0, "tokenEnabled": False},
        "endpoint": "https://storage.googleapis.com:443/path",
    }
    found = secrets_in_values(values)
    assert found == [
        "operator.args.licenseKey (its key names a credential)",
        "backends[0].url (a URL with a password)",
        "persist (a URL with a password)",
        "sidecar.key (a private key)",
        "auth.token (its key names a credential)",
    ]
    assert not any("hunter2" in place or "not-real" in place for place in found)


@pytest.mark.parametrize("token", [f.HELM_RELEASE, f.HELM_CHART_V4])
def test_helm_rule_reads_the_values_of_releases_and_charts(token: str) -> None:
    assert violations(NO_SECRETS_IN_HELM_VALUES, token, {"values": {"db": {"password": "pw"}}}) == [
        "values.db.password (its key names a credential): put it in a Kubernetes Secret "
        "and reference that from the chart."
    ]
    clean = violations(NO_SECRETS_IN_HELM_VALUES, token, {"values": {"db": {"passwordSecretName": "db"}}})
    absent = violations(NO_SECRETS_IN_HELM_VALUES, token, {"chart": "x"})
    assert clean == absent == []


def protect_violations(token: str, *, protect: bool, config: Any = None, tags: Any = None) -> list[str]:
    return violations(PROTECT_STATEFUL_RESOURCES, token, {}, protect=protect, config=config, stack_tags=tags)


@pytest.mark.parametrize("token", sorted(STATEFUL_TYPES))
def test_stateful_resources_are_protected_in_production(token: str) -> None:
    production = {"environment": "production"}
    assert protect_violations(token, protect=True, tags=production) == []
    assert len(protect_violations(token, protect=False, tags=production)) == 1
    assert len(protect_violations(token, protect=False, config={"production": True})) == 1
    # Not production (no tag, no config, or config false): throwaway stacks may go unprotected.
    assert protect_violations(token, protect=False) == []
    assert protect_violations(token, protect=False, config={"production": False}) == []
    assert protect_violations(token, protect=False, tags={"environment": "staging"}) == []


def test_the_production_tag_is_read_loosely_and_config_cannot_unmark_it() -> None:
    assert len(protect_violations(f.RDS_INSTANCE, protect=False, tags={"environment": " Production "})) == 1
    tagged = protect_violations(
        f.RDS_INSTANCE, protect=False, config={"production": False}, tags={"environment": "production"}
    )
    assert len(tagged) == 1


def test_stateless_resources_need_no_protect_in_production() -> None:
    for token in (f.HELM_RELEASE, f.IAM_ROLE, f.RDS_PARAMETER_GROUP, f.AZURE_POSTGRES_CONFIGURATION):
        assert protect_violations(token, protect=False, tags={"environment": "production"}) == []


def rbac_violations(token: str, spec: dict[str, Any], **options: Any) -> list[str]:
    return violations(RBAC_ON_IN_PRODUCTION, token, {"spec": spec}, **options)


@pytest.mark.parametrize("token", sorted(MATERIALIZE_TYPES))
def test_materialize_instances_have_rbac_on_in_production(token: str) -> None:
    production = {"environment": "production"}
    assert rbac_violations(token, {"enableRbac": True}, stack_tags=production) == []
    assert len(rbac_violations(token, {"enableRbac": False}, stack_tags=production)) == 1
    # The CRD's default is off: an absent field is off too.
    assert len(rbac_violations(token, {}, config={"production": True})) == 1
    # A throwaway stack may turn it off.
    assert rbac_violations(token, {"enableRbac": False}) == []
    assert rbac_violations(f.HELM_RELEASE, {"enableRbac": False}, stack_tags=production) == []
