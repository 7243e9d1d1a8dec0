"""One instance's own role and database on RDS, made by an idempotent Job.

The role owns its database and PUBLIC loses every privilege on it, so one
instance's credentials never open another's data. The Job is named after the
instance: adding an instance adds one Job and leaves the others alone.
`pulumi up` waits for the Job to complete, and the instance waits for the Job.

The role, its credentials Secret and the SQL are shared with the local target
(components/targets/metadata_roles.py).

The pod calls no Kubernetes API, so it gets no service-account token. The
credentials reach it as files of Secret volumes, never as environment
variables (which every child process inherits and crash reports and
`/proc/<pid>/environ` show; https://kubernetes.io/docs/concepts/security/secrets-good-practices/):
psql reads the instance's from files (setup_sql_from_files), and libpq the
master password from a password file written into memory, never to disk
(https://www.postgresql.org/docs/current/libpq-pgpass.html: one
`host:port:database:user:password` line, `:` and `\\` escaped with `\\`, mode
0600 or stricter or libpq ignores it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.targets.aws.database_setup import ADMIN_SECRET, LABELS, NAMESPACE, DatabaseSetup
from components.targets.aws.pins import POSTGRES_CLIENT_IMAGE
from components.targets.container_env import plain_env
from components.targets.metadata_roles import SETUP_SCRIPT, role_credentials, setup_sql_from_files

# About ten minutes of retries with the controller's doubling back-off.
BACKOFF_LIMIT = 6
# The postgres image's own unprivileged user and group.
_POSTGRES_ID = 999
_RESTRICTED = {
    "allow_privilege_escalation": False,
    "run_as_non_root": True,
    "run_as_user": _POSTGRES_ID,
    "run_as_group": _POSTGRES_ID,
    "read_only_root_filesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccomp_profile": {"type": "RuntimeDefault"},
}
# Where the Secrets and the in-memory scratch directory are mounted; the
# script finds them through plain environment variables of these names.
MOUNTS = {
    "MASTER_SECRET_DIR": "/secrets/rds-master",
    "METADATA_SECRET_DIR": "/secrets/metadata-db",
    "SCRATCH_DIR": "/scratch",
}
# The master credentials from their files: host, port and user as libpq's
# environment (not secret), the password only in a password file of mode 0600.
JOB_SCRIPT = (
    r"""umask 077
escape() { sed 's/[\\:]/\\&/g' "$1"; }
export PGPASSFILE="$SCRATCH_DIR/pgpass"
printf '*:*:*:%s:%s\n' "$(escape "$MASTER_SECRET_DIR/username")" "$(escape "$MASTER_SECRET_DIR/password")" \
  > "$PGPASSFILE"
PGHOST="$(cat "$MASTER_SECRET_DIR/host")"
PGPORT="$(cat "$MASTER_SECRET_DIR/port")"
PGUSER="$(cat "$MASTER_SECRET_DIR/username")"
export PGHOST PGPORT PGUSER
"""
    + SETUP_SCRIPT
    + "\n"
)
# Secret files readable by the pod's group only (fsGroup), not the world.
_SECRET_FILE_MODE = 0o440


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
                            "security_context": {
                                "seccomp_profile": {"type": "RuntimeDefault"},
                                # The Secret files' group, so the unprivileged user reads them.
                                "fs_group": _POSTGRES_ID,
                            },
                            "volumes": [
                                _secret_volume("master", ADMIN_SECRET),
                                _secret_volume("credentials", credentials.object_name),
                                k8s.core.v1.VolumeArgs(
                                    name="scratch",
                                    # In memory: the password file never touches a disk.
                                    empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit="1Mi"),
                                ),
                            ],
                            **setup.placement.pod_spec_fields(),
                            "containers": [
                                {
                                    "name": "setup",
                                    "image": POSTGRES_CLIENT_IMAGE,
                                    "command": ["sh", "-ec", JOB_SCRIPT],
                                    "env": [
                                        *(plain_env(variable, path) for variable, path in MOUNTS.items()),
                                        plain_env("PGDATABASE", "postgres"),
                                        # RDS forces TLS (rds.force_ssl); the server certificate is RDS's.
                                        plain_env("PGSSLMODE", "require"),
                                        plain_env("PGCONNECT_TIMEOUT", "10"),
                                        plain_env("SETUP_SQL", setup_sql_from_files("METADATA_SECRET_DIR")),
                                    ],
                                    "volume_mounts": [
                                        k8s.core.v1.VolumeMountArgs(
                                            name=volume, mount_path=MOUNTS[variable], read_only=volume != "scratch"
                                        )
                                        for volume, variable in (
                                            ("master", "MASTER_SECRET_DIR"),
                                            ("credentials", "METADATA_SECRET_DIR"),
                                            ("scratch", "SCRATCH_DIR"),
                                        )
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


def _secret_volume(name: str, secret: str) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(
        name=name,
        secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=secret, default_mode=_SECRET_FILE_MODE),
    )
