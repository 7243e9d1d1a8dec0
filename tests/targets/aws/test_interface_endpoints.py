"""Issue 15 item 3: optional interface VPC endpoints, on the registered graph."""

from __future__ import annotations

import pytest

from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation, evaluate
from tests.targets.aws.stack import (
    ENDPOINT,
    INGRESS_RULE,
    SECURITY_GROUP,
    SUBNET,
    VPC,
    assert_refused_before_anything_is_registered,
    aws_settings,
    aws_stack,
    ending,
    mock_id,
)

SERVICES = ["sts", "ecr.api", "ecr.dkr", "ec2", "elasticloadbalancing", "logs"]


@pytest.fixture(scope="module")
def with_endpoints() -> Evaluation:
    return evaluate(aws_stack(aws=aws_settings(interfaceEndpoints=SERVICES)))


def _interface(evaluation: Evaluation) -> list[Registered]:
    return [e for e in evaluation.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]


def test_none_by_default_each_costs_per_zone_hour() -> None:
    evaluation = evaluate(aws_stack())
    assert _interface(evaluation) == []
    assert not [g for g in evaluation.of_type(SECURITY_GROUP) if g.name.endswith("-endpoints")]


def test_each_service_gets_an_endpoint_with_private_dns_in_every_private_subnet(with_endpoints: Evaluation) -> None:
    endpoints = _interface(with_endpoints)
    assert sorted(e.inputs["serviceName"] for e in endpoints) == sorted(
        f"com.amazonaws.us-east-1.{s}" for s in SERVICES
    )
    private = sorted(mock_id(s) for s in with_endpoints.of_type(SUBNET) if "-private-" in s.name)
    assert len(private) == 3
    group = ending(with_endpoints, SECURITY_GROUP, "-network-endpoints")
    vpc = mock_id(with_endpoints.one(VPC))
    for endpoint in endpoints:
        assert endpoint.inputs["privateDnsEnabled"] is True, endpoint.name
        assert sorted(endpoint.inputs["subnetIds"]) == private, endpoint.name
        assert endpoint.inputs["securityGroupIds"] == [mock_id(group)], endpoint.name
        assert endpoint.inputs["vpcId"] == vpc
    # Private DNS answers only in a VPC with DNS support and hostnames.
    assert with_endpoints.one(VPC).inputs["enableDnsSupport"] is True
    assert with_endpoints.one(VPC).inputs["enableDnsHostnames"] is True
    # The S3 gateway endpoint stays as it was.
    assert [e.inputs["serviceName"] for e in with_endpoints.of_type(ENDPOINT) if e not in endpoints] == [
        "com.amazonaws.us-east-1.s3"
    ]


def test_the_endpoints_admit_https_from_the_vpc_only(with_endpoints: Evaluation) -> None:
    group = ending(with_endpoints, SECURITY_GROUP, "-network-endpoints")
    rules = [r for r in with_endpoints.of_type(INGRESS_RULE) if r.inputs["securityGroupId"] == mock_id(group)]
    assert [
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules
    ] == [("tcp", 443, 443, "10.0.0.0/16")]
    assert "egress" not in group.inputs and "ingress" not in group.inputs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"interfaceEndpoints": ["sts", "s3"]},
            r"materialize:aws\.interfaceEndpoints\[1\]: 's3' is not allowed: Input should be 'ec2', 'ecr\.api'",
        ),
        (
            {"interfaceEndpoints": ["sts", "sts"]},
            r"""materialize:aws\.interfaceEndpoints: \["sts", "sts"\] is not allowed: 'sts' listed twice""",
        ),
        (
            {
                "interfaceEndpoints": ["sts"],
                "existingVpcId": "vpc-0123456789abcdef0",
                "existingPrivateSubnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
            },
            r"aws\.interfaceEndpoints: only made in the new VPC this stack creates",
        ),
    ],
)
def test_bad_endpoint_settings_are_refused_before_anything_is_registered(
    overrides: dict[str, object], message: str
) -> None:
    assert_refused_before_anything_is_registered(aws_stack(aws=aws_settings(**overrides)), message)
