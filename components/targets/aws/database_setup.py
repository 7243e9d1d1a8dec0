"""In-cluster home of the per-instance database Jobs: a namespace and the RDS
master credentials as a Secret they read (never as plain env values).

RDS creates one database; every instance needs its own, so they are made
from inside the cluster (the only place that reaches the private RDS
endpoint), by the idempotent Jobs in metadata_database.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.settings import Placement
from components.targets.aws.cluster import Cluster
from components.targets.aws.database import Database

NAMESPACE = "materialize-aws"
ADMIN_SECRET = "rds-master"
LABELS = {"app.kubernetes.io/part-of": "materialize-aws", "app.kubernetes.io/managed-by": "pulumi"}


@dataclass(frozen=True)
class DatabaseSetupArgs:
    cluster: Cluster
    database: Database
    placement: Placement
    # Nodes and DNS: what a Job's pod needs to run at all.
    platform_ready: list[pulumi.Resource]


class DatabaseSetup(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    admin_secret: k8s.core.v1.Secret
    cluster: Cluster
    database: Database
    placement: Placement
    platform_ready: list[pulumi.Resource]

    def __init__(self, name: str, args: DatabaseSetupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:DatabaseSetup", name, None, opts)
        self.cluster, self.database = args.cluster, args.database
        self.placement, self.platform_ready = args.placement, args.platform_ready
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {**LABELS, "pod-security.kubernetes.io/enforce": "restricted"},
            },
            opts=self.options(self, depends_on=args.platform_ready),
        )
        self.admin_secret = k8s.core.v1.Secret(
            f"{name}-master",
            metadata={"name": ADMIN_SECRET, "namespace": NAMESPACE, "labels": LABELS},
            type="Opaque",
            string_data={
                "host": args.database.address,
                "port": str(args.database.port),
                "username": args.database.master_user,
                "password": args.database.master_password,
            },
            opts=pulumi.ResourceOptions.merge(
                self.options(self, depends_on=[self.namespace]),
                pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"]),
            ),
        )
        self.register_outputs({"namespace": NAMESPACE})

    def options(self, parent: pulumi.Resource, *, depends_on: list[pulumi.Resource]) -> pulumi.ResourceOptions:
        """In-cluster objects: this cluster's provider, and gone with the cluster."""
        return pulumi.ResourceOptions(
            parent=parent, provider=self.cluster.provider, depends_on=depends_on, deleted_with=self.cluster.eks
        )
