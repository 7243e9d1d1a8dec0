"""The local target: a kind, minikube or k3d cluster that also hosts Postgres
and an S3-compatible store, in a namespace of their own.

Instances wait only for what they use (the Postgres server and their own
database Job; the object store and the bucket Job), never for each other.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.contract import (
    PRIVATE_RANGES,
    BlobAccess,
    ClusterNetwork,
    InstanceIdentity,
    MonitoringSupport,
    NetworkEndpoint,
    NetworkPeer,
    Platform,
    TargetResult,
)
from components.persist_url import s3_persist_url
from components.settings import Placement, Settings
from components.targets.cluster_provider import existing_cluster_provider
from components.targets.local.bucket import Bucket, BucketArgs
from components.targets.local.metadata_database import LocalMetadataDatabase, MetadataDatabaseArgs
from components.targets.local.object_store import APP as OBJECT_STORE_APP
from components.targets.local.object_store import S3_PORT, ObjectStore, ObjectStoreArgs
from components.targets.local.objects import PART_OF, Home, selector
from components.targets.local.postgres import APP as POSTGRES_APP
from components.targets.local.postgres import PORT as POSTGRES_PORT
from components.targets.local.postgres import Postgres, PostgresArgs
from components.targets.prepared_stores import PreparedMetadataStore

NAMESPACE = "materialize-local"
BUCKET = "materialize"
# SeaweedFS accepts any signing region. us-east-1 is the one S3 clients treat
# as the default, so creating the bucket needs no location constraint.
S3_REGION = "us-east-1"
# Spelled out rather than left to the provider, whose ambient default would
# follow $KUBECONFIG into whatever cluster the shell happens to point at.
DEFAULT_KUBECONFIG = "~/.kube/config"


class LocalBlobStore:
    def __init__(self, store: ObjectStore, bucket: Bucket) -> None:
        self._store = store
        self._bucket = bucket

    def access_for(self, instance: InstanceIdentity) -> BlobAccess:
        endpoint = self._store.endpoint
        url = pulumi.Output.all(self._store.access_key_id, self._store.secret_access_key).apply(
            lambda keys: s3_persist_url(
                BUCKET,
                # Each instance under its own prefix of the one bucket.
                instance.name,
                S3_REGION,
                endpoint=endpoint,
                access_key_id=keys[0],
                secret_access_key=keys[1],
            )
        )
        return BlobAccess(persist_url=pulumi.Output.secret(url), ready=(self._store.stateful_set, self._bucket.job))


class LocalTarget(pulumi.ComponentResource):
    result: TargetResult

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        _refuse_shared_namespace(settings)
        super().__init__("materialize:local:Target", name, None, opts)
        provider = existing_cluster_provider(name, settings, default_kubeconfig=DEFAULT_KUBECONFIG, parent=self)
        system_nodes = settings.node_placement.system or Placement()
        # Deleting the namespace deletes the volume claims in it.
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=settings.protect_data),
        )
        home = Home(provider=provider, namespace=namespace, namespace_name=NAMESPACE, placement=system_nodes)
        child = pulumi.ResourceOptions(parent=self)
        local = settings.local

        postgres = Postgres(
            f"{name}-postgres",
            PostgresArgs(
                home=home,
                storage=local.postgres_storage,
                storage_class=local.storage_class,
                protect=settings.protect_data,
                network_policy=settings.network_policies,
            ),
            opts=child,
        )
        store = ObjectStore(
            f"{name}-object-store",
            ObjectStoreArgs(
                home=home,
                storage=local.object_store_storage,
                storage_class=local.storage_class,
                protect=settings.protect_data,
                network_policy=settings.network_policies,
            ),
            opts=child,
        )
        bucket = Bucket(
            f"{name}-bucket", BucketArgs(home=home, store=store, bucket=BUCKET, region=S3_REGION), opts=child
        )
        databases = {
            instance.name: LocalMetadataDatabase(
                f"{name}-{instance.name}-metadata",
                MetadataDatabaseArgs(
                    home=home,
                    postgres=postgres,
                    instance=InstanceIdentity(namespace=instance.resolved_namespace, name=instance.name),
                    protect=settings.protect_data,
                ),
                opts=child,
            ).database
            for instance in settings.instances
        }

        platform = Platform(
            provider=provider,
            cloud_provider="local",
            region=settings.region or "local",
            materialize_nodes=settings.node_placement.materialize or Placement(),
            system_nodes=system_nodes,
            # Swap needs nodes labelled materialize.cloud/swap=true with swap set
            # up; a laptop cluster has none, and clusterd would stay Pending.
            swap_enabled=settings.swap is True,
            network=_cluster_network(),
            # kind has no metrics-server, and its kubelets' serving certificates are self-signed.
            monitoring=MonitoringSupport(
                has_metrics_server=False,
                metrics_server_args=("--kubelet-insecure-tls",),
                storage_class=local.storage_class,
            ),
        )
        outputs = {
            "namespace": NAMESPACE,
            "postgres": f"{postgres.host}:{postgres.port}",
            "objectStore": store.endpoint,
            "bucket": BUCKET,
        }
        self.result = TargetResult(
            platform=platform,
            metadata=PreparedMetadataStore("local", databases),
            blob=LocalBlobStore(store, bucket),
            outputs={"local": outputs},
        )
        self.register_outputs(outputs)


def _cluster_network() -> ClusterNetwork:
    """Where pods' traffic goes on a laptop cluster, for NetworkPolicies.

    Whether they are enforced depends on the cluster (docs/local.md): kind
    0.24+ (kindnetd) and k3d (k3s's policy controller) do, minikube only with
    a policy-capable CNI. The API server runs on a node, on the port each
    tool chooses (kind and k3d 6443, minikube 8443), and nodes sit on a
    private Docker network; the stores are pods in the target's namespace.
    """
    return ClusterNetwork(
        enforces_policies=None,
        api_server=NetworkEndpoint(NetworkPeer(cidrs=PRIVATE_RANGES), ports=(443, 6443, 8443)),
        control_plane=NetworkPeer(cidrs=PRIVATE_RANGES),
        metadata=NetworkEndpoint(_store_pods(POSTGRES_APP), ports=(POSTGRES_PORT,)),
        blob=NetworkEndpoint(_store_pods(OBJECT_STORE_APP), ports=(S3_PORT,)),
    )


def _store_pods(app: str) -> NetworkPeer:
    return NetworkPeer(namespaces=(NAMESPACE,), pod_labels=selector(app))


def _refuse_shared_namespace(settings: Settings) -> None:
    """Before anything is registered: an instance must not share the stores' namespace."""
    for index, instance in enumerate(settings.instances):
        if instance.resolved_namespace == NAMESPACE:
            raise pulumi.RunError(
                f"materialize:instances[{index}]: namespace {NAMESPACE} belongs to the local target's Postgres "
                "and object store; give the instance another name or set its namespace"
            )
