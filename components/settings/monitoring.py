"""Settings of the observability stack (metrics, dashboards, external backends)."""

from __future__ import annotations

import re
from typing import Annotated
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


Duration = Annotated[str, AfterValidator(_duration)]


class RemoteWrite(StrictModel):
    """A Prometheus remote-write endpoint (Grafana Cloud, Amazon Managed Prometheus through a
    SigV4 proxy, Mimir, Thanos receive, VictoriaMetrics, Datadog's or an OTLP collector's
    Prometheus receiver)."""

    url: Annotated[str, AfterValidator(_endpoint_url)] = Field(description="https:// remote-write URL.")
    username: str | None = Field(default=None, description="Basic-auth user (with password).")
    password: SecretStr | None = Field(default=None, description="Basic-auth password (set with --secret).")
    bearer_token: SecretStr | None = Field(
        default=None, alias="bearerToken", description="Bearer token (set with --secret), instead of basic auth."
    )

    @model_validator(mode="after")
    def _one_kind_of_credential(self) -> RemoteWrite:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (basic auth)")
        if self.password is not None and self.bearer_token is not None:
            raise ValueError("set basic auth (username, password) or bearerToken, not both")
        return self

    @property
    def has_credentials(self) -> bool:
        return self.password is not None or self.bearer_token is not None


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
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
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


def monitoring_secret_problems(settings: MonitoringSettings, secret_keys: frozenset[str]) -> list[str]:
    """A remote-write credential must be stored encrypted (the whole `monitoring` key then is)."""
    if "monitoring" in secret_keys:
        return []
    return [
        f"{PROJECT}:monitoring.remoteWrite[{index}]: carries a credential in plain text; store it with "
        f"pulumi config set --secret --path 'monitoring.remoteWrite[{index}].password' <value> "
        "(or .bearerToken)"
        for index, endpoint in enumerate(settings.remote_write)
        if endpoint.has_credentials
    ]
