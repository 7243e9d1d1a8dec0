"""Feeding the policy rules resources, as the Pulumi engine and the policy SDK would.

Two ways in:
- `resource_args` / `stack_args` build the SDK's own argument objects for a
  direct call of one rule's `validate`; props go through the SDK's unknown-
  checking proxies, so a rule sees read-only mappings exactly as in a run;
- `Analyzer` drives the SDK's analyzer service (the object `PolicyPack`
  serves to the engine over gRPC) with protobuf requests built from
  resources recorded under mocks: the real deserialization, configuration
  and enforcement-level handling of pulumi-policy==1.21.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import unknown_checking_proxy

from policy.materialize_policies import PACK_NAME
from tools.offline.mocks import Registered

URN_PREFIX = "urn:pulumi:test::materialize::"


def urn(token: str, name: str) -> str:
    return f"{URN_PREFIX}{token}::{name}"


def engine_props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Props as a rule receives them: plain JSON values behind the SDK's read-only proxies."""
    return unknown_checking_proxy(deserialize_properties(dict(props)))


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(
    token: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        token, engine_props(props), urn(token, name), name, options(protect), None, config, stack_tags
    )


def policy_resource(
    token: str,
    name: str,
    props: Mapping[str, Any],
    property_dependencies: Mapping[str, Sequence[PolicyResource]] | None = None,
) -> PolicyResource:
    return PolicyResource(
        token,
        engine_props(props),
        urn(token, name),
        name,
        options(),
        None,
        None,
        [d for deps in (property_dependencies or {}).values() for d in deps],
        {key: list(deps) for key, deps in (property_dependencies or {}).items()},
    )


def stack_args(resources: Iterable[PolicyResource]) -> StackValidationArgs:
    return StackValidationArgs(list(resources))


@dataclass
class Violations:
    """A report_violation callback that keeps what it was told."""

    reported: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.reported.append((message, urn))

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.reported]

    @property
    def urns(self) -> list[str | None]:
        return [u for _, u in self.reported]


def violations(policy: ResourceValidationPolicy, token: str, props: Mapping[str, Any], **options: Any) -> list[str]:
    """What a resource policy reports on one resource; `options` as `resource_args` takes them."""
    report = Violations()
    policy.validate(resource_args(token, props, **options), report)
    return report.messages


def stack_violations(policy: StackValidationPolicy, resources: Iterable[PolicyResource]) -> Violations:
    """What a stack policy reports on these resources."""
    report = Violations()
    policy.validate(stack_args(resources), report)
    return report


def matches(found: Sequence[str], expected: Sequence[str]) -> bool:
    """Whether each message holds its expected fragment, in order, with none left over."""
    return len(found) == len(expected) and all(e in m for m, e in zip(found, expected, strict=True))


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    urn: str
    message: str
    mandatory: bool


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(values))
    return message


class Analyzer:
    """The policy SDK's analyzer service, configured as the engine would configure it."""

    def __init__(
        self,
        policies: list[Policy],
        *,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        stack_tags: Mapping[str, str] | None = None,
    ) -> None:
        self.servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", policies, EnforcementLevel.ADVISORY)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy in policies:
            # The engine always sends each policy's effective level along with its properties.
            level = policy.enforcement_level or EnforcementLevel.ADVISORY
            request.policyConfig[policy.name].enforcementLevel = getattr(analyzer_pb2, level.name)
            request.policyConfig[policy.name].properties.update(dict((config or {}).get(policy.name, {})))
        self.servicer.Configure(request, None)
        self.servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(tags=dict(stack_tags or {})), None)

    @staticmethod
    def _diagnostics(response: Any) -> list[Diagnostic]:
        return [
            Diagnostic(d.policyName, d.urn, d.message, d.enforcementLevel == analyzer_pb2.MANDATORY)
            for d in response.diagnostics
        ]

    def analyze(self, resource: Registered) -> list[Diagnostic]:
        """Resource policies, on a resource's inputs, before it is created."""
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=_struct(resource.inputs),
            options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent),
        )
        diagnostics = self._diagnostics(self.servicer.Analyze(request, None))
        # A resource diagnostic carries no urn; say whose it is.
        return [Diagnostic(d.policy, resource.urn, d.message, d.mandatory) for d in diagnostics]

    def analyze_stack(self, resources: Iterable[Registered]) -> list[Diagnostic]:
        """Stack policies, on every resource's outputs, once the update has run."""
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    properties=_struct(r.state),
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent),
                    parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={
                        key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                        for key, urns in r.options.get("propertyDependencies", {}).items()
                    },
                )
                for r in resources
            ]
        )
        return self._diagnostics(self.servicer.AnalyzeStack(request, None))

    def run(self, registered: Sequence[Registered]) -> list[Diagnostic]:
        """Everything a `pulumi up` would run: each custom resource, then the stack."""
        found = [d for r in registered if r.custom and not r.read for d in self.analyze(r)]
        return found + self.analyze_stack(registered)
