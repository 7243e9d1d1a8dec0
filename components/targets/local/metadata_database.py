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
import pulumi_random as random

from components.contract import InstanceIdentity, MetadataDatabase
from components.metadata_url import postgres_url
from components.targets.local.images import POSTGRES_IMAGE
from components.targets.local.objects import Home, labels, plain_env, secret_env
from components.targets.local.postgres import Postgres
from components.targets.local.setup_job import SetupJobArgs, setup_job
from components.targets.metadata_roles import SETUP_SCRIPT, SETUP_SQL, database_name

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
        role = database = database_name(args.instance.name)
        object_name = f"metadata-db-{args.instance.name}"

        password = random.RandomPassword(
            f"{name}-password",
            length=32,
            # Letters and digits only: the password also travels inside a URL.
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": object_name, "namespace": home.namespace_name, "labels": labels(APP)},
            type="Opaque",
            string_data={"username": role, "password": password.result, "database": database},
            opts=home.options(self, additional_secret_outputs=["stringData", "data"]),
        )
        self.job = setup_job(
            f"{name}-job",
            self,
            SetupJobArgs(
                home=home,
                job_name=object_name,
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
                    secret_env("METADATA_ROLE", object_name, "username"),
                    secret_env("METADATA_DATABASE", object_name, "database"),
                    secret_env("METADATA_PASSWORD", object_name, "password"),
                    plain_env("SETUP_SQL", SETUP_SQL),
                ],
                after=[postgres.stateful_set, credentials],
                # A new password is only set on the server when the Job runs again.
                rerun_with=[password],
            ),
        )
        host, port = postgres.host, postgres.port
        url = password.result.apply(
            # In-cluster traffic to a server without a certificate: no TLS to
            # negotiate. No search_path: environmentd picks its own schemas.
            lambda secret: postgres_url(host, port, database, role, secret, sslmode="disable")
        )
        self.database = MetadataDatabase(url=pulumi.Output.secret(url), ready=(postgres.stateful_set, self.job))
        self.register_outputs({"database": database, "job": self.job.metadata["name"]})
