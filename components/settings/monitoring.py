"""Settings of the observability stack (metrics, dashboards, logs, external backends)."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, model_validator

from components.settings.base import PROJECT, Quantity, StrictModel

# Prometheus durations as its --storage.tsdb.retention.time takes them: 15d, 12h, 2w, 1y.
_DURATION = re.compile(r"^[1-9][0-9]*(s|m|h|d|w|y)$")


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not a Prometheus duration such as 30s, 12h, 15d or 2w")
    return value


def _endpoint_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL (credentials are never sent in clear text)")
    if parts.username or parts.password:
        raise ValueError("the URL carries credentials; set username/password or bearerToken instead")
    return value


# Loki keeps logs in whole days: its retention must be a multiple of 24h and at least 24h
# (grafana/loki docs/sources/operations/storage/retention.md, tag helm-loki-7.3.0, commit
# 50c738b4d5b28db6e26723c3828da13bb46f0f06), so only days and weeks are offered.
_DAYS = re.compile(r"^([1-9][0-9]*)(d|w)$")


def _days(value: str) -> str:
    if not _DAYS.match(value):
        raise ValueError(f"{value!r} is not a number of days or weeks such as 7d or 2w (Loki keeps whole days)")
    return value


# A StorageClass name (a DNS-1123 subdomain).
STORAGE_CLASS_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"

Duration = Annotated[str, AfterValidator(_duration)]
Days = Annotated[str, AfterValidator(_days)]
EndpointUrl = Annotated[str, AfterValidator(_endpoint_url)]


def retention_hours(days: str) -> int:
    """A `Days` value in hours, as Loki's limits_config.retention_period is written here."""
    match = _DAYS.match(days)
    if match is None:  # the settings model has validated it already
        raise ValueError(f"{days!r} is not a number of days or weeks")
    return int(match.group(1)) * (24 if match.group(2) == "d" else 24 * 7)


class EndpointCredentials(StrictModel):
    """Basic auth or a bearer token for an external endpoint; both secrets end to end."""

    username: str | None = Field(default=None, description="Basic-auth user (with password).")
    password: SecretStr | None = Field(default=None, description="Basic-auth password (set with --secret).")
    bearer_token: SecretStr | None = Field(
        default=None, alias="bearerToken", description="Bearer token (set with --secret), instead of basic auth."
    )

    @model_validator(mode="after")
    def _one_kind_of_credential(self) -> EndpointCredentials:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (basic auth)")
        if self.password is not None and self.bearer_token is not None:
            raise ValueError("set basic auth (username, password) or bearerToken, not both")
        return self

    @property
    def has_credentials(self) -> bool:
        return self.password is not None or self.bearer_token is not None


class RemoteWrite(EndpointCredentials):
    """A Prometheus remote-write endpoint (Grafana Cloud, Amazon Managed Prometheus through a
    SigV4 proxy, Mimir, Thanos receive, VictoriaMetrics, Datadog's or an OTLP collector's
    Prometheus receiver)."""

    url: EndpointUrl = Field(description="https:// remote-write URL.")


class LogExport(EndpointCredentials):
    """Where else logs go: a Loki push API (Grafana Cloud Logs, Loki, Mimir-style gateways) or
    an OTLP/HTTP logs endpoint (an OpenTelemetry Collector, Datadog, Elastic, Honeycomb, ...)."""

    url: EndpointUrl = Field(
        description="https:// URL: a Loki push URL (.../loki/api/v1/push) or an OTLP/HTTP base URL (/v1/logs is added)."
    )
    protocol: Literal["loki", "otlp"] = Field(default="loki", description="loki (push API) or otlp (OTLP/HTTP).")


class LogsSettings(StrictModel):
    """Collection of Materialize's and the operator's logs (off by default: docs/monitoring.md says why)."""

    enabled: bool = Field(default=False, description="Collect the logs of Materialize's pods and the operator.")
    loki: bool = Field(
        default=True, description="Keep them in an in-cluster Loki (one pod, one volume) shown in Grafana."
    )
    retention: Days = Field(default="7d", description="How long Loki keeps logs, in days or weeks (7d, 2w).")
    storage: Quantity = Field(default="20Gi", description="Size of Loki's volume.")
    storage_class: str | None = Field(
        default=None,
        alias="storageClass",
        pattern=STORAGE_CLASS_NAME,
        description="StorageClass of Loki's volume; default monitoring.storageClass, else the target's.",
    )
    export: list[LogExport] = Field(
        default_factory=list,
        max_length=4,
        description="Also send logs to these: [{url, protocol: loki|otlp, username, password | bearerToken}].",
    )

    @model_validator(mode="after")
    def _somewhere_to_send(self) -> LogsSettings:
        if self.enabled and not self.loki and not self.export:
            raise ValueError("logs are collected but kept nowhere: set loki: true or at least one export")
        return self


class MonitoringSettings(StrictModel):
    enabled: bool = Field(default=True, description="Install the observability stack (false removes all of it).")
    metrics_server: bool | None = Field(
        default=None,
        alias="metricsServer",
        description="Install metrics-server; default: only where the target's cluster lacks one (local).",
    )
    retention: Duration = Field(default="15d", description="How long Prometheus keeps samples (15d, 12h, 2w).")
    storage: Quantity = Field(default="50Gi", description="Size of Prometheus' volume.")
    storage_class: str | None = Field(
        default=None,
        alias="storageClass",
        pattern=STORAGE_CLASS_NAME,
        description="StorageClass of Prometheus' volume; default the target's (the cluster's default class).",
    )
    scrape_interval: Duration = Field(
        default="30s", alias="scrapeInterval", description="How often every target is scraped."
    )
    grafana: bool = Field(default=True, description="Install Grafana with the Materialize dashboards.")
    remote_write: list[RemoteWrite] = Field(
        default_factory=list,
        alias="remoteWrite",
        max_length=8,
        description="Also send every sample to these endpoints: [{url, username, password | bearerToken}].",
    )
    logs: LogsSettings = Field(
        default_factory=LogsSettings,
        description="Log collection: {enabled (false), loki, retention, storage, storageClass, export}.",
    )

    @model_validator(mode="after")
    def _logs_need_the_stack(self) -> MonitoringSettings:
        # Logs live in the monitoring namespace and show in its Grafana.
        if self.logs.enabled and not self.enabled:
            raise ValueError("logs.enabled needs monitoring.enabled (logs run in the monitoring stack's namespace)")
        return self


def monitoring_secret_problems(settings: MonitoringSettings, secret_keys: frozenset[str]) -> list[str]:
    """A remote-write or log-export credential must be stored encrypted (the whole `monitoring` key then is)."""
    if "monitoring" in secret_keys:
        return []
    endpoints: list[tuple[str, EndpointCredentials]] = [
        *((f"remoteWrite[{index}]", endpoint) for index, endpoint in enumerate(settings.remote_write)),
        *((f"logs.export[{index}]", endpoint) for index, endpoint in enumerate(settings.logs.export)),
    ]
    return [
        f"{PROJECT}:monitoring.{path}: carries a credential in plain text; store it with "
        f"pulumi config set --secret --path 'monitoring.{path}.password' <value> "
        "(or .bearerToken)"
        for path, endpoint in endpoints
        if endpoint.has_credentials
    ]
