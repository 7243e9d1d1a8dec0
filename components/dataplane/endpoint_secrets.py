"""The Secret that holds an external endpoint's credentials (remote write, log export).

Charts get only its name and keys; the values are Pulumi secrets and the Secret's
inputs and outputs are stored encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.settings.monitoring import EndpointCredentials


def credentials_secret(
    name: str,
    *,
    secret_name: str,
    namespace: str,
    endpoint: EndpointCredentials,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """Keys `username` and `password` (basic auth) or `token` (bearer)."""
    data: dict[str, pulumi.Input[str]] = {}
    if endpoint.username is not None and endpoint.password is not None:
        data["username"] = endpoint.username
        data["password"] = pulumi.Output.secret(endpoint.password.get_secret_value())
    if endpoint.bearer_token is not None:
        data["token"] = pulumi.Output.secret(endpoint.bearer_token.get_secret_value())
    return k8s.core.v1.Secret(
        name,
        metadata={"name": secret_name, "namespace": namespace, "labels": dict(labels)},
        string_data=data,
        type="Opaque",
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
        ),
    )
