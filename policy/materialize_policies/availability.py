"""In production, the metadata database survives the loss of a zone.

An RDS instance without Multi-AZ lives in one zone: when that zone fails,
Materialize loses its catalog until the zone returns or a backup is
restored. With Multi-AZ, RDS keeps a synchronous standby in another zone and
fails over to it. The aws target turns it on by default in a stack whose
tags have `environment: production`; a stack may still set
`postgresMultiAz: false`, which only a non-production stack should.

`multiAz` is optional in the provider and RDS's default is a single zone,
so an absent value fails too.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .fields import RDS_INSTANCE, field, is_true
from .protection import is_production, production_config_schema

RDS_MULTI_AZ = field(RDS_INSTANCE, "multiAz")


def validate_rds_multi_az_in_production(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE or not is_production(args.get_config(), args.stack_tags):
        return
    multi_az = RDS_MULTI_AZ.get(args.props)
    if not is_true(multi_az):
        shown = "not set (false)" if multi_az is None else multi_az
        report_violation(
            f"multiAz is {shown}: in a production stack the metadata database must have a standby in a "
            "second zone; remove `postgresMultiAz: false` (or set it true).",
            None,
        )


RDS_MULTI_AZ_IN_PRODUCTION = ResourceValidationPolicy(
    name="rds-multi-az-in-production",
    description=(
        "In a production stack (stack tag environment=production, or this policy's production: true), "
        "every RDS instance is Multi-AZ."
    ),
    validate=validate_rds_multi_az_in_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=production_config_schema(),
)
