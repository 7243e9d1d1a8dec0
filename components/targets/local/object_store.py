"""The persist store: single-process SeaweedFS with its S3 gateway, on a volume.

See images.py for why SeaweedFS. Its S3 gateway checks one identity, whose
key pair is generated here and handed out only through a Secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.targets.local.images import SEAWEEDFS_IMAGE
from components.targets.local.objects import (
    NO_ESCALATION,
    Home,
    labels,
)
from components.targets.local.stateful_service import StatefulServiceArgs, stateful_service

APP = "seaweedfs"
S3_PORT = 8333
CREDENTIALS_SECRET = "seaweedfs-s3"
ACCESS_KEY_ID = "accessKeyId"
SECRET_ACCESS_KEY = "secretAccessKey"
_CONFIG_KEY = "s3.json"
_CONFIG_DIR = "/etc/seaweedfs"
DATA_MOUNT = "/data"


@dataclass(frozen=True)
class ObjectStoreArgs:
    home: Home
    storage: str
    storage_class: str | None
    protect: bool
    network_policy: bool


class ObjectStore(pulumi.ComponentResource):
    endpoint: str
    credentials_secret: str
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    stateful_set: k8s.apps.v1.StatefulSet

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:local:ObjectStore", name, None, opts)
        home = args.home
        self.endpoint = f"http://{home.service_host(APP)}:{S3_PORT}"
        self.credentials_secret = CREDENTIALS_SECRET

        # Protected with the data: instances keep these keys in their backend
        # secrets, and the server only reads its identity file when it starts.
        key_opts = pulumi.ResourceOptions(parent=self, protect=args.protect)
        access_key = random.RandomPassword(
            f"{name}-access-key-id", length=20, special=False, lower=False, opts=key_opts
        )
        secret_key = random.RandomPassword(f"{name}-secret-access-key", length=40, special=False, opts=key_opts)
        self.access_key_id = pulumi.Output.secret(access_key.result)
        self.secret_access_key = pulumi.Output.secret(secret_key.result)

        identity_file = pulumi.Output.json_dumps(
            {
                "identities": [
                    {
                        "name": "materialize",
                        "credentials": [{"accessKey": access_key.result, "secretKey": secret_key.result}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": CREDENTIALS_SECRET, "namespace": home.namespace_name, "labels": labels(APP)},
            type="Opaque",
            string_data={
                _CONFIG_KEY: pulumi.Output.secret(identity_file),
                ACCESS_KEY_ID: self.access_key_id,
                SECRET_ACCESS_KEY: self.secret_access_key,
            },
            opts=home.options(self, additional_secret_outputs=["stringData", "data"]),
        )
        self.stateful_set = stateful_service(
            name,
            self,
            StatefulServiceArgs(
                home=home,
                app=APP,
                port_name="s3",
                port=S3_PORT,
                pod={
                    "containers": [_container()],
                    "volumes": [
                        {
                            "name": "s3-identity",
                            "secret": {
                                "secret_name": CREDENTIALS_SECRET,
                                "items": [{"key": _CONFIG_KEY, "path": _CONFIG_KEY}],
                            },
                        }
                    ],
                },
                storage=args.storage,
                storage_class=args.storage_class,
                network_policy=args.network_policy,
                protect=args.protect,
                depends_on=[credentials],
            ),
        )
        self.register_outputs({"endpoint": self.endpoint})


def _container() -> dict[str, Any]:
    return {
        "name": APP,
        "image": SEAWEEDFS_IMAGE,
        # The image's entrypoint hands these to `weed` after making the volume
        # its own and dropping root.
        "args": [
            "mini",
            f"-dir={DATA_MOUNT}",
            f"-s3.port={S3_PORT}",
            f"-s3.config={_CONFIG_DIR}/{_CONFIG_KEY}",
            # mini's 128 MB default would scatter persist's blobs over hundreds
            # of volume files; the number of volumes then follows free space.
            "-master.volumeSizeLimitMB=1024",
            "-volume.max=0",
        ],
        "ports": [{"name": "s3", "container_port": S3_PORT, "protocol": "TCP"}],
        # Answers, without credentials, once the gateway serves requests.
        "readiness_probe": {
            "http_get": {"path": "/healthz", "port": S3_PORT},
            "period_seconds": 5,
            "timeout_seconds": 3,
            "failure_threshold": 3,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi"}},
        "security_context": NO_ESCALATION,
        "volume_mounts": [
            {"name": "data", "mount_path": DATA_MOUNT},
            {"name": "s3-identity", "mount_path": _CONFIG_DIR, "read_only": True},
        ],
    }
