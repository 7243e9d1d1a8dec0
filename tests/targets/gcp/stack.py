"""The gcp example stack and helpers to read its graph."""

from __future__ import annotations

from typing import Any

from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation, example_stack

PROJECT_ID = "my-materialize-project"
REGION = "us-central1"

NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
PEERING = "gcp:servicenetworking/connection:Connection"
FIREWALL = "gcp:compute/firewall:Firewall"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
SQL_DATABASE = "gcp:sql/database:Database"
SQL_USER = "gcp:sql/user:User"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
RANDOM_ID = "random:index/randomId:RandomId"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GCP_PROVIDER = "pulumi:providers:gcp"
K8S_PROVIDER = "pulumi:providers:kubernetes"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
RELEASE = "kubernetes:helm.sh/v3:Release"
MATERIALIZE = "kubernetes:materialize.cloud/v1:Materialize"


def gcp_stack(**overrides: Any) -> dict[str, Any]:
    return example_stack("gcp", **overrides)


def with_gcp(**gcp: Any) -> dict[str, Any]:
    """The example stack with some gcp keys changed."""
    config = gcp_stack()
    return {**config, "gcp": {**config["gcp"], **gcp}}


def pool(evaluation: Evaluation, name: str) -> Registered:
    found = [r for r in evaluation.of_type(NODE_POOL) if r.inputs["name"] == f"materialize-{name}"]
    assert len(found) == 1, [r.inputs["name"] for r in evaluation.of_type(NODE_POOL)]
    return found[0]


def descendants(evaluation: Evaluation, urn: str) -> set[str]:
    """A resource and everything registered under it."""
    found = {urn}
    for resource in evaluation.registered:
        if resource.parent in found:
            found.add(resource.urn)
    return found
