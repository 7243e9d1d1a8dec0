"""`materialize:index:Install`: the whole install (target + data plane) as one component.

Its inputs are the settings model's keys (components/settings/model.py), so the
component and the stack program share one validation: every input is handed to
`load_settings` under its config key and a bad one fails with the same
`pulumi.RunError` before any child is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import pulumi

from components.dataplane.data_plane import DataPlane, DataPlaneArgs
from components.dataplane.environment_id import environment_ids
from components.dataplane.upgrade_guard import own_stack_name
from components.settings import load_settings
from components.settings.model import Settings
from components.targets import target_class


class InstallArgs(TypedDict, total=False):
    """Inputs of an install; each is the settings key of the same name (README configuration reference)."""

    target: str
    """Where the cluster, Postgres and blob storage come from: local, byo, aws, gcp or azure."""
    license_key: str
    """Materialize license key; pass it as a secret."""
    region: str
    """Cloud region; required for aws, gcp and azure."""
    version: str
    """Materialize release (vMAJOR.MINOR.PATCH): the operator chart and environmentd image together."""
    instances: list[dict[str, Any]]
    """Materialize instances (see the README's instance keys); default one instance named main."""
    swap: bool
    """Run clusterd with swap; needs nodes labelled materialize.cloud/swap=true. Default: per target."""
    network_policies: bool
    """Install the operator's network policies."""
    protect_data: bool
    """Protect databases and buckets from deletion; set false only for throwaway stacks."""
    kubeconfig: str
    """byo, local: kubeconfig file path, or its contents (then as a secret)."""
    kube_context: str
    """byo, local: kubeconfig context."""
    metadata_backend_url: str
    """byo: Postgres URL; {instance} stands for the instance name. A secret if it has a password."""
    persist_backend_url: str
    """byo: persist (blob) URL; {instance} stands for the instance name. A secret if it has keys."""


def _config_key(name: str) -> str:
    """The config key (a field's alias, else its name) of a settings field named `name`."""
    field = Settings.model_fields.get(name)
    if field is None:
        raise pulumi.RunError(f"materialize:index:Install: unknown input {name!r}")
    return field.alias or name


def config_from_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Install inputs (settings field names) as the config mapping `load_settings` reads."""
    return {_config_key(name): value for name, value in args.items() if value is not None}


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

    outputs: dict[str, Any]

    def __init__(
        self,
        name: str,
        args: InstallArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_keys: frozenset[str] = frozenset({"licenseKey"}),
    ) -> None:
        # Validation first, so bad inputs register nothing (not even this component).
        settings = load_settings(config_from_args(args), secret_keys)
        ids = checked_environment_ids(settings)
        super().__init__("materialize:index:Install", name, None, opts)
        self.outputs = build_install(settings, ids, pulumi.ResourceOptions(parent=self))
        self.register_outputs(self.outputs)
