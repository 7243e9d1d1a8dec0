"""An exec-based kubeconfig for an AKS cluster that signs in with Entra ID.

AKS hands out a kubeconfig with the API server's address and CA; its user
entry is replaced by `kubelogin` reading the Azure CLI's sign-in, so no token
or client certificate ever lands in the state file, and whoever runs the
program acts as themselves.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

from components.targets.azure.names import AKS_SERVER_APP_ID

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def exec_kubeconfig(cluster_name: str, credentials: str) -> str:
    """`credentials` is the base64 kubeconfig AKS returns for the cluster user."""
    issued = yaml.safe_load(base64.b64decode(credentials))
    clusters = issued.get("clusters") or []
    if not clusters:
        raise ValueError(f"AKS returned a kubeconfig without a cluster for {cluster_name}")
    cluster = clusters[0]["cluster"]
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
                        "command": "kubelogin",
                        "args": ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID],
                        "interactiveMode": "Never",
                        "installHint": "install kubelogin (az aks install-cli) and sign in with az login",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
    }
    return yaml.safe_dump(document, sort_keys=False)
