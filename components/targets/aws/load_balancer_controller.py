"""The AWS Load Balancer Controller, which turns each instance's LoadBalancer
Services into Network Load Balancers, and the Service annotations that hand
Services to it.

It runs with its own IRSA role (kube-system:aws-load-balancer-controller) and
is the platform's `load_balancer_ready`: Services are created once it runs, and
on destroy they are deleted while it still runs, so it removes each NLB, and
the NLB's network interfaces leave the subnets, before the subnets and the VPC
are deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.helm_releases import RELEASE_POLICY
from components.settings import Placement
from components.targets.aws.cluster import Cluster
from components.targets.aws.context import AwsContext
from components.targets.aws.iam import irsa_trust_policy
from components.targets.aws.load_balancer_policy import policy_document
from components.targets.aws.pins import (
    LOAD_BALANCER_CONTROLLER_APP_VERSION,
    LOAD_BALANCER_CONTROLLER_CHART,
    LOAD_BALANCER_CONTROLLER_REPO,
    LOAD_BALANCER_CONTROLLER_VERSION,
)

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
# balancerd answers readiness on its internal HTTP port (the operator's
# balancerd_internal_http_port, 8080) at /api/readyz; Materialize's Terraform
# health-checks its NLB targets the same way.
HEALTH_CHECK_PORT = "8080"
HEALTH_CHECK_PATH = "/api/readyz"

_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"

# On a namespace, this label has the controller's pod webhook (mpod.elbv2.k8s.aws) add a
# readiness gate to each new pod behind a target-type ip load balancer: the pod is Ready
# only once its NLB target is healthy, so a rolling update keeps the old pods until the
# new ones take traffic (docs/deploy/pod_readiness_gate.md and
# pkg/inject/pod_readiness/pod_readiness_gate.go at v3.5.0, 11eb202c; the same label at
# v2.11.0; the chart's webhook.yaml namespaceSelector at chart 3.5.0).
POD_READINESS_GATE_LABELS: Mapping[str, str] = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}


# The console serves HTTPS (its certificate comes from the instance's issuer)
# on its own port and answers `/` when up.
CONSOLE_HEALTH_CHECK_PATH = "/"


def service_annotations(
    scheme: str,
    health_protocol: str = "http",
    health_port: str = HEALTH_CHECK_PORT,
    health_path: str = HEALTH_CHECK_PATH,
) -> dict[str, str]:
    """Annotations for a Service the controller provisions as an NLB with `scheme`."""
    return {
        # "external" hands the Service to this controller, never the legacy cloud provider.
        f"{_PREFIX}type": "external",
        # Straight to pod IPs: no NodePort hop, and health checks reach the pod itself.
        f"{_PREFIX}nlb-target-type": "ip",
        f"{_PREFIX}scheme": scheme,
        f"{_PREFIX}healthcheck-protocol": health_protocol,
        f"{_PREFIX}healthcheck-port": health_port,
        f"{_PREFIX}healthcheck-path": health_path,
        # Clients' own addresses reach the pods, so loadBalancerSourceRanges
        # and network policies see who connects.
        f"{_PREFIX}target-group-attributes": "preserve_client_ip.enabled=true",
        f"{_PREFIX}attributes": "load_balancing.cross_zone.enabled=true",
    }


INTERNAL_ANNOTATIONS: Mapping[str, str] = service_annotations("internal")
PUBLIC_ANNOTATIONS: Mapping[str, str] = service_annotations("internet-facing")
# The console's targets are checked over HTTPS on the traffic port, not on balancerd's readiness endpoint.
CONSOLE_ANNOTATIONS: Mapping[str, Mapping[str, str]] = {
    exposure: service_annotations(scheme, "https", "traffic-port", CONSOLE_HEALTH_CHECK_PATH)
    for exposure, scheme in (("internal", "internal"), ("public", "internet-facing"))
}


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    context: AwsContext
    cluster: Cluster
    vpc_id: pulumi.Input[str]
    system_nodes: Placement
    # Nodes (and DNS) the controller's pods need.
    after: Sequence[pulumi.Resource]


class LoadBalancerController(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:LoadBalancerController", name, None, opts)
        context, cluster = args.context, args.cluster
        options = context.options(self)
        policy = aws.iam.Policy(
            f"{name}-policy",
            description="AWS Load Balancer Controller " + LOAD_BALANCER_CONTROLLER_APP_VERSION,
            policy=policy_document(context.partition),
            tags=context.tagged(f"{name}-policy"),
            opts=options,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=irsa_trust_policy(
                cluster.oidc_provider_arn, cluster.oidc_issuer_url, NAMESPACE, SERVICE_ACCOUNT
            ),
            description="AWS Load Balancer Controller (IRSA)",
            tags=context.tagged(f"{name}-role"),
            opts=options,
        )
        attachment = aws.iam.RolePolicyAttachment(f"{name}-policy", role=role.name, policy_arn=policy.arn, opts=options)

        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="aws-load-balancer-controller",
            chart=LOAD_BALANCER_CONTROLLER_CHART,
            version=LOAD_BALANCER_CONTROLLER_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LOAD_BALANCER_CONTROLLER_REPO),
            namespace=NAMESPACE,
            values={
                "clusterName": cluster.name,
                # Given, not looked up from instance metadata (which pods cannot reach).
                "region": context.region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "serviceAccount": {
                    "create": True,
                    "name": SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                },
                # The stack's tags on every load balancer, target group and security group it creates.
                "defaultTags": dict(context.tags),
                # Off: the chart's Service webhook (templates/webhook.yaml, mservice.elbv2.k8s.aws)
                # intercepts every Service create in the cluster and fails closed when the
                # controller is down, only to claim LoadBalancer Services for it; ours
                # already name it (`aws-load-balancer-type: external`).
                "enableServiceMutatorWebhook": False,
                # The pod webhook (mpod.elbv2.k8s.aws) adds readiness gates to pods of namespaces
                # labelled POD_READINESS_GATE_LABELS (the instance namespaces). Ignore, the chart's default since
                # 3.x (values.yaml podMutatorWebhookConfig, templates/webhook.yaml at chart 3.5.0;
                # 1.11.0 hard-coded Fail): with the controller down, pods are created without gates
                # instead of every pod of an instance namespace being refused. Set so a chart
                # default cannot flip it unnoticed.
                "podMutatorWebhookConfig": {"failurePolicy": "Ignore"},
                # Reuse the webhook certificate on upgrades (the chart's default until 3.x): a
                # fresh one per `helm upgrade` races the API server's caBundle against the pods'
                # certificate. The Release runs Helm against the cluster, so the chart's lookup works.
                "keepTLSSecret": True,
                **args.system_nodes.helm_values(),
            },
            **RELEASE_POLICY,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=cluster.provider,
                depends_on=[attachment, *args.after],
                deleted_with=cluster.eks,
            ),
        )
        self.register_outputs({"roleArn": role.arn})
