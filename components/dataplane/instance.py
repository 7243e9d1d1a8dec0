"""One Materialize instance: namespace, backend secret, parameters, the
`Materialize` resource, and the Services that expose it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.contract import BlobAccess, MetadataDatabase, Platform
from components.dataplane import exposure
from components.dataplane.instance_network_policies import InstanceNetworkPolicies, InstanceNetworkPoliciesArgs
from components.dataplane.materialize_resource import MaterializeResource
from components.dataplane.rollout import request_rollout, wait_for_annotation
from components.settings import InstanceSettings, Settings
from components.versions import environmentd_image_ref


@dataclass(frozen=True)
class InstanceArgs:
    settings: Settings
    instance: InstanceSettings
    environment_id: str
    platform: Platform
    metadata: MetadataDatabase
    blob: BlobAccess
    license_key: pulumi.Output[str]
    issuer_name: str
    # The operator release and issuer the instance cannot exist without.
    requires: tuple[pulumi.Resource, ...]
    # Policies its pods need next to the operator's (networkPolicies on); in
    # place before the Materialize resource, whose pods cannot start without them.
    network_policies: InstanceNetworkPoliciesArgs | None = None


class MaterializeInstance(pulumi.ComponentResource):
    sql_endpoint: pulumi.Output[str]
    console_endpoint: pulumi.Output[str]
    connection_string: pulumi.Output[str]
    namespace: str
    # The namespace object: what others putting objects in it wait for (monitoring's policies).
    namespace_resource: k8s.core.v1.Namespace

    def __init__(self, name: str, args: InstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:Instance", name, None, opts)
        instance = args.instance
        settings = args.settings
        platform = args.platform
        self.namespace = instance.resolved_namespace
        child = pulumi.ResourceOptions(parent=self, provider=platform.provider)
        labels = {"app.kubernetes.io/managed-by": "pulumi", "materialize.cloud/instance": instance.name}

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": self.namespace, "labels": {**platform.instance_namespace_labels, **labels}},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(platform.system_ready))),
        )
        self.namespace_resource = namespace
        in_namespace = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        policies: list[pulumi.Resource] = []
        if args.network_policies is not None:
            policies = InstanceNetworkPolicies(
                f"{name}-network-policies",
                args.network_policies,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            ).policies

        password: pulumi.Output[str] | None = None
        if instance.needs_mz_system_password:
            password = random.RandomPassword(
                f"{name}-mz-system-password",
                length=32,
                # Letters and digits only: the password also appears in URLs.
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            ).result

        backend_data: dict[str, pulumi.Input[str]] = {
            "metadata_backend_url": args.metadata.url,
            "persist_backend_url": args.blob.persist_url,
            "license_key": args.license_key,
        }
        if password is not None:
            backend_data["external_login_password_mz_system"] = password
        backend_secret_name = f"{instance.name}-materialize-backend"
        backend = k8s.core.v1.Secret(
            f"{name}-backend",
            metadata={"name": backend_secret_name, "namespace": self.namespace, "labels": labels},
            string_data={key: pulumi.Output.secret(value) for key, value in backend_data.items()},
            type="Opaque",
            opts=pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
            ),
        )

        parameters_name = f"{instance.name}-system-params"
        parameters = k8s.core.v1.ConfigMap(
            f"{name}-system-params",
            metadata={"name": parameters_name, "namespace": self.namespace, "labels": labels},
            data={"system-params.json": json.dumps(instance.system_parameters, sort_keys=True)},
            opts=in_namespace,
        )

        # Parts of the spec (service-account annotations) can be outputs.
        spec = pulumi.Output.from_input(self._spec(args, backend_secret_name, parameters_name))
        if settings.crd_version == "v1alpha1":
            spec = spec.apply(lambda s: {**s, "requestRollout": request_rollout(s)})
        wait_for = spec.apply(
            lambda s: wait_for_annotation(instance.rollout_strategy, s["environmentdImageRef"], s.get("requestRollout"))
        )
        self.resource = MaterializeResource(
            f"{name}-materialize",
            crd_version=settings.crd_version,
            metadata={
                "name": instance.name,
                "namespace": self.namespace,
                "labels": labels,
                "annotations": {
                    "pulumi.com/waitFor": wait_for,
                    "pulumi.com/timeoutSeconds": str(instance.ready_timeout_minutes * 60),
                },
            },
            spec=spec,
            opts=pulumi.ResourceOptions.merge(
                in_namespace,
                pulumi.ResourceOptions(
                    depends_on=[
                        backend,
                        parameters,
                        *policies,
                        *args.requires,
                        *platform.materialize_ready,
                        *args.blob.ready,
                        *args.metadata.ready,
                    ]
                ),
            ),
        )

        exposure_type = settings.exposure_type(instance)
        ready_timeout = f"{instance.ready_timeout_minutes}m"
        endpoints: dict[str, pulumi.Output[str]] = {}
        for app, ports in (("balancerd", exposure.BALANCERD_PORTS), ("console", exposure.CONSOLE_PORTS)):
            service = k8s.core.v1.Service(
                f"{name}-{app}",
                metadata={
                    "name": f"{instance.name}-{app}-lb",
                    "namespace": self.namespace,
                    "labels": labels,
                    "annotations": exposure.exposure_annotations(platform, app, exposure_type),
                },
                spec=exposure.service_spec(app, ports, exposure_type, instance.exposure.allowed_cidrs),
                opts=pulumi.ResourceOptions.merge(
                    in_namespace,
                    pulumi.ResourceOptions(
                        # Not the Materialize resource: the load balancer is built while
                        # the instance rolls out (issue 14).
                        depends_on=list(platform.load_balancer_ready),
                        # Pulumi waits for a Service's endpoints to be ready (its pods:
                        # they come with the rollout) and its load balancer's address,
                        # 10 minutes by default (pulumi-kubernetes, the Service resource's
                        # documented await logic, provider/pkg/await/service.go); give it
                        # as long as the instance.
                        custom_timeouts=pulumi.CustomTimeouts(create=ready_timeout, update=ready_timeout),
                        ignore_changes=[
                            f'metadata.annotations["{key}"]' for key in platform.controller_service_annotations
                        ],
                    ),
                ),
            )
            endpoints[app] = exposure.endpoint(service, self.namespace, exposure_type)

        self.sql_endpoint = endpoints["balancerd"].apply(lambda host: f"{host}:{exposure.SQL_PORT}")
        self.console_endpoint = endpoints["console"].apply(lambda host: f"https://{host}:{exposure.CONSOLE_PORT}")
        self.connection_string = _connection_string(endpoints["balancerd"], password)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "sqlEndpoint": self.sql_endpoint,
                "consoleEndpoint": self.console_endpoint,
                "connectionString": self.connection_string,
            }
        )

    def _spec(self, args: InstanceArgs, backend_secret_name: str, parameters_name: str) -> dict[str, Any]:
        instance = args.instance
        issuer_ref = {"name": args.issuer_name, "kind": "ClusterIssuer"}

        def external_certificate(app: str) -> dict[str, Any]:
            service = f"{instance.name}-{app}-lb"
            return {
                "dnsNames": [
                    app,
                    service,
                    f"{service}.{self.namespace}.svc",
                    f"{service}.{self.namespace}.svc.cluster.local",
                ],
                "issuerRef": issuer_ref,
            }

        spec: dict[str, Any] = {
            "environmentdImageRef": environmentd_image_ref(args.settings.version),
            "environmentId": args.environment_id,
            "backendSecretName": backend_secret_name,
            "authenticatorKind": instance.authenticator,
            "enableRbac": instance.rbac,
            "rolloutStrategy": instance.rollout_strategy,
            "systemParameterConfigmapName": parameters_name,
            "balancerdExternalCertificateSpec": external_certificate("balancerd"),
            "consoleExternalCertificateSpec": external_certificate("console"),
            "internalCertificateSpec": {"issuerRef": issuer_ref},
        }
        if instance.environmentd_resources is not None:
            spec["environmentdResourceRequirements"] = instance.environmentd_resources.to_kubernetes()
        if instance.balancerd_replicas is not None:
            spec["balancerdReplicas"] = instance.balancerd_replicas
        if instance.console_replicas is not None:
            spec["consoleReplicas"] = instance.console_replicas
        annotations = dict(args.blob.service_account_annotations)
        if annotations:
            spec["serviceAccountAnnotations"] = dict(sorted(annotations.items()))
        pod_labels = dict(args.blob.pod_labels)
        if pod_labels:
            spec["podLabels"] = dict(sorted(pod_labels.items()))
        return spec


def _connection_string(host: pulumi.Output[str], password: pulumi.Output[str] | None) -> pulumi.Output[str]:
    if password is None:
        return pulumi.Output.secret(
            host.apply(lambda h: f"postgres://materialize@{h}:{exposure.SQL_PORT}/materialize?sslmode=require")
        )
    return pulumi.Output.secret(
        pulumi.Output.all(host, password).apply(
            lambda parts: f"postgres://mz_system:{parts[1]}@{parts[0]}:{exposure.SQL_PORT}/materialize?sslmode=require"
        )
    )
