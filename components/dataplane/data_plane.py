"""The data plane: everything every install needs, on any target.

It reads only the contract a target returns (Platform, MetadataStore,
BlobStore) and never knows which cloud it runs on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.contract import InstanceIdentity, TargetResult
from components.dataplane.cert_manager import CertManager, CertManagerArgs
from components.dataplane.instance import InstanceArgs, MaterializeInstance
from components.dataplane.instance_network_policies import InstanceNetworkPoliciesArgs
from components.dataplane.monitoring import Monitoring, MonitoringArgs
from components.dataplane.operator import OPERATOR_NAMESPACE, OPERATOR_POD_LABELS, MaterializeOperator, OperatorArgs
from components.dataplane.operator_values import operator_values
from components.settings import Settings


@dataclass(frozen=True)
class DataPlaneArgs:
    settings: Settings
    target: TargetResult
    environment_ids: Mapping[str, str]


class DataPlane(pulumi.ComponentResource):
    instances: dict[str, MaterializeInstance]

    def __init__(self, name: str, args: DataPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:DataPlane", name, None, opts)
        settings = args.settings
        platform = args.target.platform
        child = pulumi.ResourceOptions(parent=self)

        tls = CertManager(
            f"{name}-tls", CertManagerArgs(platform=platform, install=settings.cert_manager.install), opts=child
        )
        operator = MaterializeOperator(
            f"{name}-operator",
            OperatorArgs(
                platform=platform,
                version=settings.version,
                values=operator_values(settings, platform, tls.issuer_name),
                # The v1 CRD's conversion webhook needs its certificate from cert-manager.
                requires=(tls.issuer,),
                network_policies=settings.network_policies,
                conversion_webhook=settings.crd_version == "v1",
            ),
            opts=child,
        )
        license_key = pulumi.Output.secret(settings.license_key.get_secret_value())

        self.instances = {}
        for instance in settings.instances:
            identity = InstanceIdentity(namespace=instance.resolved_namespace, name=instance.name)
            self.instances[instance.name] = MaterializeInstance(
                f"{name}-{instance.name}",
                InstanceArgs(
                    settings=settings,
                    instance=instance,
                    environment_id=args.environment_ids[instance.name],
                    platform=platform,
                    metadata=args.target.metadata.database_for(identity),
                    blob=args.target.blob.access_for(identity),
                    license_key=license_key,
                    issuer_name=tls.issuer_name,
                    requires=(operator.release, tls.issuer),
                    network_policies=InstanceNetworkPoliciesArgs(
                        provider=platform.provider,
                        namespace=identity.namespace,
                        instance=instance.name,
                        network=platform.network,
                        exposure=settings.exposure_type(instance),
                        allowed_cidrs=tuple(instance.exposure.allowed_cidrs),
                    )
                    if settings.network_policies
                    else None,
                ),
                opts=child,
            )
        self.monitoring: Monitoring | None = None
        if settings.monitoring.enabled:
            self.monitoring = Monitoring(
                f"{name}-monitoring",
                MonitoringArgs(
                    platform=platform,
                    settings=settings.monitoring,
                    instance_namespaces=tuple(i.resolved_namespace for i in settings.instances),
                    operator_namespace=OPERATOR_NAMESPACE,
                    operator_pod_labels=dict(OPERATOR_POD_LABELS),
                    network_policies=settings.network_policies,
                    # Only the namespaces: monitoring comes up while the instances roll out.
                    instance_namespace_objects={i.namespace: i.namespace_resource for i in self.instances.values()},
                ),
                opts=child,
            )
        self.register_outputs({name: i.sql_endpoint for name, i in self.instances.items()})
