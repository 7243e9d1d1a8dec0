"""Checks of the Kubernetes cluster.

`check_*` functions are pure: they judge data from `kube_client` and return
one `Check`. `check_kubernetes` fetches the data and handles API errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from tools.doctor.kube_client import KubeClient, KubeconfigError, NodeInfo, ServerVersion, StorageClassInfo
from tools.doctor.report import Check, Status

SUBJECT = "kubernetes"
# The operator's oldest supported Kubernetes, and the oldest we recommend.
MIN_VERSION = (1, 29)
RECOMMENDED_VERSION = (1, 31)
SWAP_LABEL = "materialize.cloud/swap"
CERT_MANAGER_CRD = "certificates.cert-manager.io"

ClientFactory = Callable[[str, str | None, float], KubeClient]


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


def check_kubernetes(
    kubeconfig: str | None,
    context: str | None,
    swap_enabled: bool,
    cert_manager_install: bool,
    timeout: float,
    factory: ClientFactory = KubeClient.from_kubeconfig,
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
