"""The real services as pytest sees them: skip where they cannot run, except in CI.

CI installs PostgreSQL (.ci/install-services.sh), so there a missing server is
a broken setup and fails the test instead of hiding behind a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.support.postgres_server import PostgresServer, PostgresUnavailable, start_postgres


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: PostgreSQL must be installed)", pytrace=False)
    pytest.skip(reason)


def throwaway_postgres(require_psql: bool = False) -> Iterator[PostgresServer]:
    """A fixture body: `yield from throwaway_postgres()` gives a running server, stopped afterwards."""
    if require_psql and shutil.which("psql") is None:
        unavailable("psql (the PostgreSQL client) is not installed")
    try:
        server = start_postgres()
    except PostgresUnavailable as error:
        unavailable(str(error))
    try:
        yield server
    finally:
        server.stop()
