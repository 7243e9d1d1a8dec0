"""A target's per-instance database Job, taken from the evaluated graph and run
against a real PostgreSQL, and connections as the instance's backend Secret says."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from components.metadata_url import parse_metadata_url
from tests.harness.stack import Evaluation, named
from tests.support.postgres_server import PostgresServer

JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"


def job_container(graph: Evaluation, job_name: str) -> dict[str, Any]:
    [container] = named(graph, JOB, job_name).inputs["spec"]["template"]["spec"]["containers"]
    return container


def job_environment(
    graph: Evaluation, job_name: str, secrets: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, str]:
    """The Job's environment as the kubelet would build it: Secret references
    resolved from `secrets` (name -> data) or else from the graph's Secrets."""
    resolved: dict[str, str] = {"PATH": os.environ["PATH"]}
    for variable in job_container(graph, job_name)["env"]:
        if "value" in variable:
            resolved[variable["name"]] = variable["value"]
            continue
        ref = variable["valueFrom"]["secretKeyRef"]
        given = (secrets or {}).get(ref["name"])
        data = given if given is not None else named(graph, SECRET, ref["name"]).inputs["stringData"]
        resolved[variable["name"]] = data[ref["key"]]
    return resolved


def job_volumes(
    graph: Evaluation, job_name: str, root: Path, secrets: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, Path]:
    """The Job's volumes as the kubelet would mount them, under `root`: a file per key of
    each Secret volume (data from `secrets` or else the graph's Secret), an empty
    directory per emptyDir. Returns each mount path's local directory."""
    spec = named(graph, JOB, job_name).inputs["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    mounted: dict[str, Path] = {}
    for mount in job_container(graph, job_name).get("volumeMounts", []):
        volume = volumes[mount["name"]]
        directory = root / mount["name"]
        directory.mkdir(parents=True)
        if "secret" in volume:
            name = volume["secret"]["secretName"]
            given = (secrets or {}).get(name)
            data = given if given is not None else named(graph, SECRET, name).inputs["stringData"]
            for key, value in data.items():
                # The kubelet writes the exact bytes: no trailing newline.
                (directory / key).write_text(value)
        else:
            assert "emptyDir" in volume, volume
        mounted[mount["mountPath"]] = directory
    return mounted


def with_local_mounts(env: Mapping[str, str], mounted: Mapping[str, Path]) -> dict[str, str]:
    """The environment with every value naming a mount path pointed at its local directory."""
    return {name: str(mounted[value]) if value in mounted else value for name, value in env.items()}


def run_job_command(graph: Evaluation, job_name: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    command = job_container(graph, job_name)["command"]
    return subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=60, check=False)


def connect(graph: Evaluation, instance: str, server: PostgresServer, **changes: Any) -> psycopg.Connection:
    """Connect as the backend secret's metadata URL says, but to the local server."""
    url = parse_metadata_url(
        named(graph, SECRET, f"{instance}-materialize-backend").inputs["stringData"]["metadata_backend_url"]
    )
    params: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "user": url.user,
        "password": url.password,
        "dbname": url.database,
        "sslmode": url.sslmode,
        "connect_timeout": 10,
        "autocommit": True,
    }
    params.update(changes)
    return psycopg.connect(**params)
