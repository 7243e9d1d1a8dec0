"""The plugin itself: `provider/` started the way the Python language host starts
it (`python <plugin directory> <engine address>`, pulumi/pulumi
sdk/python/cmd/pulumi-language-python/main.go RunPlugin at 1b5949891b), from
another working directory, answering the engine's GetSchema over gRPC with the
checked-in schema. No Pulumi CLI or engine is needed for GetSchema.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.templates.schema_fixture import SCHEMA_FIXTURE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plugin_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # An engine address nothing listens on: serving the schema never calls the engine.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "provider"), "127.0.0.1:9"],
        cwd=tmp_path_factory.mktemp("elsewhere"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            raise AssertionError(f"the plugin printed {port!r}, stderr: {process.communicate()[1]}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_plugin_serves_the_checked_in_schema(plugin_port: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{plugin_port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
    assert json.loads(response.schema) == json.loads(SCHEMA_FIXTURE.read_text())
