#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) exist,
# so the real-service tests can start a throwaway server. Idempotent: does
# nothing when they are already installed. Runs as root in CI (Debian/Ubuntu).
set -euo pipefail

have_postgres_binaries() {
    local dir
    if command -v initdb >/dev/null 2>&1; then
        dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
        [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
    done
    return 1
}

if have_postgres_binaries; then
    echo "install-services: PostgreSQL server binaries already present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-services: PostgreSQL is missing and installing it needs root" >&2
    exit 1
fi

echo "install-services: installing PostgreSQL server binaries"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# The tests start their own server; the distribution's cluster is not needed.
apt-get install -y --no-install-recommends postgresql

if ! have_postgres_binaries; then
    echo "install-services: postgresql installed but initdb/pg_ctl/postgres still not found" >&2
    exit 1
fi
echo "install-services: PostgreSQL server binaries installed"
