"""No database gets a public endpoint: the metadata store is reached from the cluster only."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .fields import AZURE_POSTGRES_SERVER, CLOUD_SQL_INSTANCE, RDS_INSTANCE, field, is_false, is_true

RDS_PUBLIC = field(RDS_INSTANCE, "publiclyAccessible")
CLOUD_SQL_PUBLIC_IP = field(CLOUD_SQL_INSTANCE, "settings.ipConfiguration.ipv4Enabled")
AZURE_PUBLIC_ACCESS = field(AZURE_POSTGRES_SERVER, "network.publicNetworkAccess")
AZURE_DELEGATED_SUBNET = field(AZURE_POSTGRES_SERVER, "network.delegatedSubnetResourceId")


def validate_no_public_database_endpoint(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if args.resource_type == RDS_INSTANCE:
        # The provider's default is private, so only an explicit true is public.
        if is_true(RDS_PUBLIC.get(props)):
            report_violation("publiclyAccessible is true: RDS gives the instance a public address.", None)
    elif args.resource_type == CLOUD_SQL_INSTANCE:
        # Cloud SQL assigns a public IPv4 address unless told not to.
        if not is_false(CLOUD_SQL_PUBLIC_IP.get(props)):
            report_violation(
                "settings.ipConfiguration.ipv4Enabled is not false: Cloud SQL assigns a public IPv4 address "
                "by default. Set it to false and use a private network.",
                None,
            )
    elif args.resource_type == AZURE_POSTGRES_SERVER:
        access = AZURE_PUBLIC_ACCESS.get(props)
        # A server placed on a delegated subnet has no public endpoint at all.
        private_by_subnet = access is None and bool(AZURE_DELEGATED_SUBNET.get(props))
        if access != "Disabled" and not private_by_subnet:
            report_violation(
                f"network.publicNetworkAccess is {access or 'not set'}: set it to Disabled, "
                "or put the server on a delegated subnet.",
                None,
            )


NO_PUBLIC_DATABASE_ENDPOINT = ResourceValidationPolicy(
    name="no-public-database-endpoint",
    description="Databases (RDS, Cloud SQL, Azure Flexible Server) have no public endpoint.",
    validate=validate_no_public_database_endpoint,
    enforcement_level=EnforcementLevel.MANDATORY,
)
