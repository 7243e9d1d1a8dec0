"""One Postgres role and database per instance: the names, the setup SQL and
the credentials Secret the setup Job reads.

Every target that hosts its own Postgres gives each instance a database
named after it; the targets that can run SQL inside the network (local, aws)
also give it its own role that owns the database, with PUBLIC's privileges
revoked, so one instance's credentials never open another's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.metadata_url import METADATA_STATEMENT_TIMEOUT
from components.targets.container_env import plain_env, secret_env


def database_name(instance: str) -> str:
    """Instance names are DNS labels, so '-' -> '_' cannot make two names meet."""
    return "materialize_" + instance.replace("-", "_")


# psql reads this from stdin, where \getenv variables are interpolated (not in
# -c), and :'x' / :"x" quote any value safely. Every statement converges, so a
# rerun (or a retry after a partial run) ends in the same state as the first
# success. Where the admin is not a superuser (RDS, Cloud SQL, Flexible
# Server), Postgres 16+ lets it make a role a database's owner only once it may
# SET ROLE to it, hence the grant to itself (a no-op notice when repeated).
# environmentd drops `options` from the metadata URL (components/metadata_url.py),
# so the role's own setting is what bounds a stuck metadata query.
_STATEMENTS = (
    r"""SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
GRANT :"role" TO CURRENT_USER;
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
ALTER DATABASE :"database" OWNER TO :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
ALTER ROLE :"role" SET statement_timeout = '"""
    + METADATA_STATEMENT_TIMEOUT
    + """';
"""
)
# What each psql variable holds, and the key of the credentials Secret it comes from.
_VARIABLES = (("role", "username"), ("database", "database"), ("password", "password"))
SETUP_SQL = "".join(f"\\getenv {v} METADATA_{v.upper()}\n" for v, _ in _VARIABLES) + _STATEMENTS


def setup_sql_from_files(directory_variable: str) -> str:
    """SETUP_SQL reading the role, database and password from the files of the mounted
    credentials Secret (one file per key), in the directory `$directory_variable` names.

    psql runs a backquoted meta-command argument through the shell and takes its
    output, trailing newline removed (psql docs, "Meta-Commands"), so the
    password passes from the file into psql without an environment variable.
    """
    reads = "".join(f'\\set {v} `cat "${directory_variable}/{key}"`\n' for v, key in _VARIABLES)
    return reads + _STATEMENTS


# The container command: SETUP_SQL arrives in the environment variable of that name.
SETUP_SCRIPT = 'printf "%s\\n" "$SETUP_SQL" | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1'


@dataclass(frozen=True)
class RoleCredentials:
    """An instance's role (named like its database), its password, and the Secret holding both."""

    role: str
    # The Secret's name, which the setup Job takes too.
    object_name: str
    password: random.RandomPassword
    secret: k8s.core.v1.Secret

    def setup_env(self) -> list[dict[str, Any]]:
        """What SETUP_SQL reads: the role, database and password from the Secret, and the SQL itself."""
        return [
            secret_env("METADATA_ROLE", self.object_name, "username"),
            secret_env("METADATA_DATABASE", self.object_name, "database"),
            secret_env("METADATA_PASSWORD", self.object_name, "password"),
            plain_env("SETUP_SQL", SETUP_SQL),
        ]


def role_credentials(
    name: str,
    parent: pulumi.Resource,
    instance: str,
    *,
    protect: bool,
    namespace: str,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> RoleCredentials:
    """A generated password for the instance's role and the Secret its setup Job reads (in `namespace`, with `opts`)."""
    role = database_name(instance)
    object_name = f"metadata-db-{instance}"
    password = random.RandomPassword(
        f"{name}-password",
        length=32,
        # Letters and digits only: the password also travels inside a URL.
        special=False,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    secret = k8s.core.v1.Secret(
        f"{name}-credentials",
        metadata={"name": object_name, "namespace": namespace, "labels": dict(labels)},
        type="Opaque",
        string_data={"username": role, "password": password.result, "database": role},
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
        ),
    )
    return RoleCredentials(role=role, object_name=object_name, password=password, secret=secret)
