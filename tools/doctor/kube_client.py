"""A thin wrapper over the Kubernetes API that returns plain data.

Everything the Kubernetes checks look at comes through here as small frozen
dataclasses, so the checks themselves are pure functions that tests can feed
directly. The client is always built from the kubeconfig and context given,
never from whatever kubeconfig the shell happens to point at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from components.kubeconfig import is_kubeconfig_content
from tools.nightly.ready import GROUP, PLURAL

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


class KubeconfigError(Exception):
    """The kubeconfig could not be loaded; the message is safe to print."""


@dataclass(frozen=True)
class ServerVersion:
    major: int
    minor: int
    git_version: str

    @classmethod
    def parse(cls, major: str, minor: str, git_version: str) -> ServerVersion:
        # Managed clusters report minors such as "29+"; the digits are what count.
        def number(text: str) -> int:
            match = re.match(r"\d+", text or "")
            return int(match.group()) if match else 0

        return cls(number(major), number(minor), git_version)


@dataclass(frozen=True)
class StorageClassInfo:
    name: str
    is_default: bool
    provisioner: str = ""


@dataclass(frozen=True)
class NodeInfo:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


class KubeClient:
    def __init__(self, api_client: Any, timeout: float) -> None:
        self._api = api_client
        self._timeout = timeout

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str, context: str | None, timeout: float) -> KubeClient:
        """Load exactly this kubeconfig (a path or the file's contents)."""
        try:
            if is_kubeconfig_content(kubeconfig):
                api = _client_from_contents(kubeconfig, context)
            else:
                path = os.path.expanduser(kubeconfig)
                if not all(os.path.isfile(part) for part in path.split(os.pathsep)):
                    raise KubeconfigError(f"kubeconfig file {kubeconfig} does not exist")
                # persist_config=False: never write refreshed tokens into the user's file.
                api = k8s_config.new_client_from_config(config_file=path, context=context, persist_config=False)
        except k8s_config.ConfigException as error:
            raise KubeconfigError(f"kubeconfig not usable: {_first_line(str(error))}") from None
        return cls(api, timeout)

    def close(self) -> None:
        self._api.close()

    def server_version(self) -> ServerVersion:
        info = k8s.VersionApi(self._api).get_code(_request_timeout=self._timeout)
        # The generated client types every call's return loosely; this one is a VersionInfo.
        if not isinstance(info, k8s.VersionInfo):
            raise TypeError(f"the API server's /version answered {type(info).__name__}, not VersionInfo")
        return ServerVersion.parse(info.major or "", info.minor or "", info.git_version or "")

    def storage_classes(self) -> list[StorageClassInfo]:
        items = k8s.StorageV1Api(self._api).list_storage_class(_request_timeout=self._timeout).items
        return [
            StorageClassInfo(
                name=item.metadata.name,
                is_default=any(
                    (item.metadata.annotations or {}).get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS
                ),
                provisioner=item.provisioner or "",
            )
            for item in items
        ]

    def nodes(self) -> list[NodeInfo]:
        items = k8s.CoreV1Api(self._api).list_node(_request_timeout=self._timeout).items
        return [NodeInfo(name=item.metadata.name, labels=dict(item.metadata.labels or {})) for item in items]

    def materialize(self, namespace: str, name: str, version: str) -> Mapping[str, Any] | None:
        """The Materialize resource, or None when it (or its CRD) does not exist."""
        try:
            found = k8s.CustomObjectsApi(self._api).get_namespaced_custom_object(
                GROUP, version, namespace, PLURAL, name, _request_timeout=self._timeout
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found if isinstance(found, Mapping) else None

    def events(self, namespace: str) -> list[Any]:
        """The namespace's events (kubernetes.client CoreV1Event objects)."""
        return list(k8s.CoreV1Api(self._api).list_namespaced_event(namespace, _request_timeout=self._timeout).items)

    def crd_exists(self, name: str) -> bool:
        try:
            k8s.ApiextensionsV1Api(self._api).read_custom_resource_definition(name, _request_timeout=self._timeout)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True


def _client_from_contents(contents: str, context: str | None) -> Any:
    try:
        document = yaml.safe_load(contents)
    except yaml.YAMLError:
        # The parser's message quotes the offending line, which may hold a token.
        raise KubeconfigError("kubeconfig contents are not valid YAML") from None
    if not isinstance(document, dict):
        raise KubeconfigError("kubeconfig contents are not a YAML mapping")
    return k8s_config.new_client_from_config_dict(document, context=context, persist_config=False)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
