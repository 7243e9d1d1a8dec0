"""One instance's own Postgres role and database, made by an idempotent Job.

Each instance gets a role that owns its database, and PUBLIC loses every
privilege on it, so one instance's credentials never open another's data.
The Job is named after the instance: adding an instance later adds one Job
and leaves the others (and their instances) alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.targets.container_env import plain_env, secret_env
from components.targets.local.images import POSTGRES_IMAGE
from components.targets.local.objects import Home, labels
from components.targets.local.postgres import Postgres
from components.targets.local.setup_job import SetupJobArgs, setup_job
from components.targets.metadata_roles import SETUP_SCRIPT, role_credentials

APP = "metadata-database"


@dataclass(frozen=True)
class MetadataDatabaseArgs:
    home: Home
    postgres: Postgres
    instance: InstanceIdentity
    protect: bool


class LocalMetadataDatabase(pulumi.ComponentResource):
    database: MetadataDatabase
    job: k8s.batch.v1.Job

    def __init__(self, name: str, args: MetadataDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:local:MetadataDatabase", name, None, opts)
        home = args.home
        postgres = args.postgres
        credentials = role_credentials(
            name,
            self,
            args.instance.name,
            protect=args.protect,
            namespace=home.namespace_name,
            labels=labels(APP),
            opts=home.options(self),
        )
        role = database = credentials.role
        self.job = setup_job(
            f"{name}-job",
            self,
            SetupJobArgs(
                home=home,
                job_name=credentials.object_name,
                app=APP,
                image=POSTGRES_IMAGE,
                script=SETUP_SCRIPT,
                env=[
                    plain_env("PGHOST", postgres.host),
                    plain_env("PGPORT", str(postgres.port)),
                    plain_env("PGDATABASE", "postgres"),
                    plain_env("PGSSLMODE", "disable"),
                    plain_env("PGCONNECT_TIMEOUT", "10"),
                    secret_env("PGUSER", postgres.superuser_secret, "username"),
                    secret_env("PGPASSWORD", postgres.superuser_secret, "password"),
                    *credentials.setup_env(),
                ],
                after=[postgres.stateful_set, credentials.secret],
                # A new password is only set on the server when the Job runs again.
                rerun_with=[credentials.password],
            ),
        )
        host, port = postgres.host, postgres.port
        url = credentials.password.result.apply(
            # In-cluster traffic to a server without a certificate: no TLS to
            # negotiate. No search_path: environmentd picks its own schemas.
            lambda secret: postgres_url(host, port, database, role, secret, sslmode="disable")
        )
        self.database = MetadataDatabase(url=pulumi.Output.secret(url), ready=(postgres.stateful_set, self.job))
        self.register_outputs({"database": database, "job": self.job.metadata["name"]})
