"""Role assignments named by what they grant, so the same grant always has the same name.

Azure allows one assignment of a role to a principal at a scope: a second
one, under another name, fails with `RoleAssignmentExists`. An auto-named
assignment gets a new random GUID whenever its resource is created again (a
stack re-created after lost state, a replacement), and so collides with the
assignment that is still there. A name derived from (scope, role,
principal) as a UUIDv5 is the same every time, so re-creating it adopts
the same name instead (`role_assignment_name` is "any valid GUID":
pulumi_azure_native 3.29.0 authorization/role_assignment.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.targets.azure.home import Home
from components.targets.azure.names import role_definition_id

# The namespace every role-assignment name of this project is derived in.
ROLE_ASSIGNMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://materialize.com/pulumi/azure/role-assignments")


def role_assignment_name(scope: str, role_definition: str, principal_id: str) -> str:
    """ARM ids compare case-insensitively, so the name does too."""
    key = "\n".join(part.lower() for part in (scope, role_definition, principal_id))
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


@dataclass(frozen=True)
class Grant:
    scope: pulumi.Input[str]
    # A built-in role's GUID (names.py).
    role: str
    principal_id: pulumi.Input[str]
    # Naming the type skips a directory lookup that fails for a principal
    # created moments ago; None lets Azure look it up.
    principal_type: str | None
    description: str


def assign_role(
    name: str, home: Home, grant: Grant, opts: pulumi.ResourceOptions
) -> azure.authorization.RoleAssignment:
    definition = home.subscription_id.apply(lambda subscription: role_definition_id(subscription, grant.role))
    assignment_name = pulumi.Output.all(grant.scope, definition, grant.principal_id).apply(
        lambda parts: role_assignment_name(parts[0], parts[1], parts[2])
    )
    return azure.authorization.RoleAssignment(
        name,
        role_assignment_name=assignment_name,
        scope=grant.scope,
        role_definition_id=definition,
        principal_id=grant.principal_id,
        principal_type=grant.principal_type,
        description=grant.description,
        opts=pulumi.ResourceOptions.merge(
            # The old assignment must go before its replacement exists: both
            # grant the same role to the same principal at the same scope.
            pulumi.ResourceOptions(delete_before_replace=True),
            opts,
        ),
    )
