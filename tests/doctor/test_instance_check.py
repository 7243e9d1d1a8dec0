"""The doctor's view of instances already deployed: ready, rolling out, or stuck with the operator's reason."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.doctor.config import DoctorConfig, Overrides, instance_namespace, load_config
from tools.doctor.kubernetes import InstanceRef, check_instance, check_kubernetes
from tools.doctor.report import Status

NEW = "docker.io/materialize/environmentd:v26.37.0"
OLD = "docker.io/materialize/environmentd:v26.36.0"
MAIN = InstanceRef("main", "materialize-main")


def resource(condition: str | None, completed: str | None = NEW, generation: int = 2, observed: int = 2) -> dict:
    status: dict[str, Any] = {"lastCompletedRolloutEnvironmentdImageRef": completed}
    if condition is not None:
        status["conditions"] = [
            {"type": "UpToDate", "status": condition, "reason": "Reason", "observedGeneration": observed}
        ]
    return {"metadata": {"generation": generation}, "spec": {"environmentdImageRef": NEW}, "status": status}


def test_an_instance_not_deployed_yet_is_fine() -> None:
    check = check_instance(MAIN, None)
    assert check.status is Status.OK
    assert "not deployed yet" in check.message


def test_an_up_to_date_instance_names_its_image() -> None:
    check = check_instance(MAIN, resource("True"))
    assert check.status is Status.OK
    assert NEW in check.message


@pytest.mark.parametrize(
    ("state", "expected", "words"),
    [
        # The old UpToDate=True stays until the operator notices the new image: not done yet.
        (resource("True", completed=OLD), Status.WARN, "not of the requested"),
        (resource("True", generation=3, observed=2), Status.WARN, "generation 2"),
        (resource("Unknown"), Status.WARN, "still rolling out"),
        (resource("False"), Status.FAIL, "not ready"),
        # A refused resource (say, an environmentId its license key does not allow) gets no condition.
        (resource(None, completed=None), Status.FAIL, "has not accepted it yet"),
    ],
)
def test_an_instance_that_is_not_ready_says_why(state: dict, expected: Status, words: str) -> None:
    check = check_instance(MAIN, state)
    assert check.status is expected
    assert words in check.message
    assert check.fix and "kubectl describe materialize -n materialize-main main" in check.fix


def test_the_stack_config_names_namespaces_and_crd_version(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.x.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "materialize:crdVersion": "v1alpha1",
                    "materialize:instances": [{"name": "main"}, {"name": "b", "namespace": "analytics"}],
                }
            }
        )
    )
    config = load_config("x", Overrides(), environ={}, repo_root=tmp_path, use_pulumi=False)
    assert config.crd_version == "v1alpha1"
    assert [instance_namespace(config, name) for name in config.instances] == ["materialize-main", "analytics"]
    assert instance_namespace(DoctorConfig(), "main") == "materialize-main"


class _FakeApiServer:
    """A loopback Kubernetes API that answers the reads the doctor makes, so the real client is exercised."""

    def __init__(self, routes: Mapping[str, Any]) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                server.requests.append(path)
                body = routes.get(path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body or {"kind": "Status", "code": 404}).encode())

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def _event(namespace: str, reason: str, message: str) -> dict:
    return {
        "metadata": {"name": f"{reason}.1", "namespace": namespace},
        "involvedObject": {"kind": "Materialize", "name": "main"},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 1,
        "lastTimestamp": "2026-12-02T08:00:00Z",
    }


@pytest.fixture
def api() -> Iterator[_FakeApiServer]:
    listing = {"apiVersion": "v1", "items": []}
    server = _FakeApiServer(
        {
            "/version": {
                "major": "1",
                "minor": "33",
                "gitVersion": "v1.33.1",
                "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
                "gitTreeState": "clean",
                "buildDate": "2025-05-15T08:19:08Z",
                "goVersion": "go1.24.2",
                "compiler": "gc",
                "platform": "linux/amd64",
            },
            "/apis/storage.k8s.io/v1/storageclasses": listing,
            "/api/v1/nodes": listing,
            "/apis/materialize.cloud/v1alpha1/namespaces/materialize-main/materializes/main": resource("False"),
            "/api/v1/namespaces/materialize-main/events": {
                "items": [_event("materialize-main", "FailedDeploy", "environmentd crashlooping")]
            },
            "/api/v1/namespaces/materialize/events": {
                "items": [_event("materialize", "LicenseKey", "environment id does not match the license key")]
            },
        }
    )
    yield server
    server.close()


def _kubeconfig(tmp_path: Path, server: str) -> str:
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "test",
            }
        )
    )
    return str(path)


def test_a_deployed_instance_is_read_with_its_events(tmp_path: Path, api: _FakeApiServer) -> None:
    stuck = InstanceRef("main", "materialize-main", "v1alpha1")
    absent = InstanceRef("other", "materialize-other", "v1alpha1")
    checks = list(check_kubernetes(_kubeconfig(tmp_path, api.url), "test", False, False, 2, instances=[stuck, absent]))
    by_instance = {check.message.split(" ")[1]: check for check in checks if check.message.startswith("instance ")}
    assert by_instance["main"].status is Status.FAIL
    assert "FailedDeploy" in by_instance["main"].message
    assert "environment id does not match the license key" in by_instance["main"].message
    assert by_instance["other"].status is Status.OK
    assert "/apis/materialize.cloud/v1alpha1/namespaces/materialize-other/materializes/other" in api.requests
