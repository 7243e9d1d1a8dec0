"""One instance's own role and database on RDS, made by an idempotent Job.

The role owns its database and PUBLIC loses every privilege on it, so one
instance's credentials never open another's data. The Job is named after the
instance: adding an instance adds one Job and leaves the others alone.
`pulumi up` waits for the Job to complete, and the instance waits for the Job.

The role, its credentials Secret and the SQL are shared with the local target
(components/targets/metadata_roles.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.targets.aws.database_setup import ADMIN_SECRET, LABELS, NAMESPACE, DatabaseSetup
from components.targets.aws.pins import POSTGRES_CLIENT_IMAGE
from components.targets.container_env import plain_env, secret_env
from components.targets.metadata_roles import SETUP_SCRIPT, role_credentials

# About ten minutes of retries with the controller's doubling back-off.
BACKOFF_LIMIT = 6
_RESTRICTED = {
    "allow_privilege_escalation": False,
    "run_as_non_root": True,
    # The postgres image's own unprivileged user.
    "run_as_user": 999,
    "capabilities": {"drop": ["ALL"]},
    "seccomp_profile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class MetadataDatabaseArgs:
    setup: DatabaseSetup
    instance: InstanceIdentity
    protect: bool


class AwsMetadataDatabase(pulumi.ComponentResource):
    database: MetadataDatabase
    job: k8s.batch.v1.Job

    def __init__(self, name: str, args: MetadataDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:MetadataDatabase", name, None, opts)
        setup = args.setup
        credentials = role_credentials(
            name,
            self,
            args.instance.name,
            protect=args.protect,
            namespace=NAMESPACE,
            labels=LABELS,
            opts=setup.options(self, depends_on=[setup.namespace]),
        )
        role = database = credentials.role
        labels = {**LABELS, "app.kubernetes.io/name": "metadata-database"}
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata={
                "name": credentials.object_name,
                "namespace": NAMESPACE,
                "labels": labels,
                # A Job that failed in an earlier update runs afresh instead of being awaited again.
                "annotations": {"pulumi.com/replaceUnready": "true"},
            },
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=BACKOFF_LIMIT,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        **{
                            "restart_policy": "Never",
                            # psql against RDS only: no Kubernetes API token in the pod.
                            "automount_service_account_token": False,
                            "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                            **setup.placement.pod_spec_fields(),
                            "containers": [
                                {
                                    "name": "setup",
                                    "image": POSTGRES_CLIENT_IMAGE,
                                    "command": ["sh", "-ec", SETUP_SCRIPT],
                                    "env": [
                                        secret_env("PGHOST", ADMIN_SECRET, "host"),
                                        secret_env("PGPORT", ADMIN_SECRET, "port"),
                                        secret_env("PGUSER", ADMIN_SECRET, "username"),
                                        secret_env("PGPASSWORD", ADMIN_SECRET, "password"),
                                        plain_env("PGDATABASE", "postgres"),
                                        # RDS forces TLS (rds.force_ssl); the server certificate is RDS's.
                                        plain_env("PGSSLMODE", "require"),
                                        plain_env("PGCONNECT_TIMEOUT", "10"),
                                        *credentials.setup_env(),
                                    ],
                                    "resources": {
                                        "requests": {"cpu": "50m", "memory": "64Mi"},
                                        "limits": {"cpu": "500m", "memory": "256Mi"},
                                    },
                                    "security_context": _RESTRICTED,
                                }
                            ],
                        }
                    ),
                ),
            ),
            # The Job keeps a fixed name: the old one must go before a replacement,
            # and a new password is only set on the server when the Job runs again.
            opts=pulumi.ResourceOptions.merge(
                setup.options(
                    self,
                    depends_on=[setup.admin_secret, credentials.secret, setup.database.instance, *setup.platform_ready],
                ),
                pulumi.ResourceOptions(delete_before_replace=True, replace_with=[credentials.password]),
            ),
        )
        host, port = setup.database.address, setup.database.port
        url = pulumi.Output.all(host, credentials.password.result).apply(
            # No search_path: environmentd picks its own schemas.
            lambda parts: postgres_url(parts[0], port, database, role, parts[1], sslmode="require")
        )
        self.database = MetadataDatabase(url=pulumi.Output.secret(url), ready=(self.job,))
        self.register_outputs({"database": database, "job": self.job.metadata["name"]})
