"""Bottlerocket settings (TOML user data) for Materialize's nodes.

Every Materialize node raises the open-files limit of its containers to
1048576, the value Materialize's Terraform gives its Bottlerocket nodes
(materialize-terraform-self-managed@187f61a,
aws/modules/karpenter-ec2nodeclass/main.tf, default_userdata).

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
MAX_OPEN_FILES = 1048576


def _toml_string(value: str) -> str:
    # JSON string escaping is valid TOML basic-string escaping for these values.
    return json.dumps(value)


def materialize_node_settings(image: str, swap: bool) -> str:
    """The TOML document for a Materialize node, with the swap setup when `swap`."""
    lines = [
        "[settings.oci-defaults.resource-limits.max-open-files]",
        f"soft-limit = {MAX_OPEN_FILES}",
        f"hard-limit = {MAX_OPEN_FILES}",
    ]
    if swap:
        lines += ["", *_swap_lines(image)]
    return "\n".join(lines) + "\n"


def _swap_lines(image: str) -> list[str]:
    container_input = base64.b64encode(json.dumps(list(SWAP_SETUP_ARGS)).encode()).decode()
    return [
        f"[settings.bootstrap-containers.{BOOTSTRAP_CONTAINER}]",
        f"source = {_toml_string(image)}",
        'mode = "always"',
        "essential = true",
        f"user-data = {_toml_string(container_input)}",
        "",
        "[settings.kernel.sysctl]",
        *(f"{_toml_string(key)} = {_toml_string(value)}" for key, value in SWAP_SYSCTLS.items()),
    ]


def user_data(toml: str) -> str:
    """Launch-template user data is base64."""
    return base64.b64encode(toml.encode()).decode()
