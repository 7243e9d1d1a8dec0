"""What a target hands the data plane: the only thing the data plane reads.

A target (aws, gcp, azure, local, byo) knows how its environment provides a
Kubernetes cluster, a Postgres metadata store and blob storage; the data plane
knows how to run Materialize on top. Adding a cloud means writing one new
target that returns a `TargetResult`; nothing in the data plane changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.settings import Placement

CloudProviderType = Literal["aws", "gcp", "azure", "generic", "local"]
IpProtocol = Literal["TCP", "UDP"]

# Every IPv4 address: for a peer whose address no target can know in advance.
ANYWHERE = ("0.0.0.0/0",)
# RFC 1918: where internal load balancers' clients and local clusters' nodes live.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True)
class NetworkPeer:
    """The far end of a connection, as a NetworkPolicy names it.

    Addresses outside the cluster (`cidrs`), and/or pods: those of the
    `namespaces` listed (narrowed to `pod_labels` when given). A NetworkPolicy
    cannot name a Service or a DNS name, so a target names what its Services
    and names resolve to.
    """

    cidrs: Sequence[pulumi.Input[str]] = ()
    namespaces: Sequence[str] = ()
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    # Every pod of the cluster (then `namespaces` and `pod_labels` are ignored).
    all_pods: bool = False


@dataclass(frozen=True)
class NetworkEndpoint:
    """Where something listens: a peer and its ports, after any Service's DNAT."""

    peer: NetworkPeer
    ports: Sequence[int]
    protocols: Sequence[IpProtocol] = ("TCP",)


# The cluster DNS: CoreDNS / kube-dns pods carry k8s-app=kube-dns on EKS, GKE,
# AKS, kind, minikube and k3s alike.
CLUSTER_DNS = NetworkEndpoint(
    peer=NetworkPeer(namespaces=("kube-system",), pod_labels={"k8s-app": "kube-dns"}),
    ports=(53,),
    protocols=("UDP", "TCP"),
)


@dataclass(frozen=True)
class ClusterNetwork:
    """What NetworkPolicies need to know about a cluster: whether they are
    enforced, and where the things Materialize talks to really are.

    The defaults fit a cluster nothing is known about; each target narrows them.
    """

    # True: the target makes the cluster enforce NetworkPolicies; False: it does
    # not; None: it depends on the cluster's CNI (local, byo).
    enforces_policies: bool | None = None
    # The Kubernetes API server as pods reach it: the `kubernetes` Service's
    # endpoints (NetworkPolicies see the address after the Service's DNAT).
    api_server: NetworkEndpoint = NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,))
    # Where the API server's calls to webhooks come from; None: not knowable
    # (a tunnel or a changing address), so the webhook port admits any source.
    control_plane: NetworkPeer | None = None
    dns: NetworkEndpoint = CLUSTER_DNS
    # The metadata Postgres and the blob store, as environmentd and clusterd reach them.
    metadata: NetworkEndpoint = NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(5432,))
    blob: NetworkEndpoint = NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443,))
    # Cloud load balancers' health checks that reach pods directly (not a node port).
    load_balancer_probes: Sequence[pulumi.Input[str]] = ()
    # Who an internal load balancer without allowedCidrs serves.
    internal_clients: Sequence[pulumi.Input[str]] = PRIVATE_RANGES
    # Who scrapes the operator's metrics port.
    metrics_scrapers: NetworkPeer = NetworkPeer(all_pods=True)
    # What else the operator itself calls on this platform (a metadata server
    # for its workload identity, a cloud API).
    operator_egress: Sequence[NetworkEndpoint] = ()


@dataclass(frozen=True)
class MonitoringSupport:
    """What the cluster offers the observability stack (components/dataplane/monitoring.py).

    The defaults fit a managed cluster: GKE and AKS ship metrics-server, the aws
    target installs it, and volumes come from the cluster's default StorageClass.
    """

    # The cluster already serves the resource metrics API (metrics.k8s.io).
    has_metrics_server: bool = True
    # Extra arguments metrics-server needs here (kind's kubelets serve self-signed certificates).
    metrics_server_args: Sequence[str] = ()
    # StorageClass for Prometheus' volume; None: the cluster's default class.
    storage_class: str | None = None
    # What only the observability stack waits for (beyond system_ready), e.g. that StorageClass and
    # its driver: kept out of system_ready so cert-manager and the operator do not wait for it.
    ready: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class Platform:
    """The cluster, where it runs, and where Materialize's pods may be scheduled."""

    provider: k8s.Provider
    cloud_provider: CloudProviderType
    region: str
    materialize_nodes: Placement
    system_nodes: Placement
    swap_enabled: bool
    aws_account_id: str | None = None
    # Service annotations that make a LoadBalancer internal / public on this platform.
    internal_load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    public_load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    # Where one app's load balancer needs other annotations than the defaults
    # above (a health check on another path or protocol, say):
    # app ("balancerd", "console") -> exposure ("internal", "public") -> annotations.
    app_load_balancer_annotations: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # Labels this platform needs on every instance namespace, besides the data
    # plane's own (which win on a clash): e.g. the label that has a cloud's
    # load-balancer controller give the instance's pods readiness gates.
    instance_namespace_labels: Mapping[str, str] = field(default_factory=dict)
    # Annotations the cloud's own controllers write on LoadBalancer Services;
    # ignored so a preview after them shows no change.
    controller_service_annotations: Sequence[str] = ()
    # Operator chart values only this platform knows (a cloud's own provider
    # settings, the operator's service account annotations), deep-merged over
    # the data plane's; only keys the chart defines.
    operator_values: Mapping[str, Any] = field(default_factory=dict)
    # What each resource waits for is only what it really needs (issue 14), so
    # the cloud builds the rest beside it:
    # - system_ready: the cluster answers, its system nodes, CNI and DNS run;
    #   cert-manager, the operator, monitoring and namespaces wait for this only.
    # - materialize_ready: what Materialize's own pods need besides (their node
    #   pool, swap set up on it, a webhook that admits them); each
    #   `Materialize` resource waits for it.
    # - load_balancer_ready: what a LoadBalancer Service needs before it is
    #   created (a cloud's load-balancer controller); the Services wait for this
    #   and their namespace only, so the load balancer is built while the
    #   instance comes up. On destroy the same edges delete the Services first.
    system_ready: Sequence[pulumi.Resource] = ()
    materialize_ready: Sequence[pulumi.Resource] = ()
    load_balancer_ready: Sequence[pulumi.Resource] = ()
    network: ClusterNetwork = ClusterNetwork()
    monitoring: MonitoringSupport = MonitoringSupport()


@dataclass(frozen=True)
class InstanceIdentity:
    """Who an instance is in its namespace (its service account is named after it)."""

    namespace: str
    name: str


@dataclass(frozen=True)
class BlobAccess:
    """Everything one instance needs to read and write its own persist data."""

    persist_url: pulumi.Output[str]  # a secret whenever it carries credentials
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    # Resources (buckets, role bindings, ...) the instance must wait for.
    ready: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class MetadataDatabase:
    """A Postgres database that belongs to one instance alone."""

    url: pulumi.Output[str]  # always a secret
    ready: Sequence[pulumi.Resource] = ()


class MetadataStore(Protocol):
    def database_for(self, instance: InstanceIdentity) -> MetadataDatabase: ...


class BlobStore(Protocol):
    def access_for(self, instance: InstanceIdentity) -> BlobAccess: ...


@dataclass(frozen=True)
class TargetResult:
    platform: Platform
    metadata: MetadataStore
    blob: BlobStore
    # Extra stack outputs a target wants to publish (kubeconfig, cluster name, ...).
    outputs: Mapping[str, pulumi.Input[object]] = field(default_factory=dict)
