"""Materialize on a local cluster (kind, minikube or k3d), with its stores inside the cluster.

The settings are the repository's example local stack (stacks/Pulumi.local.yaml);
change them here. Every key is described in the package's README
("Configuration reference"); a bad one is refused before anything is created.
"""

import pulumi

from materialize_pulumi import checked_install

config = pulumi.Config()


async def main() -> dict[str, object]:
    # Awaited so the upgrade guard (no downgrade, no skipped major version, no
    # changed environment id) runs before anything is created.
    install = await checked_install(
        "materialize",
        {
            "target": "local",
            # Read as a plain string because the install validates it before creating
            # anything; it stays a Pulumi secret inside the component.
            "license_key": config.require("licenseKey"),
            "kube_context": config.get("kubeContext") or "kind-materialize",
            "instances": [
                {
                    "name": "main",
                    # Smaller than the chart's default so that environmentd, two 25cc
                    # clusters and the stores fit a 4-CPU, 16 GiB machine.
                    "environmentdResources": {
                        "requests": {"cpu": "500m", "memory": "3Gi"},
                        "limits": {"memory": "3Gi"},
                    },
                    "balancerdReplicas": 1,
                    "consoleReplicas": 1,
                    "exposure": {"type": "clusterIP"},
                }
            ],
            # No swap-capable nodes on a laptop cluster.
            "swap": False,
            "local": {"postgresStorage": "10Gi", "objectStoreStorage": "20Gi"},
        },
    )
    # The stack outputs the guard reads on the next update.
    return install.outputs


pulumi.run(main)
