"""In production, resources that hold data are `protect`ed from deletion.

The program protects them unless a stack sets `protectData: false`, which a
throwaway stack does. The policy makes sure a production stack never does:
there, a `pulumi destroy` or a replacement must not be able to delete the
metadata database or the persist bucket.

A stack is production when either says so:
- the stack tag `environment` is `production` (`pulumi stack tag set environment production`),
  which lives with the stack in its backend;
- this policy's configuration has `production: true` (`--policy-pack-config`), for a caller that
  cannot or will not tag the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .fields import (
    AZURE_BLOB_CONTAINER,
    AZURE_POSTGRES_DATABASE,
    AZURE_POSTGRES_SERVER,
    AZURE_STORAGE_ACCOUNT,
    CLOUD_SQL_DATABASE,
    CLOUD_SQL_INSTANCE,
    GCS_BUCKET,
    RDS_INSTANCE,
    S3_BUCKET,
    is_true,
)

PRODUCTION_TAG = "environment"
PRODUCTION_VALUE = "production"
PRODUCTION_CONFIG = "production"

# Resources whose deletion loses Materialize's data. KMS keys are not among
# them: AWS deletes a key only after a waiting period (7 to 30 days) during
# which the deletion can be cancelled.
STATEFUL_TYPES = frozenset(
    {
        RDS_INSTANCE,
        S3_BUCKET,
        CLOUD_SQL_INSTANCE,
        CLOUD_SQL_DATABASE,
        GCS_BUCKET,
        AZURE_POSTGRES_SERVER,
        AZURE_POSTGRES_DATABASE,
        AZURE_STORAGE_ACCOUNT,
        AZURE_BLOB_CONTAINER,
    }
)


def production_config_schema() -> PolicyConfigSchema:
    """The `production` switch of every rule that applies to production stacks only."""
    return PolicyConfigSchema(
        properties={
            PRODUCTION_CONFIG: {
                "type": "boolean",
                "default": False,
                "description": "Treat the stack as production even without the environment=production stack tag.",
            }
        }
    )


def is_production(config: Mapping[str, Any], stack_tags: Mapping[str, str]) -> bool:
    tagged = str(stack_tags.get(PRODUCTION_TAG, "")).strip().lower() == PRODUCTION_VALUE
    return tagged or is_true(config.get(PRODUCTION_CONFIG))


def validate_protect_stateful_resources(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in STATEFUL_TYPES or not is_production(args.get_config(), args.stack_tags):
        return
    if not args.opts.protect:
        report_violation(
            "this production stack holds data here without `protect`: "
            "set protectData: true (the default) on the stack.",
            None,
        )


PROTECT_STATEFUL_RESOURCES = ResourceValidationPolicy(
    name="protect-stateful-resources",
    description=(
        "In a production stack (stack tag environment=production, or this policy's production: true), "
        "databases, buckets and storage accounts are protected from deletion."
    ),
    validate=validate_protect_stateful_resources,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=production_config_schema(),
)
