"""Cluster DNS that answers for cluster.local without caching.

Why: during a rollout environmentd and clusterd come back on new pod IPs
under the same names; a DNS answer cached for 30s (the stock TTL and cache of
kube-dns/CoreDNS on EKS, GKE and AKS) keeps clients dialling the old pod.
Materialize's own Terraform therefore serves cluster.local with TTL 0 and no
cache on every cloud (kubernetes/modules/coredns/main.tf, and each cloud's
examples/simple/main.tf, materialize-terraform-self-managed at 187f61a), and
caps any node-local cache for the cluster zones at 1s
(kubernetes/modules/node-local-dns/README.md, same commit).

How, per cloud, the safest supported way:
- EKS: the managed coredns add-on takes a whole Corefile in its
  configurationValues (`corefile` key of the add-on's configuration schema,
  `aws eks describe-addon-configuration --addon-name coredns`), so EKS keeps
  owning CoreDNS: `eks_coredns_configuration()`.
- GKE: kube-dns has no TTL or cache setting (its ConfigMap takes stub domains
  and upstreams only). Google documents running your own DNS Deployment
  labelled `k8s-app=kube-dns` behind the stock kube-dns Service and scaling
  kube-dns and kube-dns-autoscaler to zero
  (https://cloud.google.com/kubernetes-engine/docs/how-to/custom-kube-dns);
  kube-dns's addon manifest leaves `replicas` out so the addon manager does
  not reconcile it back. That is what `ClusterDns` does, and what
  Materialize's GCP example does (coredns_deployment_to_scale_down=kube-dns).
- AKS: as Materialize's Azure example (AKS's coredns-custom ConfigMap only
  adds `.server` blocks or plugins inside the default block, whose `cache 30`
  cannot be disabled that way: Azure/AKS#3661, cited in the module above);
  `ClusterDns` scaling down `coredns` and `coredns-autoscaler`.

Unlike Materialize's module (which scales the stock DNS down first), the stock
Deployments are scaled down only after this CoreDNS is ready, so the cluster
is never without DNS. Deleting this component deletes the scale-down patches
first; a Patch resource's delete drops its server-side-apply field manager's
fields, so `replicas` should fall back to the stock value (not yet checked on
a live cluster: if the stock DNS stays at zero, scale it up by hand, as
Materialize's module README says for its own removal). The CoreDNS image is
the program's to update (GKE's page above says the same of custom DNS).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.settings import Placement

NAMESPACE = "kube-system"
CLUSTER_DOMAIN = "cluster.local"
# Materialize's module default (coredns_version 1.11.1), pinned.
COREDNS_IMAGE = "docker.io/coredns/coredns:1.11.1"
NAME = "coredns-materialize"
# The stock kube-dns Service selects this label on every cloud; our pods carry
# it so that Service (and its ClusterIP in every pod's resolv.conf) reaches them.
DNS_LABELS = {"k8s-app": "kube-dns", "app.kubernetes.io/managed-by": "materialize-pulumi"}
# Stock DNS Deployments to stand down, autoscaler first so it cannot scale
# the other one back up.
GKE_STOCK_DNS = ("kube-dns-autoscaler", "kube-dns")
AKS_STOCK_DNS = ("coredns-autoscaler", "coredns")


def zero_ttl_corefile(cluster_domain: str = CLUSTER_DOMAIN) -> str:
    """A Corefile serving the cluster zone with TTL 0 and nothing cached for it.

    Other names are still cached (30s) and forwarded to the node's resolvers,
    as the stock configurations do.
    """
    return "\n".join(
        [
            ".:53 {",
            "    errors",
            "    health {",
            "        lameduck 5s",
            "    }",
            "    ready",
            # `ttl` first in the block, as Materialize's module notes.
            f"    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{",
            "        ttl 0",
            "        pods insecure",
            "        fallthrough in-addr.arpa ip6.arpa",
            "    }",
            "    prometheus :9153",
            "    forward . /etc/resolv.conf {",
            "        max_concurrent 1000",
            "    }",
            "    cache 30 {",
            f"        disable success {cluster_domain}",
            f"        disable denial {cluster_domain}",
            "    }",
            "    loop",
            "    reload",
            "    loadbalance",
            "}",
            "",
        ]
    )


def eks_coredns_configuration(cluster_domain: str = CLUSTER_DOMAIN) -> str:
    """configurationValues for the EKS coredns add-on: its Corefile replaced."""
    return json.dumps({"corefile": zero_ttl_corefile(cluster_domain)}, sort_keys=True)


@dataclass(frozen=True)
class ClusterDnsArgs:
    provider: k8s.Provider
    # The stock Deployments to scale to zero once this DNS is ready (in order).
    stock_deployments: tuple[str, ...]
    # System nodes: DNS must not compete with Materialize for its nodes.
    placement: Placement = field(default_factory=Placement)
    replicas: int = 2
    depends_on: Sequence[pulumi.Resource] = ()


class ClusterDns(pulumi.ComponentResource):
    deployment: k8s.apps.v1.Deployment
    # What a workload that needs fresh DNS waits for.
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: ClusterDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:targets:ClusterDns", name, None, opts)
        base = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))
        meta = k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=NAMESPACE, labels=DNS_LABELS)

        account = k8s.core.v1.ServiceAccount(f"{name}-account", metadata=meta, opts=base)
        # What CoreDNS's kubernetes plugin lists and watches.
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, labels=DNS_LABELS),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""], resources=["endpoints", "services", "pods", "namespaces"], verbs=["list", "watch"]
                ),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["discovery.k8s.io"], resources=["endpointslices"], verbs=["list", "watch"]
                ),
            ],
            opts=base,
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, labels=DNS_LABELS),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAME),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=NAMESPACE)],
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[role, account])),
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-corefile", metadata=meta, data={"Corefile": zero_ttl_corefile()}, opts=base
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec=_deployment_spec(args),
            opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[config, binding])),
        )

        scaled_down: list[pulumi.Resource] = []
        previous: list[pulumi.Resource] = [self.deployment]
        for stock in args.stock_deployments:
            patch = k8s.apps.v1.DeploymentPatch(
                f"{name}-scale-down-{stock}",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=stock,
                    namespace=NAMESPACE,
                    # The autoscaler (or the add-on) owns `replicas`; take it over.
                    annotations={"pulumi.com/patchForce": "true"},
                ),
                spec=k8s.apps.v1.DeploymentSpecPatchArgs(replicas=0),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=previous),
            )
            scaled_down.append(patch)
            previous = [patch]
        self.ready = [self.deployment, *scaled_down]
        self.register_outputs({"deployment": self.deployment.metadata.name})


def _deployment_spec(args: ClusterDnsArgs) -> k8s.apps.v1.DeploymentSpecArgs:
    # CoreDNS's own readiness (/ready) and health (/health) endpoints.
    ready_probe = k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path="/ready", port=8181, scheme="HTTP"), period_seconds=5
    )
    live_probe = k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port=8080, scheme="HTTP"),
        initial_delay_seconds=60,
        timeout_seconds=5,
        failure_threshold=5,
    )
    tolerations = [
        k8s.core.v1.TolerationArgs(key="CriticalAddonsOnly", operator="Exists"),
        *(
            k8s.core.v1.TolerationArgs(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in args.placement.tolerations
        ),
    ]
    container = k8s.core.v1.ContainerArgs(
        name="coredns",
        image=COREDNS_IMAGE,
        image_pull_policy="IfNotPresent",
        args=["-conf", "/etc/coredns/Corefile"],
        ports=[
            k8s.core.v1.ContainerPortArgs(name="dns", container_port=53, protocol="UDP"),
            k8s.core.v1.ContainerPortArgs(name="dns-tcp", container_port=53, protocol="TCP"),
            k8s.core.v1.ContainerPortArgs(name="metrics", container_port=9153, protocol="TCP"),
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "170Mi"}, limits={"cpu": "1", "memory": "170Mi"}
        ),
        readiness_probe=ready_probe,
        liveness_probe=live_probe,
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="config", mount_path="/etc/coredns", read_only=True)],
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(add=["NET_BIND_SERVICE"], drop=["ALL"]),
        ),
    )
    return k8s.apps.v1.DeploymentSpecArgs(
        replicas=args.replicas,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DNS_LABELS),
        strategy=k8s.apps.v1.DeploymentStrategyArgs(
            type="RollingUpdate", rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=1)
        ),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=DNS_LABELS),
            spec=k8s.core.v1.PodSpecArgs(
                service_account_name=NAME,
                priority_class_name="system-cluster-critical",
                # Upstream resolvers from the node, not from this DNS itself.
                dns_policy="Default",
                node_selector=dict(sorted(args.placement.node_selector.items())) or None,
                tolerations=tolerations,
                # One replica per node where possible: a node loss keeps DNS up.
                affinity=k8s.core.v1.AffinityArgs(
                    pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
                        preferred_during_scheduling_ignored_during_execution=[
                            k8s.core.v1.WeightedPodAffinityTermArgs(
                                weight=100,
                                pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
                                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DNS_LABELS),
                                    topology_key="kubernetes.io/hostname",
                                ),
                            )
                        ]
                    )
                ),
                containers=[container],
                volumes=[
                    k8s.core.v1.VolumeArgs(
                        name="config",
                        config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                            name=NAME, items=[k8s.core.v1.KeyToPathArgs(key="Corefile", path="Corefile")]
                        ),
                    )
                ],
            ),
        ),
    )
