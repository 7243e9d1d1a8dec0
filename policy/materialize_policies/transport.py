"""TLS on the way to the databases and the blob stores.

A resource policy catches a setting that turns TLS off before anything is
created; stack policies check that the resource which turns it on (an RDS
parameter group, an Azure server parameter, an S3 bucket policy) exists and
belongs to each database or bucket, because its absence is not visible from
the database or bucket alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .companions import of_type, refers_to, require_for_each
from .documents import one_or_many, statements
from .fields import (
    AZURE_POSTGRES_CONFIGURATION,
    AZURE_POSTGRES_SERVER,
    AZURE_STORAGE_ACCOUNT,
    CLOUD_SQL_INSTANCE,
    RDS_INSTANCE,
    RDS_PARAMETER_GROUP,
    S3_BUCKET,
    S3_BUCKET_NAME,
    S3_BUCKET_POLICY,
    field,
    is_false,
    rows,
)

# Cloud SQL modes that refuse unencrypted connections.
CLOUD_SQL_TLS_MODES = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})
CLOUD_SQL_SSL_MODE = field(CLOUD_SQL_INSTANCE, "settings.ipConfiguration.sslMode")

AZURE_TLS_VERSIONS = frozenset({"TLS1_2", "TLS1_3"})
AZURE_MIN_TLS = field(AZURE_STORAGE_ACCOUNT, "minimumTlsVersion")
AZURE_HTTPS_ONLY = field(AZURE_STORAGE_ACCOUNT, "enableHttpsTrafficOnly")

FORCE_SSL = "rds.force_ssl"
PARAMETER_NAME = field(RDS_PARAMETER_GROUP, "parameters[].name")
PARAMETER_VALUE = field(RDS_PARAMETER_GROUP, "parameters[].value")
PARAMETER_NAME_OUT = field(RDS_PARAMETER_GROUP, "parameters[].name", "outputs")
PARAMETER_VALUE_OUT = field(RDS_PARAMETER_GROUP, "parameters[].value", "outputs")
PARAMETER_GROUP_NAME = field(RDS_PARAMETER_GROUP, "name", "outputs")
RDS_ENGINE = field(RDS_INSTANCE, "engine", "outputs")
RDS_PARAMETER_GROUP_NAME = field(RDS_INSTANCE, "parameterGroupName", "outputs")

SECURE_TRANSPORT = "require_secure_transport"
CONFIGURATION_NAME = field(AZURE_POSTGRES_CONFIGURATION, "configurationName")
CONFIGURATION_VALUE = field(AZURE_POSTGRES_CONFIGURATION, "value")
CONFIGURATION_NAME_OUT = field(AZURE_POSTGRES_CONFIGURATION, "name", "outputs")
CONFIGURATION_VALUE_OUT = field(AZURE_POSTGRES_CONFIGURATION, "value", "outputs")
CONFIGURATION_SERVER = field(AZURE_POSTGRES_CONFIGURATION, "serverName")

BUCKET_ARN = field(S3_BUCKET, "arn", "outputs")
POLICY_BUCKET = field(S3_BUCKET_POLICY, "bucket", "outputs")
POLICY_DOCUMENT = field(S3_BUCKET_POLICY, "policy", "outputs")


def _forces_ssl(value: Any) -> bool:
    # Parameter values travel as strings; a number may come back from state.
    return str(value).strip() in ("1", "1.0")


def _is_on(value: Any) -> bool:
    # Azure server parameters are on/off, in any case.
    return str(value).lower() == "on"


def _check_parameter_group(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for name, value in rows(args.props, PARAMETER_NAME, PARAMETER_VALUE):
        if name == FORCE_SSL and not _forces_ssl(value):
            report(f"{FORCE_SSL} is {value}: the database would accept unencrypted connections.", None)


def validate_tls_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind, props = args.resource_type, args.props
    if kind == CLOUD_SQL_INSTANCE:
        mode = CLOUD_SQL_SSL_MODE.get(props)
        if mode not in CLOUD_SQL_TLS_MODES:
            # The default, ALLOW_UNENCRYPTED_AND_ENCRYPTED, accepts plain-text connections.
            report_violation(f"settings.ipConfiguration.sslMode is {mode or 'not set'}, not ENCRYPTED_ONLY.", None)
    elif kind == AZURE_STORAGE_ACCOUNT:
        version = AZURE_MIN_TLS.get(props)
        if version not in AZURE_TLS_VERSIONS:
            # Azure interprets an absent minimum as TLS 1.0.
            report_violation(f"minimumTlsVersion is {version or 'not set (TLS1_0)'}, below TLS1_2.", None)
        if is_false(AZURE_HTTPS_ONLY.get(props)):
            report_violation("enableHttpsTrafficOnly is false: the account would accept plain HTTP.", None)
    elif kind == RDS_PARAMETER_GROUP:
        _check_parameter_group(args, report_violation)
    elif kind == AZURE_POSTGRES_CONFIGURATION and CONFIGURATION_NAME.get(props) == SECURE_TRANSPORT:
        value = CONFIGURATION_VALUE.get(props)
        if not _is_on(value):
            report_violation(f"{SECURE_TRANSPORT} is {value}: the server would accept unencrypted connections.", None)


def _parameter_group_forces_ssl(group: PolicyResource) -> bool:
    return any(
        name == FORCE_SSL and _forces_ssl(value)
        for name, value in rows(group.props, PARAMETER_NAME_OUT, PARAMETER_VALUE_OUT)
    )


def validate_rds_force_ssl(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    groups = of_type(args.resources, RDS_PARAMETER_GROUP)
    for instance in of_type(args.resources, RDS_INSTANCE):
        engine = RDS_ENGINE.get(instance.props)
        # rds.force_ssl is a PostgreSQL parameter; a replica without an engine inherits its source's.
        if not (isinstance(engine, str) and engine.startswith("postgres")):
            continue
        # The instance names its group (not the other way round), so it is the one that refers.
        mine = [group for group in groups if refers_to(instance, RDS_PARAMETER_GROUP_NAME, group, PARAMETER_GROUP_NAME)]
        if not any(_parameter_group_forces_ssl(group) for group in mine):
            why = "its parameter group does not set it" if mine else "its parameter group is not in this stack"
            report_violation(f"{instance.name} lacks {FORCE_SSL}=1: {why}.", instance.urn)


def _requires_secure_transport(_server: PolicyResource, configuration: PolicyResource) -> bool:
    props = configuration.props
    return CONFIGURATION_NAME_OUT.get(props) == SECURE_TRANSPORT and _is_on(CONFIGURATION_VALUE_OUT.get(props))


def validate_azure_postgres_secure_transport(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    require_for_each(
        args,
        AZURE_POSTGRES_SERVER,
        CONFIGURATION_SERVER,
        None,
        _requires_secure_transport,
        f"{SECURE_TRANSPORT}=on",
        report_violation,
    )


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return "*" in one_or_many(principal.get("AWS"))


def _denies_insecure_transport(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator in ("Bool", "BoolIfExists"):
        tests = condition.get(operator)
        if isinstance(tests, Mapping):
            # Condition keys are case-insensitive in IAM.
            for key, value in tests.items():
                if key.lower() == "aws:securetransport" and any(is_false(v) for v in one_or_many(value)):
                    return True
    return False


def _covers(patterns: Any, target: str) -> bool:
    return any(isinstance(p, str) and fnmatchcase(target, p) for p in one_or_many(patterns))


def denies_plain_http(policy: Any, bucket_arn: str) -> bool:
    """Whether the bucket policy refuses every request made without TLS, to the bucket and its objects."""
    for statement in statements(policy):
        if statement.get("Effect") != "Deny":
            continue
        if (
            _is_everyone(statement.get("Principal"))
            and _covers(statement.get("Action"), "s3:AnyAction")
            and _covers(statement.get("Resource"), bucket_arn)
            and _covers(statement.get("Resource"), f"{bucket_arn}/any-object")
            and _denies_insecure_transport(statement.get("Condition"))
        ):
            return True
    return False


def _tls_only_policy(bucket: PolicyResource, policy: PolicyResource) -> bool:
    arn = BUCKET_ARN.get(bucket.props)
    return isinstance(arn, str) and denies_plain_http(POLICY_DOCUMENT.get(policy.props), arn)


def validate_s3_bucket_tls_only(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    require_for_each(
        args,
        S3_BUCKET,
        POLICY_BUCKET,
        S3_BUCKET_NAME,
        _tls_only_policy,
        "a bucket policy denying every request without TLS (aws:SecureTransport false) to it and its objects",
        report_violation,
    )


TLS_REQUIRED = ResourceValidationPolicy(
    name="tls-required",
    description=(
        "Databases and storage refuse unencrypted connections: Cloud SQL sslMode ENCRYPTED_ONLY, Azure storage "
        "TLS 1.2+ over HTTPS only, and no RDS or Azure Postgres parameter that turns TLS off."
    ),
    validate=validate_tls_required,
    enforcement_level=EnforcementLevel.MANDATORY,
)

RDS_FORCE_SSL = StackValidationPolicy(
    name="rds-force-ssl",
    description="Every RDS PostgreSQL instance uses a parameter group of this stack that sets rds.force_ssl=1.",
    validate=validate_rds_force_ssl,
    enforcement_level=EnforcementLevel.MANDATORY,
)

AZURE_POSTGRES_SECURE_TRANSPORT = StackValidationPolicy(
    name="azure-postgres-secure-transport",
    description="Every Azure Flexible Server has its require_secure_transport parameter set to on in this stack.",
    validate=validate_azure_postgres_secure_transport,
    enforcement_level=EnforcementLevel.MANDATORY,
)

S3_BUCKET_TLS_ONLY = StackValidationPolicy(
    name="s3-bucket-tls-only",
    description="Every S3 bucket has a bucket policy that denies all requests made without TLS.",
    validate=validate_s3_bucket_tls_only,
    enforcement_level=EnforcementLevel.MANDATORY,
)
