"""Checks of the Kubernetes cluster.

`check_*` functions are pure: they judge data from `kube_client` and return
one `Check`. `check_kubernetes` fetches the data and handles API errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from components.dataplane.operator import OPERATOR_NAMESPACE
from tools.doctor.kube_client import KubeClient, KubeconfigError, NodeInfo, ServerVersion, StorageClassInfo
from tools.doctor.report import Check, Status
from tools.instance_status import diagnosis
from tools.nightly.ready import readiness

SUBJECT = "kubernetes"
# The operator's oldest supported Kubernetes, and the oldest we recommend.
MIN_VERSION = (1, 29)
RECOMMENDED_VERSION = (1, 31)
SWAP_LABEL = "materialize.cloud/swap"
CERT_MANAGER_CRD = "certificates.cert-manager.io"

ClientFactory = Callable[[str, str | None, float], KubeClient]


@dataclass(frozen=True)
class InstanceRef:
    """A `Materialize` resource the stack creates: named after the instance, in its namespace."""

    name: str
    namespace: str
    crd_version: str = "v1"


def check_server_version(version: ServerVersion) -> Check:
    found = (version.major, version.minor)
    shown = version.git_version or f"v{version.major}.{version.minor}"
    if found < MIN_VERSION:
        return Check(
            Status.FAIL,
            SUBJECT,
            f"server {shown} is older than {_v(MIN_VERSION)}, the oldest version the Materialize operator supports",
            f"upgrade the cluster to {_v(RECOMMENDED_VERSION)} or newer",
        )
    if found < RECOMMENDED_VERSION:
        return Check(
            Status.WARN,
            SUBJECT,
            f"server {shown} works but is older than the recommended {_v(RECOMMENDED_VERSION)}",
            f"plan an upgrade to {_v(RECOMMENDED_VERSION)} or newer",
        )
    return Check(Status.OK, SUBJECT, f"server {shown}")


def check_default_storage_class(classes: Sequence[StorageClassInfo]) -> Check:
    defaults = sorted(item.name for item in classes if item.is_default)
    if not defaults:
        names = ", ".join(sorted(item.name for item in classes)) or "none"
        return Check(
            Status.FAIL,
            SUBJECT,
            f"no default StorageClass (classes: {names})",
            "mark one as default: kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true",
        )
    if len(defaults) > 1:
        return Check(
            Status.WARN,
            SUBJECT,
            f"several default StorageClasses ({', '.join(defaults)}); Kubernetes picks the newest",
            "keep the default annotation on one StorageClass only",
        )
    return Check(Status.OK, SUBJECT, f"default StorageClass {defaults[0]}")


def check_swap_nodes(nodes: Sequence[NodeInfo], swap_enabled: bool) -> Check:
    labelled = sorted(node.name for node in nodes if node.labels.get(SWAP_LABEL) == "true")
    if not swap_enabled:
        return Check(Status.OK, SUBJECT, "swap is off (materialize:swap false); no swap-labelled nodes needed")
    if not labelled:
        return Check(
            Status.FAIL,
            SUBJECT,
            f"swap is on but no node is labelled {SWAP_LABEL}=true, so cluster replicas would stay Pending",
            f"set up swap on the nodes' local NVMe and run kubectl label node NODE {SWAP_LABEL}=true, "
            "or set materialize:swap false",
        )
    shown = ", ".join(labelled[:5]) + (f" and {len(labelled) - 5} more" if len(labelled) > 5 else "")
    return Check(Status.OK, SUBJECT, f"{len(labelled)} node(s) labelled {SWAP_LABEL}=true: {shown}")


def check_cert_manager(installed: bool | None, stack_installs: bool) -> Check:
    """`installed` is None when the doctor may not read CRDs."""
    if installed is None:
        return Check(
            Status.WARN,
            SUBJECT,
            f"could not tell whether cert-manager is installed (reading CRD {CERT_MANAGER_CRD} is forbidden)",
        )
    if installed and stack_installs:
        return Check(
            Status.WARN,
            SUBJECT,
            "cert-manager is already installed, and the stack would install it again",
            "set materialize:certManager to {install: false}",
        )
    if installed:
        return Check(Status.OK, SUBJECT, "cert-manager is installed")
    if stack_installs:
        return Check(
            Status.WARN,
            SUBJECT,
            f"cert-manager is not installed (no CRD {CERT_MANAGER_CRD}); the stack will install it",
        )
    return Check(
        Status.FAIL,
        SUBJECT,
        "cert-manager is not installed and materialize:certManager.install is false",
        "install cert-manager, or let the stack install it (certManager.install true)",
    )


def check_instance(
    instance: InstanceRef,
    resource: Mapping[str, Any] | None,
    events_by_namespace: Sequence[tuple[str, Iterable[Any]]] = (),
) -> Check:
    """An instance already deployed should have rolled out what it asks for; one not deployed yet is fine.

    Ready means what the program's own wait means (components/dataplane/materialize_resource.py): the
    `UpToDate` condition is True for the current generation and the last completed rollout is of the
    requested environmentd image. Otherwise the check carries the status and the recent events of the
    instance's and the operator's namespaces, which is where the operator says why.
    """
    where = f"instance {instance.name} (Materialize {instance.namespace}/{instance.name})"
    if resource is None:
        return Check(Status.OK, SUBJECT, f"{where} is not deployed yet")
    spec = resource.get("spec") or {}
    status = resource.get("status") or {}
    requested = spec.get("environmentdImageRef")
    completed = status.get("lastCompletedRolloutEnvironmentdImageRef")
    state = readiness(resource)
    if state.ready and (requested is None or requested == completed):
        return Check(Status.OK, SUBJECT, f"{where} is up to date ({completed or state.detail})")
    # No condition at all means the operator refused or never saw it; False means the rollout failed.
    # Anything else (Unknown, or a True left from an older spec or image) is a rollout still under way.
    conditions = [c for c in status.get("conditions") or [] if c.get("type") == "UpToDate"]
    failed = not conditions or any(c.get("status") == "False" for c in conditions)
    if state.ready:
        detail = f"the last completed rollout is of {completed or '(none)'}, not of the requested {requested}"
    else:
        detail = state.detail
    details = diagnosis(resource, events_by_namespace).splitlines()
    message = f"{where} is {'not ready' if failed else 'still rolling out'}: {detail}"
    return Check(
        Status.FAIL if failed else Status.WARN,
        SUBJECT,
        "\n        ".join([message, *details]),
        f"kubectl describe materialize -n {instance.namespace} {instance.name}; "
        f"kubectl logs -n {OPERATOR_NAMESPACE} -l app.kubernetes.io/name=materialize-operator --tail=200 "
        "(docs/doctor.md, 'An instance that is not ready')",
    )


def check_kubernetes(
    kubeconfig: str | None,
    context: str | None,
    swap_enabled: bool,
    cert_manager_install: bool,
    timeout: float,
    factory: ClientFactory = KubeClient.from_kubeconfig,
    instances: Sequence[InstanceRef] = (),
) -> Iterator[Check]:
    if kubeconfig is None:
        yield Check(
            Status.FAIL,
            SUBJECT,
            "no kubeconfig given (the doctor never falls back to ~/.kube/config on its own)",
            "set materialize:kubeconfig, or pass --kubeconfig / KUBECONFIG",
        )
        return
    try:
        client = factory(kubeconfig, context, timeout)
    except KubeconfigError as error:
        yield Check(Status.FAIL, SUBJECT, str(error), "check materialize:kubeconfig and materialize:kubeContext")
        return
    try:
        try:
            version = client.server_version()
        except ApiException as error:
            yield _api_failure(error, "read the server version")
            return
        except (Urllib3Error, OSError):
            yield Check(
                Status.FAIL,
                SUBJECT,
                f"cannot reach the API server of context {context or '(current-context)'} within {timeout:g}s",
                "check the kubeconfig's server address, VPN and credentials plugin",
            )
            return
        yield check_server_version(version)
        yield _guarded(lambda: check_default_storage_class(client.storage_classes()), "list StorageClasses")
        yield _guarded(lambda: check_swap_nodes(client.nodes(), swap_enabled), "list nodes")
        yield _cert_manager(client, cert_manager_install)
        for instance in instances:
            yield _guarded(lambda instance=instance: _instance(client, instance), f"read instance {instance.name}")
    finally:
        client.close()


def _cert_manager(client: KubeClient, stack_installs: bool) -> Check:
    try:
        installed: bool | None = client.crd_exists(CERT_MANAGER_CRD)
    except ApiException as error:
        if error.status != 403:
            return _api_failure(error, "read CustomResourceDefinitions")
        installed = None
    except (Urllib3Error, OSError):
        return Check(Status.FAIL, SUBJECT, "the API server stopped answering")
    return check_cert_manager(installed, stack_installs)


def _instance(client: KubeClient, instance: InstanceRef) -> Check:
    resource = client.materialize(instance.namespace, instance.name, instance.crd_version)
    if resource is None:
        return check_instance(instance, None)
    found: list[tuple[str, Iterable[Any]]] = []
    for namespace in (instance.namespace, OPERATOR_NAMESPACE):
        try:
            found.append((namespace, client.events(namespace)))
        except ApiException as error:
            found.append((f"{namespace} (events not readable: HTTP {error.status})", []))
    return check_instance(instance, resource, found)


def _guarded(check: Callable[[], Check], action: str) -> Check:
    try:
        return check()
    except ApiException as error:
        return _api_failure(error, action)
    except (Urllib3Error, OSError):
        return Check(Status.FAIL, SUBJECT, "the API server stopped answering")


def _api_failure(error: ApiException, action: str) -> Check:
    if error.status == 401:
        return Check(
            Status.FAIL,
            SUBJECT,
            "the API server rejected the kubeconfig's credentials (401)",
            "refresh the credentials (token, certificate or exec plugin) in the kubeconfig",
        )
    if error.status == 403:
        return Check(
            Status.FAIL,
            SUBJECT,
            f"not allowed to {action} (403)",
            "run the doctor with the identity `pulumi up` will use; it needs cluster-admin rights",
        )
    return Check(Status.FAIL, SUBJECT, f"could not {action} (HTTP {error.status})")


def _v(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"
