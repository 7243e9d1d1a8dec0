"""The whole stack: settings -> upgrade guard -> target -> data plane -> exports.

A support stack (its config sets `materialize:support`) runs the control
plane's program instead; the install path never imports the control plane.
"""

from __future__ import annotations

from typing import Any

from components.dataplane.environment_id import environment_ids
from components.dataplane.upgrade_guard import check_upgrade, deployed_state, own_stack_name
from components.install import build_install
from components.settings import load_settings, read_pulumi_config
from components.targets import target_class


async def main() -> dict[str, Any]:
    values, secret_keys = read_pulumi_config()
    if "support" in values:
        from components.controlplane.program import support_main

        return support_main(values, secret_keys)
    # Bad configuration fails here, before anything is registered.
    settings = load_settings(values, secret_keys)
    # An unavailable target is refused before the guard and the license-key checks.
    target_class(settings)
    # Before the guard reads the deployed state: a license key that pins an
    # id the settings contradict is refused before anything is registered.
    ids = environment_ids(settings, own_stack_name())
    check_upgrade(settings, ids, await deployed_state())

    # The same component other languages use through the package (components/install.py).
    return build_install(settings, ids)
