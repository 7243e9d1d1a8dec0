"""The metadata store's server: one Postgres on a persistent volume.

Databases and roles for instances are made by `MetadataDatabase`, one Job per
instance, so adding an instance later never touches this server's pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.targets.container_env import secret_env
from components.targets.local.images import POSTGRES_IMAGE
from components.targets.local.objects import (
    NO_ESCALATION,
    Home,
    labels,
)
from components.targets.local.stateful_service import StatefulServiceArgs, stateful_service

APP = "postgres"
PORT = 5432
SUPERUSER = "postgres"
SUPERUSER_SECRET = "postgres-superuser"
# Since the 18 image, the data lives in a major-version subdirectory of this
# mount, so a later pg_upgrade can work inside one volume.
DATA_MOUNT = "/var/lib/postgresql"
# environmentd keeps pools for consensus, the timestamp oracle and the catalog;
# the default of 100 runs out as soon as a second instance starts.
MAX_CONNECTIONS = 300


@dataclass(frozen=True)
class PostgresArgs:
    home: Home
    storage: str
    storage_class: str | None
    protect: bool
    network_policy: bool


class Postgres(pulumi.ComponentResource):
    host: str
    port: int
    superuser_secret: str
    stateful_set: k8s.apps.v1.StatefulSet

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:local:Postgres", name, None, opts)
        home = args.home
        self.host = home.service_host(APP)
        self.port = PORT
        self.superuser_secret = SUPERUSER_SECRET

        # The image applies this password only when it initialises an empty
        # volume: losing it while the volume lives locks every Job out.
        password = random.RandomPassword(
            f"{name}-superuser-password",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-superuser",
            metadata={"name": SUPERUSER_SECRET, "namespace": home.namespace_name, "labels": labels(APP)},
            type="Opaque",
            string_data={"username": SUPERUSER, "password": password.result},
            opts=home.options(self, additional_secret_outputs=["stringData", "data"]),
        )
        self.stateful_set = stateful_service(
            name,
            self,
            StatefulServiceArgs(
                home=home,
                app=APP,
                port_name="postgres",
                port=PORT,
                pod={
                    # A clean shutdown checkpoints; give it time before SIGKILL.
                    "termination_grace_period_seconds": 60,
                    "containers": [_container()],
                },
                storage=args.storage,
                storage_class=args.storage_class,
                network_policy=args.network_policy,
                protect=args.protect,
                depends_on=[credentials],
            ),
        )
        self.register_outputs({"host": self.host, "port": self.port})


def _container() -> dict[str, Any]:
    return {
        "name": "postgres",
        "image": POSTGRES_IMAGE,
        "args": ["-c", f"max_connections={MAX_CONNECTIONS}"],
        "env": [
            secret_env("POSTGRES_USER", SUPERUSER_SECRET, "username"),
            secret_env("POSTGRES_PASSWORD", SUPERUSER_SECRET, "password"),
        ],
        "ports": [{"name": "postgres", "container_port": PORT, "protocol": "TCP"}],
        # TCP on loopback: the image's first-boot server listens on its socket
        # only, so this turns ready once the real server is up.
        "readiness_probe": {
            "exec": {
                "command": [
                    "pg_isready",
                    "--host=127.0.0.1",
                    f"--port={PORT}",
                    f"--username={SUPERUSER}",
                    "--dbname=postgres",
                ]
            },
            "period_seconds": 5,
            "timeout_seconds": 3,
            "failure_threshold": 3,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi"}},
        "security_context": NO_ESCALATION,
        "volume_mounts": [{"name": "data", "mount_path": DATA_MOUNT}],
    }
