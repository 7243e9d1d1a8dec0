"""`materialize:index:Install`: the whole install (target + data plane) as one component.

Its inputs are the settings model's keys (components/settings/model.py), so the
component and the stack program share one validation: every input is handed to
`load_settings` under its config key and a bad one fails with the same
`pulumi.RunError` before any child is registered.
"""

# No `from __future__ import annotations` here: Pulumi's component analyzer
# (pulumi/provider/experimental/analyzer.py, `inspect.get_annotations` without
# eval_str) needs InstallArgs' and Install's annotations as real types, not strings.

import asyncio
from collections.abc import Mapping
from typing import Any, TypedDict

import pulumi

from components.dataplane.data_plane import DataPlane, DataPlaneArgs
from components.dataplane.environment_id import environment_ids
from components.dataplane.upgrade_guard import check_upgrade, deployed_state, own_stack_name
from components.settings import load_settings
from components.settings.model import Settings
from components.targets import target_class


class InstallArgs(TypedDict, total=False):
    """Inputs of an install; each is the settings key of the same name (README configuration reference).

    Every key is optional here (total=False) so that a missing one is refused by
    the settings model with the stack program's error, not by the provider host.
    The four that can carry credentials are `pulumi.Input[str]` so callers in
    any language can pass secrets; the others are plain values, because they
    decide which resources exist before anything is registered."""

    target: str
    """Where the cluster, Postgres and blob storage come from: local, byo, aws, gcp or azure."""
    license_key: pulumi.Input[str]
    """Materialize license key; pass it as a secret."""
    region: str
    """Cloud region; required for aws, gcp and azure."""
    version: str
    """Materialize release (vMAJOR.MINOR.PATCH): the operator chart and environmentd image together."""
    instances: list[dict[str, Any]]
    """Materialize instances (see the README's instance keys); default one instance named main."""
    swap: bool
    """Run clusterd with swap; needs nodes labelled materialize.cloud/swap=true. Default: per target."""
    node_placement: dict[str, Any]
    """Override nodeSelector/tolerations for Materialize pods (materialize) and the operator (system)."""
    network_policies: bool
    """Install the operator's network policies."""
    protect_data: bool
    """Protect databases and buckets from deletion; set false only for throwaway stacks."""
    crd_version: str
    """Materialize CRD version to create instances with: v1 or v1alpha1."""
    cert_manager: dict[str, Any]
    """cert-manager: {install: false} when the cluster already runs it."""
    pod_metrics: bool
    """Console pod metrics (needs metrics-server)."""
    monitoring: dict[str, Any]
    """Metrics and dashboards: {enabled, retention, storage, grafana, remoteWrite} (docs/monitoring.md)."""
    cluster_sizes: dict[str, dict[str, Any]]
    """Extra replica sizes for the chart, name: {workers, cpuLimit, memoryLimit, diskLimit, ...}."""
    tags: dict[str, str]
    """Tags / labels for every taggable cloud resource."""
    kubeconfig: pulumi.Input[str]
    """byo, local: kubeconfig file path, or its contents (then as a secret)."""
    kube_context: str
    """byo, local: kubeconfig context."""
    metadata_backend_url: pulumi.Input[str]
    """byo: Postgres URL; {instance} stands for the instance name. A secret if it has a password."""
    persist_backend_url: pulumi.Input[str]
    """byo: persist (blob) URL; {instance} stands for the instance name. A secret if it has keys."""
    cloud_provider: str
    """byo: the cloud the existing cluster runs in (aws, gcp, azure or generic)."""
    aws_account_id: str
    """byo with cloudProvider aws: the 12-digit account id."""
    local: dict[str, Any]
    """local: {storageClass, postgresStorage, objectStoreStorage} of the in-cluster stores."""
    aws: dict[str, Any]
    """aws: VPC, EKS node groups, RDS Postgres and S3 (see docs/aws.md)."""
    gcp: dict[str, Any]
    """gcp: project, VPC, GKE version and node pools, Cloud SQL (see docs/gcp.md)."""
    azure: dict[str, Any]
    """azure: resource group, VNet, AKS pools, Flexible Server and Blob storage (see docs/azure.md)."""


# The keys are the stack output's own (camelCase) names: the provider host hands a
# map of objects back unrenamed (pulumi/provider/experimental/component.py
# `get_state` renames only top-level and directly referenced object properties).
class InstanceEndpoints(TypedDict):
    """Where one Materialize instance runs and how to reach it."""

    namespace: str
    """The instance's Kubernetes namespace."""
    environmentId: str
    """The instance's environment id (its persist and metadata identity)."""
    sqlEndpoint: str
    """host:port of the SQL (pgwire) endpoint."""
    consoleEndpoint: str
    """host:port of the web console."""


def _config_key(name: str) -> str:
    """The config key (a field's alias, else its name) of a settings field named `name`."""
    field = Settings.model_fields.get(name)
    if field is None:
        raise pulumi.RunError(f"materialize:index:Install: unknown input {name!r}")
    return field.alias or name


def config_from_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Install inputs (settings field names) as the config mapping `load_settings` reads."""
    return {_config_key(name): value for name, value in args.items() if value is not None}


def known_inputs(args: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The inputs as plain values, and the config keys of those that came as secrets.

    The settings model validates plain values before anything is registered, so
    an input must be known when the component is constructed. Through the
    provider host a secret input arrives as an Output the host built from an
    already-resolved future (pulumi/provider/server.py `_select_value`); a
    caller's own Output that is still pending, or unknown during a preview,
    cannot be validated and is refused."""
    plain: dict[str, Any] = {}
    secret: set[str] = set()
    for name, value in args.items():
        if isinstance(value, pulumi.Output):
            data = value._data  # pyright: ignore[reportPrivateUsage] - see the docstring
            resolved = data.result() if isinstance(data, asyncio.Future) and data.done() else None
            if resolved is None or not resolved.is_known:
                key = _config_key(name)
                raise pulumi.RunError(
                    f"materialize:index:Install: input {key}: must be known when the install is constructed "
                    "(it is validated before anything is created); pass a plain value or a secret, "
                    "not another resource's output"
                )
            value = resolved.value
            if resolved.is_secret:
                secret.add(_config_key(name))
        plain[name] = value
    return plain, frozenset(secret)


def checked_environment_ids(settings: Settings) -> dict[str, str]:
    """The instances' environment ids, after what is refused before anything is registered.

    An unavailable target is refused first, then the license-key checks that
    deriving the ids makes (a key that pins an id the settings contradict)."""
    target_class(settings)
    return environment_ids(settings, own_stack_name())


def build_install(
    settings: Settings, ids: dict[str, str], opts: pulumi.ResourceOptions | None = None
) -> dict[str, Any]:
    """The target and data plane of validated settings, and the stack outputs.

    The stack program calls this without a parent, so its resources keep the
    URNs of deployed stacks (no `materialize:index:Install` between them and the
    stack); the component calls it with itself as parent."""
    target = target_class(settings)(settings.target, settings, opts).result
    data_plane = DataPlane("materialize", DataPlaneArgs(settings=settings, target=target, environment_ids=ids), opts)
    return {
        "target": settings.target,
        "materializeVersion": settings.version,
        "crdVersion": settings.crd_version,
        "instances": {
            instance_name: {
                "namespace": instance.namespace,
                "environmentId": ids[instance_name],
                "sqlEndpoint": instance.sql_endpoint,
                "consoleEndpoint": instance.console_endpoint,
            }
            for instance_name, instance in data_plane.instances.items()
        },
        # Kept apart from `instances` so the rest of that output stays readable.
        "connectionStrings": {n: instance.connection_string for n, instance in data_plane.instances.items()},
        **target.outputs,
    }


class Install(pulumi.ComponentResource):
    """Materialize's operator, its target (cluster, Postgres, blob storage) and its instances."""

    # The outputs, as the provider host publishes them (Pulumi's analyzer reads
    # these annotations and docstrings); the stack program exports the same values.
    target: pulumi.Output[str]
    """The target the install runs on."""
    materialize_version: pulumi.Output[str]
    """The Materialize release installed (operator chart and environmentd)."""
    crd_version: pulumi.Output[str]
    """The Materialize CRD version the instances were created with."""
    instances: pulumi.Output[dict[str, InstanceEndpoints]]
    """Each instance by name: its namespace, environment id and endpoints."""
    connection_strings: pulumi.Output[dict[str, str]]
    """A psql connection string per instance (a secret)."""
    target_outputs: pulumi.Output[dict[str, Any]]
    """What the target adds (for example a cloud cluster's name and kubeconfig, the latter a secret)."""

    def __init__(
        self,
        name: str,
        args: InstallArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_keys: frozenset[str] = frozenset({"licenseKey"}),
    ) -> None:
        # Validation first, so bad inputs register nothing (not even this component).
        plain, secret_inputs = known_inputs(args)
        settings = load_settings(config_from_args(plain), secret_keys | secret_inputs)
        ids = checked_environment_ids(settings)
        super().__init__("materialize:index:Install", name, None, opts)
        # The stack program's exports, for Python callers; annotated here rather than on
        # the class, where the analyzer would publish it as one more untyped output.
        self.outputs: dict[str, Any] = build_install(settings, ids, pulumi.ResourceOptions(parent=self))
        stack_level = {"target", "materializeVersion", "crdVersion", "instances", "connectionStrings"}
        self.target = pulumi.Output.from_input(self.outputs["target"])
        self.materialize_version = pulumi.Output.from_input(self.outputs["materializeVersion"])
        self.crd_version = pulumi.Output.from_input(self.outputs["crdVersion"])
        self.instances = pulumi.Output.from_input(self.outputs["instances"])
        self.connection_strings = pulumi.Output.from_input(self.outputs["connectionStrings"])
        self.target_outputs = pulumi.Output.from_input(
            {key: value for key, value in self.outputs.items() if key not in stack_level}
        )
        self.register_outputs(self.outputs)


async def checked_install(name: str, args: InstallArgs, opts: pulumi.ResourceOptions | None = None) -> Install:
    """An Install, after the stack program's upgrade guard has passed (for Python programs).

    The guard compares the settings with what this stack last deployed (its
    outputs materializeVersion, crdVersion and instances, so export
    `install.outputs`), which needs awaiting a StackReference before anything is
    registered; a component's constructor cannot await, so a program that wants
    the guard awaits this instead of constructing Install itself."""
    plain, secret_inputs = known_inputs(args)
    settings = load_settings(config_from_args(plain), frozenset({"licenseKey"}) | secret_inputs)
    ids = checked_environment_ids(settings)
    check_upgrade(settings, ids, await deployed_state())
    return Install(name, args, opts)
