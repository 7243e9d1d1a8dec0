"""The aws example stack and helpers to read its graph."""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache
from typing import Any

import pulumi
import pytest

from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation, evaluate, example_stack
from tools.offline import mocks as offline_mocks
from tools.offline.stable import stable_hex
from tools.stack_files import read_stack_config

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
NAT = "aws:ec2/natGateway:NatGateway"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RDS = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KMS_KEY = "aws:kms/key:Key"
RELEASE = "kubernetes:helm.sh/v3:Release"
JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
COMMAND = "command:local:Command"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
MATERIALIZE = "kubernetes:materialize.cloud/v1:Materialize"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


def aws_stack(**overrides: Any) -> dict[str, Any]:
    return example_stack("aws", **overrides)


def aws_settings(**overrides: Any) -> dict[str, Any]:
    """The example's `aws` settings with some keys changed."""
    return {**read_stack_config("aws").values["aws"], **overrides}


def assert_refused_before_anything_is_registered(config: dict[str, Any], message: str) -> None:
    """The stack fails with a RunError matching `message`, and no cloud or Kubernetes resource was registered."""
    monitor = offline_mocks.RecordingMonitor(offline_mocks.RealisticMocks())
    with pytest.raises(pulumi.RunError, match=message):
        evaluate(config, monitor=monitor)
    assert not [r for r in monitor.registered if r.type.startswith(("aws:", "kubernetes:"))]


def ending(evaluation: Evaluation, token: str, suffix: str) -> Registered:
    found = [r for r in evaluation.of_type(token) if r.name.endswith(suffix)]
    assert len(found) == 1, f"expected one {token} named *{suffix}, found {[r.name for r in found]}"
    return found[0]


def mock_id(registered: Registered) -> str:
    """The id the shared mocks give a cloud resource (tools/offline/mocks.py)."""
    return f"{registered.name}-{stable_hex(registered.type, registered.name, length=8)}"


def policy(registered: Registered, key: str = "policy") -> dict[str, Any]:
    return json.loads(registered.inputs[key])


def release(evaluation: Evaluation, chart: str) -> Registered:
    found = [r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == chart]
    assert len(found) == 1, chart
    return found[0]


@cache
def accepts_tags(token: str) -> bool:
    """Whether the AWS provider's resource for `token` takes a `tags` input."""
    _, module_path, class_name = token.split(":")
    module_name = module_path.split("/")[0]
    module = importlib.import_module("pulumi_aws" if module_name == "index" else f"pulumi_aws.{module_name}")
    return "tags" in inspect.signature(getattr(module, class_name)._internal_init).parameters
