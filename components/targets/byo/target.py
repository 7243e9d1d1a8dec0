"""The byo target: hands over what the customer already runs.

Nothing stateful is created here; the customer's Postgres and object store
are only referenced, through URLs kept as Pulumi secrets.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pulumi

from components.contract import (
    ANYWHERE,
    BlobAccess,
    ClusterNetwork,
    InstanceIdentity,
    MetadataDatabase,
    NetworkEndpoint,
    NetworkPeer,
    Platform,
    TargetResult,
)
from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.settings import INSTANCE_PLACEHOLDER, Placement, Settings
from components.targets.cluster_provider import existing_cluster_provider
from components.targets.load_balancers import INTERNAL, PUBLIC


class _UrlPerInstance:
    """One URL, with `{instance}` replaced by each instance's name."""

    def __init__(self, template: str) -> None:
        self._template = template

    def url(self, instance: InstanceIdentity) -> pulumi.Output[str]:
        return pulumi.Output.secret(self._template.replace(INSTANCE_PLACEHOLDER, instance.name))


class ByoMetadataStore:
    def __init__(self, template: str) -> None:
        self._urls = _UrlPerInstance(template)

    def database_for(self, instance: InstanceIdentity) -> MetadataDatabase:
        return MetadataDatabase(url=self._urls.url(instance))


class ByoBlobStore:
    def __init__(self, template: str, settings: Settings) -> None:
        self._urls = _UrlPerInstance(template)
        self._instances = {instance.name: instance for instance in settings.instances}

    def access_for(self, instance: InstanceIdentity) -> BlobAccess:
        configured = self._instances[instance.name]
        return BlobAccess(
            persist_url=self._urls.url(instance),
            service_account_annotations=dict(configured.service_account_annotations),
            pod_labels=dict(configured.pod_labels),
        )


class ByoTarget(pulumi.ComponentResource):
    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:byo:Target", name, None, opts)
        # Settings validation guarantees these are set for byo.
        assert settings.metadata_backend_url is not None and settings.persist_backend_url is not None

        # Settings validation guarantees a kubeconfig for byo.
        provider = existing_cluster_provider(name, settings, default_kubeconfig=None, parent=self)
        cloud = settings.cloud_provider
        platform = Platform(
            provider=provider,
            cloud_provider=cloud,
            region=settings.region or cloud,
            aws_account_id=settings.aws_account_id,
            materialize_nodes=settings.node_placement.materialize or Placement(),
            system_nodes=settings.node_placement.system or Placement(),
            swap_enabled=True if settings.swap is None else settings.swap,
            internal_load_balancer_annotations=INTERNAL.get(cloud, {}),
            public_load_balancer_annotations=PUBLIC.get(cloud, {}),
            network=_cluster_network(
                settings.metadata_backend_url.get_secret_value(), settings.persist_backend_url.get_secret_value()
            ),
        )
        self.result = TargetResult(
            platform=platform,
            metadata=ByoMetadataStore(settings.metadata_backend_url.get_secret_value()),
            blob=ByoBlobStore(settings.persist_backend_url.get_secret_value(), settings),
        )
        self.register_outputs({})


def _cluster_network(metadata_url: str, persist_url: str) -> ClusterNetwork:
    """What is known of someone else's cluster: the ports its stores listen on.

    The addresses are the customer's (host names, which a NetworkPolicy cannot
    name), and so are the API server's and whether policies are enforced.
    """
    metadata_port = parse_metadata_url(metadata_url.replace(INSTANCE_PLACEHOLDER, "instance")).port
    return ClusterNetwork(
        api_server=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(443, 6443)),
        metadata=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(metadata_port,)),
        blob=NetworkEndpoint(NetworkPeer(cidrs=ANYWHERE), ports=(_blob_port(persist_url),)),
    )


def _blob_port(persist_url: str) -> int:
    endpoint = parse_persist_url(persist_url.replace(INSTANCE_PLACEHOLDER, "instance")).endpoint
    if endpoint is None:
        return 443
    parts = urlsplit(endpoint)
    return parts.port or (80 if parts.scheme == "http" else 443)
