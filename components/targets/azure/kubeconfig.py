"""An exec-based kubeconfig for an AKS cluster that signs in with Entra ID.

AKS hands out a kubeconfig with the API server's address and CA, and a user
that runs `kubelogin get-token` with the cloud's environment, the API
server's Entra ID application and the tenant, in device-code mode. The user
entry is rebuilt around those three values in the login mode the settings
name, so no token or client certificate ever lands in the state file and
whoever (or whatever) runs the program acts as itself:

- `azurecli`: the Azure CLI's sign-in (a person, or `az login` in CI);
- `workloadidentity`: a federated token, from AZURE_FEDERATED_TOKEN_FILE or,
  in GitHub Actions, the runner's OIDC token, for the app in AZURE_CLIENT_ID;
- `spn`: a service principal's secret or certificate from the ARM_* variables
  the azure-native provider reads too (`--use-azurerm-env-vars`);
- `msi`: the machine's managed identity (AZURE_CLIENT_ID picks a user-assigned one).

Sources: Azure/kubelogin pkg/internal/token/options.go@53630c2 (modes, flags,
environment variables) and provider.go@17e2d75 (workload identity in GitHub Actions).
"""

from __future__ import annotations

import base64
import shutil
from typing import Any, Literal

import pulumi
import yaml
from pulumi.runtime import mocks, settings

from components.targets.azure.names import AKS_SERVER_APP_ID

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
KUBELOGIN = "kubelogin"
LoginMode = Literal["azurecli", "workloadidentity", "spn", "msi"]
# kubelogin's default environment when AKS names none.
_PUBLIC_CLOUD = "AzurePublicCloud"
_INSTALL_HINT = "install kubelogin (az aks install-cli, or https://azure.github.io/kubelogin/install.html)"


def _under_mocks() -> bool:
    # The offline plan and the tests run the program against Pulumi's mocks,
    # where nothing ever calls the cluster.
    return isinstance(settings.get_monitor(), mocks.MockMonitor)


def require_kubelogin() -> None:
    """Refuse to start without kubelogin: every Kubernetes call of the stack runs it."""
    if _under_mocks():
        return
    if shutil.which(KUBELOGIN) is None:
        raise pulumi.RunError(
            "materialize:azure.kubeloginMode: the cluster is reached through kubelogin, which is not on the PATH; "
            f"{_INSTALL_HINT}"
        )


def _flag(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def login_args(issued_args: list[str], mode: LoginMode) -> list[str]:
    """kubelogin's arguments for one mode, keeping the cloud, server and tenant AKS named."""
    environment = _flag(issued_args, "--environment") or _PUBLIC_CLOUD
    server_id = _flag(issued_args, "--server-id") or AKS_SERVER_APP_ID
    args = ["get-token", "--login", mode, "--environment", environment, "--server-id", server_id]
    tenant_id = _flag(issued_args, "--tenant-id")
    if tenant_id is not None:
        args += ["--tenant-id", tenant_id]
    if mode == "spn":
        # ARM_CLIENT_ID, ARM_CLIENT_SECRET or ARM_CLIENT_CERTIFICATE_PATH, ARM_TENANT_ID.
        args.append("--use-azurerm-env-vars")
    return args


def exec_kubeconfig(cluster_name: str, credentials: str, mode: LoginMode) -> str:
    """`credentials` is the base64 kubeconfig AKS returns for the cluster user in exec format."""
    issued = yaml.safe_load(base64.b64decode(credentials))
    clusters = issued.get("clusters") or []
    if not clusters:
        raise ValueError(f"AKS returned a kubeconfig without a cluster for {cluster_name}")
    cluster = clusters[0]["cluster"]
    users = issued.get("users") or [{}]
    issued_exec: dict[str, Any] = (users[0].get("user") or {}).get("exec") or {}
    user = f"{cluster_name}-entra-id"
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": cluster["server"],
                    "certificate-authority-data": cluster["certificate-authority-data"],
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": KUBELOGIN,
                        "args": login_args(list(issued_exec.get("args") or []), mode),
                        "interactiveMode": "Never",
                        "installHint": f"{_INSTALL_HINT}; kubelogin signs in with --login {mode}",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    return yaml.safe_dump(document, sort_keys=False)
