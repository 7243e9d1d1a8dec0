"""Session-wide throwaway services for the doctor's real-service tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.postgres_server import PostgresServer, PostgresUnavailable, start_postgres
from tests.support.s3_server import S3Server, start_s3_server


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as error:
        if _in_ci():
            # CI installs PostgreSQL (.ci/install-services.sh); a skip there would hide a broken setup.
            pytest.fail(f"{error} (CI=true: PostgreSQL must be installed)", pytrace=False)
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket for one test."""
    name = f"doctor-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name)
    return name
