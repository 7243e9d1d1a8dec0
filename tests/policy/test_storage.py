"""Storage rules: public access blocked, TLS only, encryption (S3 checked across the stack)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy.materialize_policies import fields as f
from policy.materialize_policies.encryption import S3_BUCKET_ENCRYPTED
from policy.materialize_policies.public_access import BUCKET_PUBLIC_ACCESS_BLOCKED, S3_BUCKET_PUBLIC_ACCESS_BLOCKED
from policy.materialize_policies.transport import S3_BUCKET_TLS_ONLY, TLS_REQUIRED, denies_plain_http
from tests.policy.harness import matches, policy_resource, stack_violations, violations

ALL_BLOCKED = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}
ARN = "arn:aws:s3:::persist-1a2b"
LOCKED_ACCOUNT = {
    "allowBlobPublicAccess": False,
    "publicNetworkAccess": "Enabled",
    "networkRuleSet": {"defaultAction": "Deny"},
    "minimumTlsVersion": "TLS1_2",
    "enableHttpsTrafficOnly": True,
}


@pytest.mark.parametrize(
    ("token", "props", "expected"),
    [
        (f.S3_PUBLIC_ACCESS_BLOCK, ALL_BLOCKED | {"bucket": "b"}, []),
        (f.S3_PUBLIC_ACCESS_BLOCK, ALL_BLOCKED | {"ignorePublicAcls": False}, ["not true: ignorePublicAcls."]),
        (f.S3_PUBLIC_ACCESS_BLOCK, {"bucket": "b", "blockPublicAcls": True}, ["blockPublicPolicy, ignorePublicAcls"]),
        (f.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, ALL_BLOCKED, []),
        (f.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, {}, ["not true: blockPublicAcls, blockPublicPolicy"]),
        (f.GCS_BUCKET, {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True}, []),
        (
            f.GCS_BUCKET,
            {"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": False},
            ["publicAccessPrevention is inherited", "uniformBucketLevelAccess is not true"],
        ),
        (f.GCS_BUCKET, {}, ["publicAccessPrevention is not set", "uniformBucketLevelAccess is not true"]),
        (f.GCS_BUCKET_IAM_MEMBER, {"member": "serviceAccount:persist@p.iam.gserviceaccount.com"}, []),
        (f.GCS_BUCKET_IAM_MEMBER, {"member": "allUsers"}, ["grants the bucket to allUsers"]),
        (f.GCS_BUCKET_IAM_MEMBER, {}, []),
        (f.GCS_BUCKET_IAM_BINDING, {"members": ["user:a@example.com", "allAuthenticatedUsers"]}, ["allAuthenticated"]),
        (f.AZURE_STORAGE_ACCOUNT, LOCKED_ACCOUNT, []),
        (f.AZURE_STORAGE_ACCOUNT, {"publicNetworkAccess": "Disabled"}, []),
        (f.AZURE_STORAGE_ACCOUNT, LOCKED_ACCOUNT | {"allowBlobPublicAccess": True}, ["allowBlobPublicAccess is true"]),
        (
            f.AZURE_STORAGE_ACCOUNT,
            LOCKED_ACCOUNT | {"networkRuleSet": {"defaultAction": "Allow"}},
            ["publicNetworkAccess is Enabled and networkRuleSet.defaultAction is not Deny"],
        ),
        (f.AZURE_STORAGE_ACCOUNT, {}, ["publicNetworkAccess is not set (Enabled)"]),
        (f.AZURE_BLOB_CONTAINER, {"publicAccess": "None"}, []),
        (f.AZURE_BLOB_CONTAINER, {}, []),
        (f.AZURE_BLOB_CONTAINER, {"publicAccess": "Blob"}, ["publicAccess is Blob"]),
    ],
)
def test_bucket_public_access_blocked(token: str, props: dict[str, Any], expected: list[str]) -> None:
    assert matches(violations(BUCKET_PUBLIC_ACCESS_BLOCKED, token, props), expected)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (LOCKED_ACCOUNT, []),
        (LOCKED_ACCOUNT | {"minimumTlsVersion": "TLS1_3"}, []),
        (LOCKED_ACCOUNT | {"minimumTlsVersion": "TLS1_1"}, ["minimumTlsVersion is TLS1_1"]),
        (LOCKED_ACCOUNT | {"enableHttpsTrafficOnly": False}, ["enableHttpsTrafficOnly is false"]),
        # Absent: Azure's minimum is TLS 1.0, but HTTPS-only is on by default.
        ({}, ["minimumTlsVersion is not set (TLS1_0)"]),
    ],
)
def test_azure_storage_requires_tls(props: dict[str, Any], expected: list[str]) -> None:
    assert matches(violations(TLS_REQUIRED, f.AZURE_STORAGE_ACCOUNT, props), expected)


def tls_only(arn: str = ARN, **changes: Any) -> str:
    statement = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    } | changes
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    ("policy", "denies"),
    [
        (tls_only(), True),
        (json.loads(tls_only()), True),  # a document given as an object, not JSON text
        (tls_only(Principal={"AWS": ["*"]}, Action="*", Condition={"Bool": {"aws:securetransport": False}}), True),
        (tls_only(Resource="arn:aws:s3:::*"), True),
        (tls_only(Effect="Allow"), False),
        (tls_only(Resource=ARN), False),  # the objects stay reachable over plain HTTP
        (tls_only(Action="s3:GetObject"), False),
        (tls_only(Principal={"AWS": "arn:aws:iam::123456789012:root"}), False),
        (tls_only(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (tls_only(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}), False),
        (tls_only("arn:aws:s3:::another-bucket"), False),
        ("not json", False),
        (None, False),
    ],
)
def test_bucket_policy_denies_plain_http(policy: Any, denies: bool) -> None:
    assert denies_plain_http(policy, ARN) is denies


def s3_stack(**companions: dict[str, Any]) -> list:
    """A bucket and, per token given, one companion that refers to it."""
    bucket = policy_resource(f.S3_BUCKET, "persist", {"bucket": "persist-1a2b", "arn": ARN})
    return [bucket] + [
        policy_resource(token, f"companion-{index}", props, {"bucket": [bucket]})
        for index, (token, props) in enumerate(companions.items())
    ]


ENCRYPTION = {"bucket": "persist-1a2b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}


@pytest.mark.parametrize(
    ("policy", "token", "good", "bad", "promise"),
    [
        (
            S3_BUCKET_ENCRYPTED,
            f.S3_ENCRYPTION,
            ENCRYPTION,
            {"bucket": "persist-1a2b", "rules": [{"bucketKeyEnabled": True}]},
            "default encryption (AES256, aws:kms, aws:kms:dsse)",
        ),
        (
            S3_BUCKET_PUBLIC_ACCESS_BLOCKED,
            f.S3_PUBLIC_ACCESS_BLOCK,
            ALL_BLOCKED,
            {"blockPublicAcls": True},
            "a public-access block (blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
            "restrictPublicBuckets all true)",
        ),
        (
            S3_BUCKET_TLS_ONLY,
            f.S3_BUCKET_POLICY,
            {"policy": tls_only()},
            {"policy": tls_only(Effect="Allow")},
            "a bucket policy denying every request without TLS (aws:SecureTransport false) to it and its objects",
        ),
    ],
)
def test_every_s3_bucket_has_its_companion(policy: Any, token: str, good: dict, bad: dict, promise: str) -> None:
    kind = token.rsplit(":", 1)[-1]
    assert stack_violations(policy, s3_stack(**{token: good})).messages == []
    assert stack_violations(policy, s3_stack(**{token: bad})).messages == [
        f"persist lacks {promise}: none of its 1 {kind} resource(s) provides it."
    ]
    assert stack_violations(policy, s3_stack()).messages == [
        f"persist lacks {promise}: no {kind} in this stack refers to it."
    ]
    # A companion of another bucket does not count.
    stranger = policy_resource(token, "stranger", good | {"bucket": "someone-else"})
    assert len(stack_violations(policy, [*s3_stack(), stranger]).messages) == 1


def test_a_companion_given_the_bucket_name_as_a_string_counts() -> None:
    bucket = s3_stack()[0]
    by_name = policy_resource(f.S3_ENCRYPTION, "sse", ENCRYPTION)
    assert stack_violations(S3_BUCKET_ENCRYPTED, [bucket, by_name]).messages == []


def test_an_account_wide_public_access_block_covers_every_bucket() -> None:
    account = policy_resource(f.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, "account", ALL_BLOCKED)
    assert stack_violations(S3_BUCKET_PUBLIC_ACCESS_BLOCKED, [*s3_stack(), account]).messages == []
    partial = policy_resource(f.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, "account", {"blockPublicAcls": True})
    assert len(stack_violations(S3_BUCKET_PUBLIC_ACCESS_BLOCKED, [*s3_stack(), partial]).messages) == 1


def test_a_tls_only_policy_for_the_wrong_arn_does_not_count() -> None:
    policy = {"policy": tls_only("arn:aws:s3:::another-bucket")}
    assert len(stack_violations(S3_BUCKET_TLS_ONLY, s3_stack(**{f.S3_BUCKET_POLICY: policy})).messages) == 1
