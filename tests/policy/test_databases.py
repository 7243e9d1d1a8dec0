"""Database rules: no public endpoint, encrypted storage, TLS forced (resource and stack checks)."""

from __future__ import annotations

from typing import Any

import pytest

from policy.materialize_policies import fields as f
from policy.materialize_policies.encryption import DATABASE_ENCRYPTED_AT_REST
from policy.materialize_policies.endpoints import NO_PUBLIC_DATABASE_ENDPOINT
from policy.materialize_policies.transport import AZURE_POSTGRES_SECURE_TRANSPORT, RDS_FORCE_SSL, TLS_REQUIRED
from tests.policy.harness import matches, policy_resource, stack_violations, violations


def cloud_sql(ip: dict[str, Any] | None) -> dict[str, Any]:
    return {"settings": {"tier": "db-custom-2-7680"} | ({"ipConfiguration": ip} if ip is not None else {})}


@pytest.mark.parametrize(
    ("token", "props", "expected"),
    [
        (f.RDS_INSTANCE, {"publiclyAccessible": False}, []),
        (f.RDS_INSTANCE, {}, []),  # the provider's default is private
        (f.RDS_INSTANCE, {"publiclyAccessible": True}, ["publiclyAccessible is true"]),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"ipv4Enabled": False, "privateNetwork": "vpc"}), []),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"ipv4Enabled": True}), ["ipv4Enabled is not false"]),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"privateNetwork": "vpc"}), ["ipv4Enabled is not false"]),
        (f.CLOUD_SQL_INSTANCE, {}, ["ipv4Enabled is not false"]),  # no settings: a public address by default
        (f.AZURE_POSTGRES_SERVER, {"network": {"publicNetworkAccess": "Disabled"}}, []),
        (f.AZURE_POSTGRES_SERVER, {"network": {"delegatedSubnetResourceId": "/subscriptions/s/subnets/pg"}}, []),
        (f.AZURE_POSTGRES_SERVER, {"network": {"publicNetworkAccess": "Enabled"}}, ["publicNetworkAccess is Enabled"]),
        (
            f.AZURE_POSTGRES_SERVER,
            {"network": {"publicNetworkAccess": "Enabled", "delegatedSubnetResourceId": "/subnets/pg"}},
            ["publicNetworkAccess is Enabled"],
        ),
        (f.AZURE_POSTGRES_SERVER, {}, ["publicNetworkAccess is not set"]),
        (f.S3_BUCKET, {"publiclyAccessible": True}, []),  # not a database: not this rule's business
    ],
)
def test_no_public_database_endpoint(token: str, props: dict[str, Any], expected: list[str]) -> None:
    assert matches(violations(NO_PUBLIC_DATABASE_ENDPOINT, token, props), expected)


@pytest.mark.parametrize(
    ("props", "violates"),
    [({"storageEncrypted": True}, False), ({"storageEncrypted": False}, True), ({}, True)],
)
def test_rds_storage_is_encrypted(props: dict[str, Any], violates: bool) -> None:
    found = violations(DATABASE_ENCRYPTED_AT_REST, f.RDS_INSTANCE, props)
    assert found == (
        ["storageEncrypted is not true: the RDS instance's storage would be unencrypted."] if violates else []
    )


@pytest.mark.parametrize(
    ("token", "props", "expected"),
    [
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"sslMode": "ENCRYPTED_ONLY"}), []),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"sslMode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}), []),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}), ["sslMode is ALLOW_"]),
        (f.CLOUD_SQL_INSTANCE, cloud_sql({"ipv4Enabled": False}), ["sslMode is not set"]),
        (f.RDS_PARAMETER_GROUP, {"parameters": [{"name": "rds.force_ssl", "value": "1"}]}, []),
        (f.RDS_PARAMETER_GROUP, {"parameters": [{"name": "rds.force_ssl", "value": "0"}]}, ["rds.force_ssl is 0"]),
        (f.RDS_PARAMETER_GROUP, {"parameters": [{"name": "log_connections", "value": "0"}]}, []),
        (f.RDS_PARAMETER_GROUP, {}, []),  # whether an instance's group forces TLS is rds-force-ssl's question
        (f.AZURE_POSTGRES_CONFIGURATION, {"configurationName": "require_secure_transport", "value": "ON"}, []),
        (
            f.AZURE_POSTGRES_CONFIGURATION,
            {"configurationName": "require_secure_transport", "value": "off"},
            ["require_secure_transport is off"],
        ),
        (f.AZURE_POSTGRES_CONFIGURATION, {"configurationName": "work_mem", "value": "off"}, []),
        (
            f.AZURE_POSTGRES_CONFIGURATION,
            {"configurationName": "require_secure_transport"},
            ["require_secure_transport is None"],
        ),
    ],
)
def test_tls_required_on_databases(token: str, props: dict[str, Any], expected: list[str]) -> None:
    assert matches(violations(TLS_REQUIRED, token, props), expected)


def rds_pair(parameters: list[dict[str, str]] | None, *, engine: str = "postgres", linked: bool = True) -> list:
    group = policy_resource(f.RDS_PARAMETER_GROUP, "pg", {"name": "pg-1a2b", "parameters": parameters or []})
    instance = policy_resource(
        f.RDS_INSTANCE,
        "db",
        {"engine": engine, "parameterGroupName": "pg-1a2b" if linked else "default.postgres17"},
        {"parameterGroupName": [group] if linked else []},
    )
    return [group, instance]


def test_rds_instance_uses_a_group_that_forces_ssl() -> None:
    assert stack_violations(RDS_FORCE_SSL, rds_pair([{"name": "rds.force_ssl", "value": "1"}])).reported == []
    off = stack_violations(RDS_FORCE_SSL, rds_pair([{"name": "rds.force_ssl", "value": "0"}]))
    assert off.messages == ["db lacks rds.force_ssl=1: its parameter group does not set it."]
    assert off.urns == [rds_pair(None)[1].urn]
    absent = stack_violations(RDS_FORCE_SSL, rds_pair(None))
    assert absent.messages == ["db lacks rds.force_ssl=1: its parameter group does not set it."]


def test_rds_instance_outside_the_stack_or_default_group_is_reported() -> None:
    report = stack_violations(RDS_FORCE_SSL, rds_pair([{"name": "rds.force_ssl", "value": "1"}], linked=False))
    assert report.messages == ["db lacks rds.force_ssl=1: its parameter group is not in this stack."]


def test_rds_group_found_by_name_when_given_as_a_plain_string() -> None:
    group = rds_pair([{"name": "rds.force_ssl", "value": "1"}])[0]

    def named(group_name: str) -> list:
        return [group, policy_resource(f.RDS_INSTANCE, "db", {"engine": "postgres", "parameterGroupName": group_name})]

    assert stack_violations(RDS_FORCE_SSL, named("pg-1a2b")).reported == []
    assert len(stack_violations(RDS_FORCE_SSL, named("pg-other")).reported) == 1


def test_rds_force_ssl_applies_to_postgres_only() -> None:
    assert stack_violations(RDS_FORCE_SSL, rds_pair(None, engine="mysql")).reported == []
    assert stack_violations(RDS_FORCE_SSL, rds_pair(None, engine="aurora-postgresql")).reported == []
    assert len(stack_violations(RDS_FORCE_SSL, rds_pair(None, engine="postgres")).reported) == 1


def azure_server_with(configuration: dict[str, str] | None) -> list:
    server = policy_resource(f.AZURE_POSTGRES_SERVER, "server", {"version": "17"})
    if configuration is None:
        return [server]
    return [server, policy_resource(f.AZURE_POSTGRES_CONFIGURATION, "tls", configuration, {"serverName": [server]})]


def test_azure_server_requires_secure_transport() -> None:
    assert (
        stack_violations(
            AZURE_POSTGRES_SECURE_TRANSPORT, azure_server_with({"name": "require_secure_transport", "value": "on"})
        ).reported
        == []
    )
    off = stack_violations(
        AZURE_POSTGRES_SECURE_TRANSPORT, azure_server_with({"name": "require_secure_transport", "value": "off"})
    )
    assert off.messages == [
        "server lacks require_secure_transport=on: none of its 1 Configuration resource(s) provides it."
    ]
    other = stack_violations(AZURE_POSTGRES_SECURE_TRANSPORT, azure_server_with({"name": "work_mem", "value": "on"}))
    assert len(other.reported) == 1
    absent = stack_violations(AZURE_POSTGRES_SECURE_TRANSPORT, azure_server_with(None))
    assert absent.messages == ["server lacks require_secure_transport=on: no Configuration in this stack refers to it."]
