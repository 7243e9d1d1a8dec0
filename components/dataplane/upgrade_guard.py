"""Refuse upgrades that cannot go right, before anything changes.

What is deployed is read from this stack's own last outputs (see
`deployed_state`). The rules: never downgrade, at most one major version at a
time, never change an instance's environmentId or CRD version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.settings import PROJECT, Settings
from components.versions import Version


@dataclass(frozen=True)
class DeployedState:
    version: str | None = None
    crd_version: str | None = None
    environment_ids: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> DeployedState:
        instances = outputs.get("instances") or {}
        return cls(
            version=outputs.get("materializeVersion"),
            crd_version=outputs.get("crdVersion"),
            environment_ids={
                name: details["environmentId"]
                for name, details in instances.items()
                if isinstance(details, Mapping) and details.get("environmentId")
            },
        )


def check_upgrade(settings: Settings, environment_ids: Mapping[str, str], deployed: DeployedState) -> None:
    problems: list[str] = []
    if deployed.version is not None:
        before, after = Version.parse(deployed.version), Version.parse(settings.version)
        if after < before:
            problems.append(
                f"{PROJECT}:version: {settings.version} is older than the deployed {deployed.version}; "
                "Materialize cannot be downgraded"
            )
        elif after.major > before.major + 1:
            problems.append(
                f"{PROJECT}:version: {settings.version} skips a major version from the deployed {deployed.version}; "
                f"upgrade to the latest v{before.major + 1}.x.y first"
            )
    for name, environment_id in sorted(environment_ids.items()):
        previous = deployed.environment_ids.get(name)
        if previous is not None and previous != environment_id:
            problems.append(
                f"{PROJECT}:instances[{name}].environmentId: {environment_id} differs from the deployed {previous}; "
                "an instance's environmentId can never change (its stored data is keyed by it); "
                f"if a new {PROJECT}:licenseKey pins this id, use the key issued for {previous}"
            )
    if deployed.crd_version is not None and deployed.crd_version != settings.crd_version and deployed.environment_ids:
        problems.append(
            f"{PROJECT}:crdVersion: {settings.crd_version} differs from the deployed {deployed.crd_version}; "
            "switching the CRD version of existing instances is not done by this installer"
        )
    if problems:
        raise pulumi.RunError("upgrade refused:\n" + "\n".join(f"  - {line}" for line in problems))


async def deployed_state() -> DeployedState:
    """This stack's outputs from its last successful update (empty on the first)."""
    reference = pulumi.StackReference("deployed-state", stack_name=own_stack_name())
    outputs = await reference.outputs.future()
    return DeployedState.from_outputs(outputs or {})


def own_stack_name() -> str:
    # Self-managed (file, S3, ...) backends name every organization "organization".
    return f"{pulumi.get_organization() or 'organization'}/{pulumi.get_project()}/{pulumi.get_stack()}"
