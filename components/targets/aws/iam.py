"""IAM policy documents, built as data and serialized in one place."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

STS_AUDIENCE = "sts.amazonaws.com"


def document(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust_policy(service: str, conditions: Mapping[str, Any] | None = None) -> str:
    """Who may assume a role: one AWS service (eks, ec2, ...), on `conditions` when given."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if conditions:
        statement["Condition"] = dict(conditions)
    return document([statement])


def service_account_subject(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def irsa_trust_policy(
    provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str], namespace: str, name: str
) -> pulumi.Output[str]:
    """A role exactly one Kubernetes service account of this cluster may assume (IRSA).

    StringEquals, never StringLike: a wildcard in the subject would hand the
    role to every service account that matches it.
    """

    def build(args: list[str]) -> str:
        arn, url = args
        issuer = url.removeprefix("https://")
        return document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": service_account_subject(namespace, name),
                            f"{issuer}:aud": STS_AUDIENCE,
                        }
                    },
                }
            ]
        )

    return pulumi.Output.all(provider_arn, issuer_url).apply(build)
