"""A kubeconfig for a GKE cluster that holds no credential.

Authentication is delegated to `gke-gcloud-auth-plugin`, which asks gcloud
for a short-lived token whenever the cluster is contacted, so nothing in the
state file (or the exported kubeconfig) can be replayed later.
"""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
_INSTALL_HINT = (
    "Install gke-gcloud-auth-plugin to reach GKE clusters: "
    "gcloud components install gke-gcloud-auth-plugin (see docs/gcp.md)"
)


def gke_kubeconfig(context_name: str, endpoint: str, ca_certificate: str) -> str:
    """The kubeconfig (as JSON, which is YAML too) for one cluster endpoint and its CA."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context_name,
                "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate},
            }
        ],
        "users": [
            {
                "name": context_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": AUTH_PLUGIN,
                        "installHint": _INSTALL_HINT,
                        "provideClusterInfo": True,
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": context_name, "context": {"cluster": context_name, "user": context_name}}],
        "current-context": context_name,
    }
    return json.dumps(document, indent=2)
