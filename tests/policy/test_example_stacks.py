"""The example stacks comply with the pack: the targets' promised defaults and the policies agree.

Each stack in stacks/ is evaluated under mocks, as the offline plan does,
and every resource goes through the policy SDK's analyzer as in `pulumi up`:
resource policies on inputs, stack policies on (mocked) outputs, marked
production so that protection is checked too.

What the mocks cannot show: outputs a provider computes differently from
its inputs (the mocks echo inputs back, so e.g. a bucket policy is read as
written, not as AWS normalizes it), and values that are unknown during a
real preview, when the SDK skips a rule with an advisory note instead.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import pytest

from policy.materialize_policies import POLICIES
from policy.materialize_policies import fields as f
from tests.policy.harness import Analyzer, Diagnostic
from tools.offline.evaluate import Evaluation, evaluate
from tools.offline.mocks import Registered
from tools.plan import LICENSE_PLACEHOLDER
from tools.stack_files import read_stack_config, stack_names

# The aws target imports pulumi_aws.s3, which warns about its own deprecated V2 resources.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PRODUCTION = {"environment": "production"}
STACKS = stack_names()

# What each install stack must register for its checks to mean something;
# any other stack in stacks/ is still run through the pack.
CHECKED_TYPES = {
    "aws": {
        f.RDS_INSTANCE,
        f.RDS_PARAMETER_GROUP,
        f.S3_BUCKET,
        f.S3_PUBLIC_ACCESS_BLOCK,
        f.S3_ENCRYPTION,
        f.S3_BUCKET_POLICY,
        f.IAM_ROLE,
        f.HELM_RELEASE,
    },
    "gcp": {f.CLOUD_SQL_INSTANCE, f.CLOUD_SQL_DATABASE, f.GCS_BUCKET, f.GCS_BUCKET_IAM_MEMBER, f.HELM_RELEASE},
    "azure": {
        f.AZURE_POSTGRES_SERVER,
        f.AZURE_POSTGRES_CONFIGURATION,
        f.AZURE_STORAGE_ACCOUNT,
        f.AZURE_BLOB_CONTAINER,
        f.AZURE_FEDERATED_CREDENTIAL,
        f.HELM_RELEASE,
    },
    "local": {f.HELM_RELEASE},
    "byo": {f.HELM_RELEASE},
}


@cache
def evaluated(stack: str, **overrides: Any) -> Evaluation:
    values = read_stack_config(stack).values
    # As the offline plan does: an install stack gets a stand-in license key; a
    # control-plane support stack (materialize:support) has none to stand in for.
    license_key = {} if "support" in values else {"licenseKey": LICENSE_PLACEHOLDER}
    return evaluate({**values, **license_key, **overrides}, stack=stack)


def run(registered: list[Registered], tags: dict[str, str] | None = PRODUCTION) -> list[Diagnostic]:
    return Analyzer(POLICIES, stack_tags=tags).run(registered)


def test_every_target_has_an_example_stack_to_check() -> None:
    assert set(CHECKED_TYPES) <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_example_stack_complies_in_production(stack: str) -> None:
    evaluation = evaluated(stack)
    assert CHECKED_TYPES.get(stack, set()) <= evaluation.types()
    assert run(evaluation.registered) == []


def test_a_throwaway_aws_stack_may_go_unprotected_but_not_in_production() -> None:
    registered = evaluated("aws", protectData=False).registered
    assert run(registered, tags=None) == []
    flagged = {(d.policy, d.urn.rsplit("::", 1)[1]) for d in run(registered)}
    assert flagged == {
        ("protect-stateful-resources", "aws-database-postgres"),
        ("protect-stateful-resources", "aws-persist-bucket"),
    }
    assert all(d.mandatory for d in run(registered))


def without(registered: list[Registered], token: str) -> list[Registered]:
    return [r for r in registered if r.type != token]


def changed(registered: list[Registered], token: str, **inputs: Any) -> list[Registered]:
    return [dataclasses.replace(r, inputs={**r.inputs, **inputs}) if r.type == token else r for r in registered]


@pytest.mark.parametrize(
    ("stack", "edit", "policy"),
    [
        ("aws", lambda rs: without(rs, f.S3_ENCRYPTION), "s3-bucket-encrypted"),
        ("aws", lambda rs: without(rs, f.S3_BUCKET_POLICY), "s3-bucket-tls-only"),
        ("aws", lambda rs: without(rs, f.S3_PUBLIC_ACCESS_BLOCK), "s3-bucket-public-access-blocked"),
        ("aws", lambda rs: without(rs, f.RDS_PARAMETER_GROUP), "rds-force-ssl"),
        ("aws", lambda rs: changed(rs, f.RDS_INSTANCE, publiclyAccessible=True), "no-public-database-endpoint"),
        ("azure", lambda rs: without(rs, f.AZURE_POSTGRES_CONFIGURATION), "azure-postgres-secure-transport"),
        ("azure", lambda rs: changed(rs, f.AZURE_STORAGE_ACCOUNT, minimumTlsVersion="TLS1_0"), "tls-required"),
        (
            "gcp",
            lambda rs: changed(rs, f.GCS_BUCKET, publicAccessPrevention="inherited"),
            "bucket-public-access-blocked",
        ),
        (
            "byo",
            lambda rs: [
                dataclasses.replace(r, inputs={**r.inputs, "spec": {**r.inputs["spec"], "enableRbac": False}})
                if r.type.endswith(":Materialize")
                else r
                for r in rs
            ],
            "materialize-rbac-on-in-production",
        ),
    ],
)
def test_the_analyzer_catches_a_weakened_example_stack(stack: str, edit: Any, policy: str) -> None:
    found = run(edit(evaluated(stack).registered))
    assert {d.policy for d in found} == {policy}
    assert all(d.mandatory for d in found)
