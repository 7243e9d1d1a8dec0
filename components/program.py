"""The whole stack: settings -> upgrade guard -> target -> data plane -> exports.

A support stack (its config sets `materialize:support`) runs the control
plane's program instead; the install path never imports the control plane.
"""

from __future__ import annotations

from typing import Any

from components.dataplane.upgrade_guard import check_upgrade, deployed_state
from components.install import build_install, checked_environment_ids
from components.settings import load_settings, read_pulumi_config


async def main() -> dict[str, Any]:
    values, secret_keys = read_pulumi_config()
    if "support" in values:
        from components.controlplane.program import support_main

        return support_main(values, secret_keys)
    # Bad configuration fails here, before anything is registered.
    settings = load_settings(values, secret_keys)
    # Before the guard reads the deployed state: an unavailable target, or a
    # license key that pins an id the settings contradict, is refused first.
    ids = checked_environment_ids(settings)
    check_upgrade(settings, ids, await deployed_state())

    # The same code the materialize:index:Install component runs (components/install.py).
    return build_install(settings, ids)
