"""Bottlerocket settings (TOML user data) for Materialize's swap nodes.

A bootstrap container runs Materialize's ephemeral-storage-setup tool before
the kubelet starts, on every boot ("always": instance-store disks come back
empty after a stop), and the node never joins if it fails ("essential"). The
tool turns the local NVMe disks into swap and, with the Bottlerocket flag,
switches the kubelet's swap support on through Bottlerocket's API. The
kernel settings are the ones Materialize recommends for swap.

EKS merges its own cluster settings into this user data for managed node
groups, so nothing about the cluster goes here.
"""

from __future__ import annotations

import base64
import json

from components.targets.disk_setup import SWAP_SYSCTLS

SWAP_SETUP_ARGS = ("swap", "--cloud-provider", "aws", "--bottlerocket-enable-swap")
BOOTSTRAP_CONTAINER = "diskstrap"


def _toml_string(value: str) -> str:
    # JSON string escaping is valid TOML basic-string escaping for these values.
    return json.dumps(value)


def swap_node_settings(image: str) -> str:
    """The TOML document for a swap node."""
    container_input = base64.b64encode(json.dumps(list(SWAP_SETUP_ARGS)).encode()).decode()
    lines = [
        f"[settings.bootstrap-containers.{BOOTSTRAP_CONTAINER}]",
        f"source = {_toml_string(image)}",
        'mode = "always"',
        "essential = true",
        f"user-data = {_toml_string(container_input)}",
        "",
        "[settings.kernel.sysctl]",
        *(f"{_toml_string(key)} = {_toml_string(value)}" for key, value in SWAP_SYSCTLS.items()),
    ]
    return "\n".join(lines) + "\n"


def user_data(toml: str) -> str:
    """Launch-template user data is base64."""
    return base64.b64encode(toml.encode()).decode()
