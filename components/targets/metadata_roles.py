"""One Postgres role and database per instance: the names and the setup SQL.

Every target that hosts its own Postgres gives each instance a database
named after it; the targets that can run SQL inside the network (local, aws)
also give it its own role that owns the database, with PUBLIC's privileges
revoked, so one instance's credentials never open another's data.
"""

from __future__ import annotations


def database_name(instance: str) -> str:
    """Instance names are DNS labels, so '-' -> '_' cannot make two names meet."""
    return "materialize_" + instance.replace("-", "_")


# psql reads this from stdin, where \getenv variables are interpolated (not in
# -c), and :'x' / :"x" quote any value safely. Every statement converges, so a
# rerun (or a retry after a partial run) ends in the same state as the first
# success. Where the admin is not a superuser (RDS, Cloud SQL, Flexible
# Server), Postgres 16+ lets it make a role a database's owner only once it may
# SET ROLE to it, hence the grant to itself (a no-op notice when repeated).
SETUP_SQL = r"""\getenv role METADATA_ROLE
\getenv database METADATA_DATABASE
\getenv password METADATA_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
GRANT :"role" TO CURRENT_USER;
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
ALTER DATABASE :"database" OWNER TO :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
"""
# The container command: SETUP_SQL arrives in the environment variable of that name.
SETUP_SCRIPT = 'printf "%s\\n" "$SETUP_SQL" | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1'
