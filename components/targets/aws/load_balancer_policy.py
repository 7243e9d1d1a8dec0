"""The IAM policy the AWS Load Balancer Controller v3.5.0 needs.

Upstream publishes it with each release (kubernetes-sigs/aws-load-balancer-
controller, docs/install/iam_policy.json at v3.5.0, commit
11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4); it is restated here as data,
statement by statement, and must move with pins.LOAD_BALANCER_CONTROLLER_VERSION:
tests/targets/aws/test_load_balancer_controller.py compares the document with
that file (pinned by SHA-256 in tests/support/chart_values.py). From v2.11.0
the release added ec2:DescribeIpamPools, ec2:DescribeRouteTables,
elasticloadbalancing:ModifyIpPools and elasticloadbalancing:SetRulePriorities.
Most write actions only apply to resources the controller tagged itself
(elbv2.k8s.aws/cluster).
"""

from __future__ import annotations

from typing import Any

from components.targets.aws.iam import document

_TAG = "elbv2.k8s.aws/cluster"
_OWN_REQUEST = {"Null": {f"aws:RequestTag/{_TAG}": "false"}}
_OWN_RESOURCE = {"Null": {f"aws:ResourceTag/{_TAG}": "false"}}
_RETAG_OWN = {"Null": {f"aws:RequestTag/{_TAG}": "true", f"aws:ResourceTag/{_TAG}": "false"}}
_BALANCERS = [
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
]


def _allow(actions: list[str], resource: Any = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


STATEMENTS: list[dict[str, Any]] = [
    _allow(
        ["iam:CreateServiceLinkedRole"],
        condition={"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
    ),
    _allow(
        [
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
            "ec2:GetCoipPoolUsage",
            "ec2:DescribeCoipPools",
            "ec2:GetSecurityGroupsForVpc",
            "ec2:DescribeIpamPools",
            "ec2:DescribeRouteTables",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeListenerCertificates",
            "elasticloadbalancing:DescribeSSLPolicies",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTrustStores",
            "elasticloadbalancing:DescribeListenerAttributes",
            "elasticloadbalancing:DescribeCapacityReservation",
        ]
    ),
    _allow(
        [
            "cognito-idp:DescribeUserPoolClient",
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "iam:ListServerCertificates",
            "iam:GetServerCertificate",
            "waf-regional:GetWebACL",
            "waf-regional:GetWebACLForResource",
            "waf-regional:AssociateWebACL",
            "waf-regional:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "shield:GetSubscriptionState",
            "shield:DescribeProtection",
            "shield:CreateProtection",
            "shield:DeleteProtection",
        ]
    ),
    _allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]),
    _allow(["ec2:CreateSecurityGroup"]),
    _allow(
        ["ec2:CreateTags"],
        "arn:aws:ec2:*:*:security-group/*",
        {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, **_OWN_REQUEST},
    ),
    _allow(["ec2:CreateTags", "ec2:DeleteTags"], "arn:aws:ec2:*:*:security-group/*", _RETAG_OWN),
    _allow(
        ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
        condition=_OWN_RESOURCE,
    ),
    _allow(
        ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], condition=_OWN_REQUEST
    ),
    _allow(
        [
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
        ]
    ),
    _allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], _BALANCERS, _RETAG_OWN),
    _allow(
        ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        [
            "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
            "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
            "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
            "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
        ],
    ),
    _allow(
        [
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:ModifyCapacityReservation",
            "elasticloadbalancing:ModifyIpPools",
        ],
        condition=_OWN_RESOURCE,
    ),
    _allow(
        ["elasticloadbalancing:AddTags"],
        _BALANCERS,
        {
            "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
            **_OWN_REQUEST,
        },
    ),
    _allow(
        ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    ),
    _allow(
        [
            "elasticloadbalancing:SetWebAcl",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:AddListenerCertificates",
            "elasticloadbalancing:RemoveListenerCertificates",
            "elasticloadbalancing:ModifyRule",
            "elasticloadbalancing:SetRulePriorities",
        ]
    ),
]


def policy_document(partition: str) -> str:
    """The policy, with ARNs in the stack's partition (aws, aws-cn, aws-us-gov)."""
    return document(STATEMENTS).replace('"arn:aws:', f'"arn:{partition}:')
