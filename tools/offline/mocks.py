"""Pulumi mocks with provider-like outputs, and a monitor that records the graph.

Every resource type the program registers must have an entry in `_OUTPUTS`:
an unknown type fails the test, so nothing reaches the graph unmodelled.
Outputs keep the secretness of the inputs they echo, as the engine does.
"""

from __future__ import annotations

import base64
import copy
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from tools.offline.sdk_internals import ensure_event_loop, sync_await
from tools.offline.stable import stable_hex


@dataclass
class Registered:
    """One RegisterResource (or ReadResource) call, as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: set[str]
    protect: bool
    provider: str
    dependencies: list[str]
    options: dict[str, Any]
    read: bool = False
    state: dict[str, Any] = field(default_factory=dict)

    def engine_edges(self) -> set[str]:
        """The URNs the engine creates before this one: dependencies, property dependencies, provider."""
        edges = set(self.dependencies)
        for urns in self.options.get("propertyDependencies", {}).values():
            edges.update(urns)
        if self.provider:
            edges.add(self.provider.rsplit("::", 1)[0])  # a provider reference is "<urn>::<id>"
        return edges

    def is_secret(self, path: str) -> bool:
        """True when the input at `path` (dotted) or one of its ancestors is a secret."""
        return any(path == p or path.startswith(p + ".") for p in self.secret_paths)


def _plain_and_secrets(value: Any, path: str, secrets: set[str]) -> Any:
    """Unwrap the wire form of a property, collecting the paths that are secret."""
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            secrets.add(path)
            return _plain_and_secrets(value.get("value"), path, secrets)
        return {k: _plain_and_secrets(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_and_secrets(v, f"{path}.{i}", secrets) for i, v in enumerate(value)]
    # The wire format has only doubles; whole numbers were integers in the program.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _mark_secret(state: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    node: Any = state
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.get(part)
        if node is None:
            return
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        node[last] = pulumi.Output.secret(node[last])
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = pulumi.Output.secret(node[int(last)])


def _k8s_object(args: pulumi_mocks.MockResourceArgs, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    state = copy.deepcopy(dict(args.inputs))
    metadata = dict(state.get("metadata") or {})
    metadata.setdefault("name", f"{args.name}-{stable_hex(args.name, length=8)}")
    metadata["uid"] = f"{stable_hex(args.name, 'uid', length=8)}-0000-4000-8000-{stable_hex(args.name, length=12)}"
    metadata["resourceVersion"] = "1"
    metadata["creationTimestamp"] = "2026-01-01T00:00:00Z"
    state["metadata"] = metadata
    state.update(extra or {})
    return state


def _k8s_id(state: Mapping[str, Any]) -> str:
    metadata = state["metadata"]
    return f"{metadata['namespace']}/{metadata['name']}" if metadata.get("namespace") else metadata["name"]


def _service(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    spec = dict(args.inputs.get("spec") or {})
    spec["clusterIP"] = "10.96.0." + str(int(stable_hex(args.name, length=2), 16) % 250 + 2)
    status: dict[str, Any] = {"loadBalancer": {}}
    if spec.get("type") == "LoadBalancer":
        status["loadBalancer"] = {"ingress": [{"hostname": f"{args.name}-{stable_hex(args.name)}.lb.example.internal"}]}
    return _k8s_object(args, {"spec": spec, "status": status})


def _secret(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    string_data = args.inputs.get("stringData") or {}
    data = {k: base64.b64encode(str(v).encode()).decode() for k, v in string_data.items()}
    return _k8s_object(args, {"data": data})


def _release(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    state = copy.deepcopy(dict(args.inputs))
    state["status"] = {
        "name": args.inputs.get("name"),
        "namespace": args.inputs.get("namespace"),
        "chart": args.inputs.get("chart"),
        "version": args.inputs.get("version"),
        "appVersion": args.inputs.get("version"),
        "revision": 1,
        "status": "deployed",
    }
    return state


def _materialize(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    """The status the operator writes when the first rollout completed
    (src/orchestratord/src/controller/materialize.rs `promote`)."""
    spec = args.inputs.get("spec") or {}
    status: dict[str, Any] = {
        "resourceId": stable_hex(args.name, length=6),
        "activeGeneration": 1,
        "lastCompletedRolloutEnvironmentdImageRef": spec.get("environmentdImageRef"),
        "conditions": [
            {
                "type": "UpToDate",
                "status": "True",
                "reason": "Applied",
                "message": "Successfully applied changes for generation 1",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:05:00Z",
            }
        ],
    }
    if "requestRollout" in spec:
        status.update(lastCompletedRolloutRequest=spec["requestRollout"], resourcesHash=stable_hex(args.name, "hash"))
    else:
        rollout_hash = stable_hex(args.name, "rollout")
        status.update(requestedRolloutHash=rollout_hash, lastCompletedRolloutHash=rollout_hash)
    return _k8s_object(args, {"status": status})


def _ready_condition(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return _k8s_object(args, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}})


def _random_password(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    length = int(args.inputs.get("length", 16))
    result = (stable_hex(args.name, "password", length=64) * 2)[:length]
    return {**args.inputs, "result": result, "bcryptHash": "$2a$10$" + stable_hex(result, length=53)}


def _deployment_status(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    replicas = args.inputs.get("spec", {}).get("replicas", 1)
    return {
        "observedGeneration": 1,
        "replicas": replicas,
        "readyReplicas": replicas,
        "updatedReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}],
    }


_OUTPUTS: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {
    "pulumi:providers:kubernetes": lambda a: dict(a.inputs),
    "pulumi:providers:random": lambda a: dict(a.inputs),
    "kubernetes:core/v1:Namespace": lambda a: _k8s_object(a, {"status": {"phase": "Active"}}),
    "kubernetes:core/v1:Secret": _secret,
    "kubernetes:core/v1:ConfigMap": _k8s_object,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:helm.sh/v3:Release": _release,
    "kubernetes:materialize.cloud/v1:Materialize": _materialize,
    "kubernetes:materialize.cloud/v1alpha1:Materialize": _materialize,
    "kubernetes:cert-manager.io/v1:ClusterIssuer": _ready_condition,
    "kubernetes:cert-manager.io/v1:Certificate": _ready_condition,
    "random:index/randomPassword:RandomPassword": _random_password,
    # The controller has rolled the single replica out and it passed its probe.
    "kubernetes:apps/v1:StatefulSet": lambda a: _k8s_object(
        a,
        {
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "readyReplicas": 1,
                "currentReplicas": 1,
                "updatedReplicas": 1,
                "availableReplicas": 1,
                "currentRevision": f"{a.name}-{stable_hex(a.name, 'revision', length=10)}",
                "updateRevision": f"{a.name}-{stable_hex(a.name, 'revision', length=10)}",
                "collisionCount": 0,
            }
        },
    ),
    # A Job that ran to completion on its first pod.
    "kubernetes:batch/v1:Job": lambda a: _k8s_object(
        a,
        {
            "status": {
                "startTime": "2026-01-01T00:00:05Z",
                "completionTime": "2026-01-01T00:00:20Z",
                "active": 0,
                "ready": 0,
                "succeeded": 1,
                "terminating": 0,
                "uncountedTerminatedPods": {},
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"},
                    {"type": "Complete", "status": "True", "reason": "CompletionsReached"},
                ],
            }
        },
    ),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _k8s_object,
    # A StorageClass has no status: the object as applied.
    "kubernetes:storage.k8s.io/v1:StorageClass": _k8s_object,
    # Every replica rolled out and ready (the provider waits for that).
    "kubernetes:apps/v1:Deployment": lambda a: _k8s_object(a, {"status": _deployment_status(a)}),
    "kubernetes:apps/v1:DeploymentPatch": _k8s_object,
}


# Invokes (functions) the program calls, answered realistically: token -> answer(args).
_INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}

# One module per cloud target (and one for the control plane), each defining
# OUTPUTS and INVOKES like the two tables above, so a cloud's mocks live beside
# each other and apart from the rest.
MOCK_MODULES: tuple[str, ...] = (
    "tools.offline.gcp_mocks",
    "tools.offline.azure_mocks",
    "tools.offline.aws_mocks",
    "tools.offline.controlplane_mocks",
)

for _module in MOCK_MODULES:
    _cloud = importlib.import_module(_module)
    _OUTPUTS.update(_cloud.OUTPUTS)
    _INVOKES.update(_cloud.INVOKES)


class UnmodelledResource(AssertionError):
    pass


class RealisticMocks(pulumi.runtime.Mocks):
    """Provider-computed outputs per type token; invokes answered from `invokes` (per test) or `_INVOKES`."""

    def __init__(self, previous_outputs: Mapping[str, Any] | None = None) -> None:
        self.previous_outputs = dict(previous_outputs or {})
        self.calls: list[pulumi_mocks.MockCallArgs] = []
        self.invokes: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {
                "name": args.inputs.get("name"),
                "outputs": self.previous_outputs,
                "secretOutputNames": [],
            }
        build = _OUTPUTS.get(args.typ)
        if build is None:
            raise UnmodelledResource(f"no realistic outputs modelled for {args.typ} ({args.name})")
        state = build(args)
        if args.typ.startswith("kubernetes:") and "metadata" in state:
            return _k8s_id(state), state
        return f"{args.name}-{stable_hex(args.typ, args.name, length=8)}", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        answer = self.invokes.get(args.token) or _INVOKES.get(args.token)
        if answer is None:
            raise UnmodelledResource(f"invoke {args.token} is not mocked")
        # No check failures: an empty list, which the mock monitor iterates.
        return answer(args.args), []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps every registration with its options and secrets."""

    def __init__(self, mocks: RealisticMocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def _record(self, request: Any, props: Any, *, read: bool) -> tuple[Registered, dict[str, Any]]:
        wire = json_format.MessageToDict(props)
        secrets: set[str] = set()
        plain = _plain_and_secrets(wire, "", secrets)
        options: dict[str, Any] = {}
        if not read:
            options = {
                "retainOnDelete": request.retainOnDelete,
                "importId": request.importId,
                "deleteBeforeReplace": request.deleteBeforeReplace,
                "ignoreChanges": list(request.ignoreChanges),
                "replaceOnChanges": list(request.replaceOnChanges),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "aliases": [json_format.MessageToDict(a) for a in request.aliases],
                "deletedWith": request.deletedWith,
                "customTimeouts": json_format.MessageToDict(request.customTimeouts),
                "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
            }
        registered = Registered(
            type=request.type,
            name=request.name,
            urn=self.make_urn(request.parent, request.type, request.name),
            parent=request.parent,
            custom=True if read else bool(request.custom),
            inputs=plain,
            secret_paths=secrets,
            protect=bool(getattr(request, "protect", False)) if not read else False,
            provider=request.provider,
            dependencies=list(request.dependencies),
            options=options,
            read=read,
        )
        self.registered.append(registered)
        return registered, wire

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        ensure_event_loop()
        registered, _ = self._record(request, request.object, read=False)
        if not request.custom:
            # Components have no provider; the engine echoes nothing back.
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs = _unwrap_secrets(rpc.deserialize_properties(request.object))
        resource_args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=True,
        )
        id_, state = self.mocks.new_resource(resource_args)
        # The engine always knows a custom resource's id after a create.
        assert id_ is not None, f"the mocks gave {request.type} {request.name} no id"
        registered.state = copy.deepcopy(state)
        for path in sorted(registered.secret_paths) + list(request.additionalSecretOutputs):
            _mark_secret(state, path)
        obj_proto = sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def ReadResource(self, request: Any) -> Any:
        ensure_event_loop()
        self._record(request, request.properties, read=True)
        return super().ReadResource(request)
