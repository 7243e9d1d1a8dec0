"""The settings of a support stack: `materialize:support`, validated like an install's.

A support stack is a stack of the same project whose config holds
`materialize:support` instead of `materialize:target`. Bad configuration is
refused before anything is registered, in one `pulumi.RunError` naming each
key (`materialize:support.replicas[0].name: ...`), its value (never a
secret's) and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

import psycopg
import pulumi
from psycopg.conninfo import conninfo_to_dict
from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator

from components.cluster_sizes import SizeName, known_sizes
from components.controlplane.connection import INTERNAL_SQL_PORT, SYSTEM_USER, user_problem
from components.controlplane.replicas import ReplicaSpec, format_time, member_names
from components.kubeconfig import is_kubeconfig_content
from components.settings import PROJECT, Settings, StrictModel
from components.settings.base import DnsLabel
from components.settings.loading import decode_config, report, validation_problems

SUPPORT_KEY = "support"
SECRET_PATHS = frozenset(
    {"support.connection.url", "support.connection.password", "support.connection.portForward.kubeconfig"}
)
_TICKET = r"^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}$"


class PortForwardSettings(StrictModel):
    kubeconfig: SecretStr = Field(description="Kubeconfig file path, or its contents set with --secret.")
    kube_context: str | None = Field(default=None, alias="kubeContext", description="Kubeconfig context.")
    namespace: DnsLabel = Field(description="The instance's namespace, e.g. materialize-main.")
    service: DnsLabel = Field(description="environmentd's Service, mz<resourceId>-environmentd.")
    port: int = Field(default=INTERNAL_SQL_PORT, ge=1, le=65535, description="6877, or 6875 with password auth.")


class ConnectionSettings(StrictModel):
    url: SecretStr | None = Field(default=None, description="postgres:// URL of the SQL endpoint (set with --secret).")
    port_forward: PortForwardSettings | None = Field(default=None, alias="portForward")
    # A plain string, so that mz_support is refused with the reason rather than a list of allowed values.
    user: str = Field(default=SYSTEM_USER, description="With portForward: mz_system (the only user that can).")
    password: SecretStr | None = Field(default=None, description="With portForward, for password-auth instances.")
    database: str = Field(default="materialize", min_length=1)
    sslmode: Literal["disable", "prefer", "require"] = "prefer"

    def to_input(self) -> dict[str, Any]:
        """The connection as the dynamic providers and commands take it (contains secrets)."""
        if self.url is not None:
            return {"url": self.url.get_secret_value()}
        assert self.port_forward is not None
        forward = self.port_forward
        return {
            "portForward": {
                "kubeconfig": forward.kubeconfig.get_secret_value(),
                "kubeContext": forward.kube_context,
                "namespace": forward.namespace,
                "service": forward.service,
                "port": forward.port,
            },
            "user": self.user,
            "password": self.password.get_secret_value() if self.password else None,
            "database": self.database,
            "sslmode": self.sslmode,
        }


class _Replicas(StrictModel):
    cluster: str = Field(min_length=1)
    name: str = Field(min_length=1)
    size: SizeName
    billed_as: SizeName | None = Field(default=None, alias="billedAs")
    internal: bool = True
    # RFC 3339 with an offset; a time without one would depend on where `up` runs.
    expires_at: AwareDatetime = Field(alias="expiresAt")

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime.datetime) -> datetime.datetime:
        return value.astimezone(datetime.UTC)

    @property
    def expires(self) -> str:
        return format_time(self.expires_at)

    def spec(self, ticket: str | None) -> ReplicaSpec:
        return ReplicaSpec(
            self.cluster, self.name, self.size, self.expires_at, self.billed_as, self.internal, ticket=ticket
        )


class ReplicaSettings(_Replicas):
    """One temporary replica."""


class ReplicaSetSettings(_Replicas):
    """Replicas <name>-1 ... <name>-<replicationFactor> sharing size, billing and expiry."""

    replication_factor: int = Field(default=1, ge=1, le=32, alias="replicationFactor")

    @property
    def members(self) -> list[str]:
        return member_names(self.name, self.replication_factor)

    def spec(self, ticket: str | None) -> ReplicaSpec:
        """The members' shared spec; their markers name the set."""
        return dataclasses.replace(super().spec(ticket), set_name=self.name)


class SupportSettings(StrictModel):
    connection: ConnectionSettings
    ticket: str | None = Field(default=None, pattern=_TICKET, description="Support ticket, recorded on each replica.")
    extra_sizes: list[SizeName] = Field(default_factory=list, alias="extraSizes")
    replicas: list[ReplicaSettings] = Field(default_factory=list)
    replica_sets: list[ReplicaSetSettings] = Field(default_factory=list, alias="replicaSets")

    @property
    def sizes(self) -> frozenset[str]:
        return known_sizes(self.extra_sizes)


class SupportStack(StrictModel):
    support: SupportSettings


def _install_defaults() -> dict[str, Any]:
    """Keys the Pulumi CLI hands every stack of the project (Pulumi.yaml defaults), with their values."""
    defaults = {}
    for name, info in Settings.model_fields.items():
        if info.default_factory is None and not info.is_required() and info.default is not None:
            defaults[info.alias or name] = info.default
    return defaults


def _install_keys_problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    defaults = _install_defaults()
    decoded = decode_config(Settings, {k: v for k, v in config.items() if k != SUPPORT_KEY})
    for key, value in decoded.items():
        if key in defaults and value == defaults[key]:
            continue  # a project default, not something this stack set
        problems.append(
            f"{PROJECT}:{key}: an install setting; a support stack sets only {PROJECT}:{SUPPORT_KEY} "
            "(keep installs and support in separate stacks)"
        )
    return problems


def _connection_problems(connection: ConnectionSettings, secret: bool) -> list[str]:
    key = f"{PROJECT}:support.connection"
    if (connection.url is None) == (connection.port_forward is None):
        return [f"{key}: set exactly one of url and portForward"]
    problems = []
    if connection.url is not None:
        given = {"user", "password", "database", "sslmode"} & connection.model_fields_set
        if given:
            problems.append(f"{key}: {', '.join(sorted(given))} belong in the url, not beside it")
        try:
            parts = conninfo_to_dict(connection.url.get_secret_value())
        except psycopg.ProgrammingError:
            return [f"{key}.url: (secret, not shown) is not a postgres:// URL or connection string"]
        user = parts.get("user")
        refused = user_problem(None if user is None else str(user))
        if refused:
            problems.append(f"{key}.url: {refused}")
        if parts.get("password") and not secret:
            problems.append(
                f"{key}.url: carries a password in plain text; store it with "
                f"pulumi config set --secret --path {SUPPORT_KEY}.connection.url <url>"
            )
    else:
        assert connection.port_forward is not None
        refused = user_problem(connection.user)
        if refused:
            problems.append(f"{key}.user: {connection.user!r}: {refused}")
        if connection.password is not None and not secret:
            problems.append(
                f"{key}.password: must be stored as a secret: "
                f"pulumi config set --secret --path {SUPPORT_KEY}.connection.password <password>"
            )
        if is_kubeconfig_content(connection.port_forward.kubeconfig.get_secret_value()) and not secret:
            problems.append(
                f"{key}.portForward.kubeconfig: kubeconfig contents must be stored as a secret, "
                "or give a file path instead"
            )
    return problems


def _replica_problems(support: SupportSettings) -> list[str]:
    problems = []
    sizes = support.sizes
    # (cluster, replica name) -> the key that declares it
    declared: dict[tuple[str, str], str] = {}

    def claim(cluster: str, name: str, key: str) -> None:
        other = declared.setdefault((cluster, name), key)
        if other != key:
            problems.append(f"{PROJECT}:{key}: {cluster}.{name} collides with {other} (names must differ in a cluster)")

    for group, entries in (("replicas", support.replicas), ("replicaSets", support.replica_sets)):
        for index, entry in enumerate(entries):
            key = f"support.{group}[{index}]"
            found = entry.spec(support.ticket).problems(sizes)
            problems += [f"{PROJECT}:{key}.{field}: {reason}" for field, reason in found]
            if isinstance(entry, ReplicaSetSettings):
                # The set's own name counts too: it may not be a replica's name.
                for name in [entry.name, *entry.members]:
                    claim(entry.cluster, name, f"{key}.name")
            else:
                claim(entry.cluster, entry.name, f"{key}.name")
    return problems


def load_support_settings(config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()) -> SupportSettings:
    """Validate a support stack's config (keys without the project prefix) into SupportSettings."""
    problems = _install_keys_problems(config)
    raw = decode_config(SupportStack, {SUPPORT_KEY: config.get(SUPPORT_KEY)})
    try:
        support = SupportStack.model_validate(raw).support
    except ValidationError as error:
        raise pulumi.RunError(report(problems + validation_problems(error, SupportStack, SECRET_PATHS))) from None
    problems += _connection_problems(support.connection, SUPPORT_KEY in secret_keys)
    problems += _replica_problems(support)
    if problems:
        raise pulumi.RunError(report(problems))
    return support
