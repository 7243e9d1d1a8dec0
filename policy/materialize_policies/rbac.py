"""In production, every Materialize instance checks privileges (RBAC) inside the database.

The `Materialize` resource's `enableRbac` defaults to false in the CRD (see
`crd-fields-v1.json` / `crd-fields-v1alpha1.json` in Materialize's reference
data); the installer sends true unless an instance sets `rbac: false`, which
only a throwaway stack should. The resource is a custom resource of the
operator's CRD, not a provider SDK type: tests/policy/test_fields.py checks
its field against Materialize's CRD reference data instead.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .fields import MATERIALIZE_V1, MATERIALIZE_V1ALPHA1, field
from .protection import is_production, production_config_schema

ENABLE_RBAC = {token: field(token, "spec.enableRbac") for token in (MATERIALIZE_V1, MATERIALIZE_V1ALPHA1)}
MATERIALIZE_TYPES = frozenset(ENABLE_RBAC)


def validate_rbac_on_in_production(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in MATERIALIZE_TYPES or not is_production(args.get_config(), args.stack_tags):
        return
    enabled = ENABLE_RBAC[args.resource_type].get(args.props)
    # Absent means the CRD's default, which is off.
    if enabled is not True:
        shown = "not set (false)" if enabled is None else enabled
        report_violation(
            f"spec.enableRbac is {shown}: in a production stack every login "
            "could read, change or drop any object; remove `rbac: false` from the instance.",
            None,
        )


RBAC_ON_IN_PRODUCTION = ResourceValidationPolicy(
    name="materialize-rbac-on-in-production",
    description=(
        "In a production stack (stack tag environment=production, or this policy's production: true), "
        "every Materialize instance has role-based access control on."
    ),
    validate=validate_rbac_on_in_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=production_config_schema(),
)
