"""One Materialize instance, as a stack configures it."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from components.settings.base import SYSTEM_PARAMETER, Cidr, DnsLabel, InstanceName, Quantity, StrictModel

READY_TIMEOUT_MINUTES = 60
# The authenticators whose mz_system login uses the backend Secret's
# external_login_password_mz_system (the v1alpha1 CRD's backendSecretName
# description: "used as the password for the `mz_system` user if
# `authenticatorKind` is `Password`, `Sasl`, or `Oidc`").
MZ_SYSTEM_PASSWORD_AUTHENTICATORS = frozenset({"Password", "Sasl", "Oidc"})


class Resources(StrictModel):
    requests: dict[Literal["cpu", "memory"], Quantity] = Field(default_factory=dict)
    limits: dict[Literal["cpu", "memory"], Quantity] = Field(default_factory=dict)

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        return {
            kind: {str(name): quantity for name, quantity in values.items()}
            for kind, values in (("requests", self.requests), ("limits", self.limits))
            if values
        }


class Exposure(StrictModel):
    """How an instance's SQL, HTTP and console ports are reached from outside the cluster."""

    # None: internal on clouds; clusterIP where no internal load balancer exists.
    type: Literal["internal", "public", "clusterIP"] | None = None
    allowed_cidrs: list[Cidr] = Field(default_factory=list, alias="allowedCidrs")

    @model_validator(mode="after")
    def _public_needs_allowlist(self) -> Exposure:
        if self.type == "public" and not self.allowed_cidrs:
            raise ValueError(
                "a public load balancer needs an explicit allowedCidrs list "
                "(give 0.0.0.0/0 only if the whole internet may connect)"
            )
        if self.type == "clusterIP" and self.allowed_cidrs:
            raise ValueError("allowedCidrs applies to load balancers only; remove it or use type internal or public")
        return self


class InstanceSettings(StrictModel):
    name: InstanceName = Field(description="Instance name: a DNS-1123 label of at most 40 characters.")
    namespace: DnsLabel | None = Field(default=None, description="Namespace; default materialize-<name>.")
    environment_id: uuid.UUID | None = Field(
        default=None,
        alias="environmentId",
        description="Set only to adopt an existing instance; otherwise derived, stable for the instance's life.",
    )
    environmentd_resources: Resources | None = Field(
        default=None,
        alias="environmentdResources",
        description="environmentd {requests: {cpu, memory}, limits: {memory}}; default the chart's.",
    )
    # Password is the safe default: "None" lets anyone who reaches the port in as any user.
    authenticator: Literal["Password", "Sasl", "Oidc", "None"] = Field(
        default="Password", description="Password, Sasl, Oidc or None (no authentication)."
    )
    rollout_strategy: Literal["WaitUntilReady", "ManuallyPromote", "ImmediatelyPromoteCausingDowntime"] = Field(
        default="WaitUntilReady", alias="rolloutStrategy", description="How upgrades roll out."
    )
    system_parameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, alias="systemParameters", description="Materialize system parameters (name: value)."
    )
    exposure: Exposure = Field(
        default_factory=Exposure,
        description="{type: internal|public|clusterIP, allowedCidrs: [...]}; public needs allowedCidrs.",
    )
    # Extra service-account annotations and pod labels, for identities a byo
    # cluster already has (IRSA role, workload identity, ...).
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict,
        alias="serviceAccountAnnotations",
        description="byo: extra annotations on the instance's service account (e.g. an IRSA role).",
    )
    pod_labels: dict[str, str] = Field(
        default_factory=dict, alias="podLabels", description="byo: extra labels on the instance's pods."
    )
    balancerd_replicas: int | None = Field(
        default=None, ge=1, le=16, alias="balancerdReplicas", description="balancerd pods; default the operator's."
    )
    console_replicas: int | None = Field(
        default=None, ge=0, le=16, alias="consoleReplicas", description="console pods; default the operator's."
    )
    # On by default: with it off every login may read, change or drop anything.
    rbac: bool = Field(
        default=True,
        description="Role-based access control inside Materialize (enableRbac); false only for throwaway stacks.",
    )
    # A first install takes minutes; an upgrade waits for the new generation's
    # clusters to rehydrate, which grows with the data. The operator itself
    # cancels a rollout after its rolloutRequestTimeout (24h), so waiting longer
    # than that is pointless.
    ready_timeout_minutes: int = Field(
        default=READY_TIMEOUT_MINUTES,
        ge=5,
        le=24 * 60,
        alias="readyTimeoutMinutes",
        description="How long `pulumi up` waits for a rollout to finish (5 to 1440 minutes).",
    )

    @field_validator("system_parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not SYSTEM_PARAMETER.match(key):
                raise ValueError(f"{key!r} is not a Materialize system parameter name (lower_snake_case)")
        return value

    @property
    def resolved_namespace(self) -> str:
        return self.namespace or f"materialize-{self.name}"

    @property
    def needs_mz_system_password(self) -> bool:
        return self.authenticator in MZ_SYSTEM_PASSWORD_AUTHENTICATORS
