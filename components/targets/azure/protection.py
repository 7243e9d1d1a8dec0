"""Azure's own deletion protection for stateful resources: a CanNotDelete lock.

A lock stops deletion from anywhere (portal, CLI, another tool), which
Pulumi's `protect` alone cannot; together they follow `protectData`.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure


def delete_lock(
    name: str, scope: pulumi.Input[str], what: str, parent: pulumi.Resource
) -> azure.authorization.ManagementLockByScope:
    return azure.authorization.ManagementLockByScope(
        name,
        scope=scope,
        lock_name="materialize-protect-data",
        level="CanNotDelete",
        notes=f"Holds Materialize's {what}. Remove only after setting protectData: false on the stack.",
        opts=pulumi.ResourceOptions(parent=parent),
    )
