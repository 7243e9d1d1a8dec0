"""Session-wide throwaway services for the doctor's real-service tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.postgres_server import PostgresServer
from tests.support.pytest_services import throwaway_postgres
from tests.support.s3_server import S3Server, start_s3_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from throwaway_postgres()


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
