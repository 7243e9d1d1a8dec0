"""What the operator's GKE node upgrade trigger needs, and the chart values that turn it on.

GKE upgrades node pools on its own schedule (a release channel requires it).
With the blue-green strategy it cordons every old node, then waits before
draining them. The operator (orchestratord, v26.36.0 and later) pulls the
cluster's UpgradeEvent notifications from a Pub/Sub subscription, polls the
node pool's blue-green phase through the GKE API, and in that wait rolls
each Materialize instance onto the new nodes the way any rollout goes,
instead of letting the drain evict environmentd and clusterd.

Sources: src/orchestratord/src/gcp_node_upgrade.rs (MaterializeInc/materialize
@ 199c99ce2eaf6fcd745f37a71cf89ef94d1674da), which reads the project of the GKE
API calls from the subscription's path, so the subscription lives in the
cluster's project; doc/user/content/self-managed-deployments/deployment-guidelines/
gke-node-pool-upgrades.md (@ fea6eb26561e17f865cdd4805f62e2ee9c8f1da3) for the
roles and the Helm values; gcp/modules/gke/main.tf of
MaterializeInc/materialize-terraform-self-managed for the same set in Terraform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.dataplane.operator import OPERATOR_NAMESPACE
from components.targets.gcp.context import GcpContext

# The operator chart's default serviceAccount.name (misc/helm-charts/operator/values.yaml).
OPERATOR_SERVICE_ACCOUNT = "orchestratord"
FIRST_OPERATOR_VERSION = "v26.36.0"
# Pull the notifications; read the node pools' upgrade phase.
SUBSCRIBER_ROLE = "roles/pubsub.subscriber"
CLUSTER_VIEWER_ROLE = "roles/container.clusterViewer"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
# Long enough to cover an operator restart; the operator's hourly poll of the
# GKE API catches an upgrade whose notification expired.
MESSAGE_RETENTION = "86400s"


def topic_name(ctx: GcpContext) -> str:
    return ctx.name("gke-upgrades")


def service_account_email(ctx: GcpContext) -> str:
    # The form Google gives every user-managed service account.
    return f"{ctx.name('operator')}@{ctx.project}.iam.gserviceaccount.com"


@dataclass(frozen=True)
class NodeUpgradeTriggerArgs:
    context: GcpContext
    cluster: gcp.container.Cluster
    cluster_name: str
    # Upgrade notifications are published here (the cluster's notification config).
    topic: gcp.pubsub.Topic
    watched_pool_names: Sequence[str]


class NodeUpgradeTrigger(pulumi.ComponentResource):
    """The subscription, the operator's Google service account and its roles."""

    subscription: gcp.pubsub.Subscription
    service_account: gcp.serviceaccount.Account
    operator_values: Mapping[str, Any]
    # The operator may only start once its identity can do what it needs.
    ready: Sequence[pulumi.Resource]

    def __init__(self, name: str, args: NodeUpgradeTriggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:NodeUpgradeTrigger", name, None, opts)
        ctx = args.context
        subscription_name = ctx.name("operator-gke-upgrades")

        self.subscription = gcp.pubsub.Subscription(
            f"{name}-subscription",
            name=subscription_name,
            project=ctx.project,
            topic=args.topic.id,
            message_retention_duration=MESSAGE_RETENTION,
            # Never expire from inactivity: upgrades can be weeks apart.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            labels=dict(ctx.labels),
            opts=ctx.options(self),
        )
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=ctx.name("operator"),
            project=ctx.project,
            display_name="Materialize operator: GKE node upgrade trigger",
            opts=ctx.options(self),
        )
        subscriber = gcp.pubsub.SubscriptionIAMMember(
            f"{name}-subscriber",
            project=ctx.project,
            subscription=self.subscription.name,
            role=SUBSCRIBER_ROLE,
            member=self.service_account.member,
            opts=ctx.options(self),
        )
        viewer = gcp.projects.IAMMember(
            f"{name}-cluster-viewer",
            project=ctx.project,
            role=CLUSTER_VIEWER_ROLE,
            member=self.service_account.member,
            opts=ctx.options(self),
        )
        # The workload pool exists once the cluster does.
        identity = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.service_account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=f"serviceAccount:{ctx.project}.svc.id.goog[{OPERATOR_NAMESPACE}/{OPERATOR_SERVICE_ACCOUNT}]",
            opts=ctx.options(self, pulumi.ResourceOptions(depends_on=[args.cluster])),
        )
        self.ready = (subscriber, viewer, identity)
        self.operator_values = {
            "operator": {
                "cloudProvider": {
                    "providers": {
                        "gcp": {
                            "enabled": True,
                            "nodeUpgradeRolloutTrigger": {
                                "enabled": True,
                                "notificationSubscription": f"projects/{ctx.project}/subscriptions/{subscription_name}",
                                "clusterName": args.cluster_name,
                                "clusterLocation": ctx.region,
                                # Only the pools environmentd and clusterd run on.
                                "watchedNodePools": list(args.watched_pool_names),
                            },
                        }
                    }
                }
            },
            "serviceAccount": {"annotations": {WORKLOAD_IDENTITY_ANNOTATION: service_account_email(ctx)}},
        }
        self.register_outputs({"subscription": self.subscription.name, "serviceAccount": self.service_account.email})
