"""The destroy-time cleanup of monitoring's leftover EBS volumes: its place in the graph and its script."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from components.dataplane.monitoring_values import MONITORING_NAMESPACE
from components.targets.aws.volume_cleanup import CLUSTER_TAG, DELETE_SCRIPT, NAMESPACE_TAG
from tests.harness.stack import Evaluation
from tests.targets.aws.fake_cli import run_with_fake_aws
from tests.targets.aws.stack import CLUSTER, COMMAND, NODE_GROUP, STORAGE_CLASS


def test_the_cleanup_runs_after_the_node_groups_for_this_clusters_monitoring_volumes(example: Evaluation) -> None:
    [cleanup] = [c for c in example.of_type(COMMAND) if c.name.endswith("-volume-cleanup-delete-leftovers")]
    assert cleanup.inputs["delete"] == DELETE_SCRIPT and "create" not in cleanup.inputs
    assert cleanup.inputs["interpreter"] == ["/bin/sh", "-c"]
    cluster_name = example.one(CLUSTER).inputs["name"]
    assert cleanup.inputs["environment"] == {
        "REGION": "us-east-1",
        "CLUSTER_TAG": CLUSTER_TAG,
        "CLUSTER": cluster_name,
        "NAMESPACE_TAG": NAMESPACE_TAG,
        "NAMESPACE": MONITORING_NAMESPACE,
    }
    # Dependents are deleted first: every node group goes before the cleanup runs.
    groups = example.of_type(NODE_GROUP)
    assert len(groups) == 2
    for group in groups:
        assert cleanup.urn in group.dependencies, group.name


def test_the_default_class_tags_each_volume_with_what_the_cleanup_filters_on(example: Evaluation) -> None:
    (storage_class,) = example.of_type(STORAGE_CLASS)
    tags = sorted(v for k, v in storage_class.inputs["parameters"].items() if k.startswith("tagSpecification_"))
    cluster_name = example.one(CLUSTER).inputs["name"]
    assert tags == sorted([f"{CLUSTER_TAG}={cluster_name}", f"{NAMESPACE_TAG}={{{{ .PVCNamespace }}}}"])


def test_monitoring_claims_its_volume_in_the_namespace_the_cleanup_deletes_from(example: Evaluation) -> None:
    release = next(
        r for r in example.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "kube-prometheus-stack"
    )
    assert release.inputs["namespace"] == MONITORING_NAMESPACE


def _fake_aws(tmp_path: Path, wait_error: str = "", delete_error: str = "") -> Path:
    """An `aws` on PATH that lists two tagged volumes, fails the second's wait or delete as told, and logs calls."""
    log = tmp_path / "calls"
    (tmp_path / "wait-error").write_text(wait_error)
    (tmp_path / "delete-error").write_text(delete_error)
    fail = 'case "$*" in *vol-0ccc3333dddd44445*) [ -s {file} ] && {{ cat {file} >&2; exit 255; }} ;; esac ;;'
    script = tmp_path / "aws"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$2" in\n'
        "  describe-volumes) echo 'vol-0aaa1111bbbb22223\tvol-0ccc3333dddd44445' ;;\n"
        f"  wait) {fail.format(file=tmp_path / 'wait-error')}\n"
        f"  delete-volume) {fail.format(file=tmp_path / 'delete-error')}\n"
        "esac\nexit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def _run(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_with_fake_aws(
        tmp_path,
        DELETE_SCRIPT,
        REGION="us-east-1",
        CLUSTER_TAG=CLUSTER_TAG,
        CLUSTER="materialize-prod",
        NAMESPACE_TAG=NAMESPACE_TAG,
        NAMESPACE=MONITORING_NAMESPACE,
    )


def test_the_script_waits_for_each_tagged_volume_to_come_free_then_deletes_it(tmp_path: Path) -> None:
    log = _fake_aws(tmp_path)
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("ec2 describe-volumes --region us-east-1 --filters")
    assert (
        "Name=tag:materialize.cloud/cluster,Values=materialize-prod "
        "Name=tag:materialize.cloud/claim-namespace,Values=monitoring"
    ) in calls[0]
    assert calls[1:] == [
        "ec2 wait volume-available --region us-east-1 --volume-ids vol-0aaa1111bbbb22223",
        "ec2 delete-volume --region us-east-1 --volume-id vol-0aaa1111bbbb22223",
        "ec2 wait volume-available --region us-east-1 --volume-ids vol-0ccc3333dddd44445",
        "ec2 delete-volume --region us-east-1 --volume-id vol-0ccc3333dddd44445",
    ]


@pytest.mark.parametrize(
    "error",
    [
        "Waiter VolumeAvailable failed: An error occurred (InvalidVolume.NotFound): The volume does not exist.",
        'Waiter VolumeAvailable failed: Waiter encountered a terminal failure state: For expression "Volumes[].State" '
        'we matched expected path: "deleted" at least once',
    ],
)
def test_a_volume_gone_while_waiting_is_skipped(tmp_path: Path, error: str) -> None:
    log = _fake_aws(tmp_path, wait_error=error)
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not any("delete-volume" in c and "vol-0ccc3333dddd44445" in c for c in log.read_text().splitlines())


def test_a_volume_gone_before_its_delete_is_fine_but_any_other_error_fails_the_destroy(tmp_path: Path) -> None:
    _fake_aws(
        tmp_path, delete_error="An error occurred (InvalidVolume.NotFound) when calling the DeleteVolume operation"
    )
    assert _run(tmp_path).returncode == 0
    (tmp_path / "calls").unlink()
    _fake_aws(
        tmp_path, delete_error="An error occurred (UnauthorizedOperation) when calling the DeleteVolume operation"
    )
    result = _run(tmp_path)
    assert result.returncode == 1 and "UnauthorizedOperation" in result.stderr
