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
    # Annotations the cloud's own controllers write on LoadBalancer Services;
    # ignored so a preview after them shows no change.
    controller_service_annotations: Sequence[str] = ()
    # Operator chart values only this platform knows (a cloud's own provider
    # settings, the operator's service account annotations), deep-merged over
    # the data plane's; only keys the chart defines.
    operator_values: Mapping[str, Any] = field(default_factory=dict)
    # Cluster pieces (node groups, CNI, ...) that must exist before workloads are scheduled.
    ready: Sequence[pulumi.Resource] = ()


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
