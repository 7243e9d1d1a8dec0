"""The aws target's teardown, traffic, zones, lifecycle settings and refused inputs, on the registered graph."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pulumi
import pytest

from components.targets.aws.interface_cleanup import DELETE_SCRIPT
from tests.harness.stack import Evaluation, evaluate
from tests.targets.aws.fake_cli import run_with_fake_aws
from tests.targets.aws.stack import (
    CLUSTER,
    COMMAND,
    ENDPOINT,
    LOG_GROUP,
    NODE_GROUP,
    RDS,
    SECURITY_GROUP,
    SUBNET,
    assert_refused_before_anything_is_registered,
    aws_settings,
    aws_stack,
    ending,
    mock_id,
)
from tools.offline import mocks as offline_mocks
from tools.offline.aws_mocks import ACCOUNT_ID

ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
CONTROL_PLANE_LOGS = "/aws/eks/materialize-dev/cluster"


# --- 1. backups survive teardown ------------------------------------------------------------------


@pytest.mark.parametrize("protect", [True, False])
def test_rds_keeps_a_final_snapshot_and_its_backups_whatever_protect_data_says(protect: bool) -> None:
    inputs = evaluate(aws_stack(protectData=protect)).one(RDS).inputs
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"].startswith("materialize-metadata-final-")
    assert inputs["deleteAutomatedBackups"] is False
    assert inputs["deletionProtection"] is protect


def test_only_the_explicit_opt_out_drops_the_final_snapshot_and_backups() -> None:
    inputs = evaluate(aws_stack(protectData=False, aws=aws_settings(keepBackupsOnDelete=False))).one(RDS).inputs
    assert inputs["skipFinalSnapshot"] is True and inputs["deleteAutomatedBackups"] is True


# --- 2a. the control-plane log group ---------------------------------------------------------------


def test_the_control_plane_log_group_is_kept_at_destroy_and_made_when_absent(example: Evaluation) -> None:
    group = ending(example, LOG_GROUP, "-cluster-logs")
    assert group.inputs["name"] == CONTROL_PLANE_LOGS
    assert group.options["retainOnDelete"] is True
    assert group.options["importId"] == ""
    lookups = [c for c in example.mocks.calls if c.token == "aws:cloudwatch/getLogGroups:getLogGroups"]
    assert [c for c in lookups if c.args["logGroupNamePrefix"] == CONTROL_PLANE_LOGS]


def test_a_group_left_by_an_earlier_stack_of_that_name_is_adopted(monkeypatch: pytest.MonkeyPatch) -> None:
    def existing(args: dict[str, object]) -> dict[str, object]:
        # A prefix lookup also returns longer names; only the exact one is ours.
        names = [CONTROL_PLANE_LOGS, CONTROL_PLANE_LOGS + "-other"]
        arns = [f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:{name}" for name in names]
        return {
            "id": "us-east-1",
            "logGroupNamePrefix": args["logGroupNamePrefix"],
            "arns": arns,
            "logGroupNames": names,
        }

    monkeypatch.setitem(offline_mocks._INVOKES, "aws:cloudwatch/getLogGroups:getLogGroups", existing)
    group = ending(evaluate(aws_stack()), LOG_GROUP, "-cluster-logs")
    assert group.options["importId"] == CONTROL_PLANE_LOGS
    # Adopted with the stack's retention and tags, like one it made itself.
    assert group.inputs["retentionInDays"] == 90


# --- 2b. leftover network interfaces ---------------------------------------------------------------


def test_the_interface_cleanup_runs_after_the_node_groups_and_before_the_group_and_subnets(
    example: Evaluation,
) -> None:
    [cleanup] = [c for c in example.of_type(COMMAND) if c.name.endswith("-network-interface-cleanup-delete-leftovers")]
    assert cleanup.inputs["delete"] == DELETE_SCRIPT and "create" not in cleanup.inputs
    assert cleanup.inputs["interpreter"] == ["/bin/sh", "-c"]
    nodes = ending(example, SECURITY_GROUP, "-network-nodes")
    assert cleanup.inputs["environment"] == {"REGION": "us-east-1", "SECURITY_GROUP_ID": mock_id(nodes)}
    # Dependents are deleted first: node groups before the cleanup, the cleanup before the group and subnets.
    for group in example.of_type(NODE_GROUP):
        assert cleanup.urn in group.dependencies, group.name
    assert nodes.urn in cleanup.dependencies
    assert {s.urn for s in example.of_type(SUBNET)} <= set(cleanup.dependencies)


def _fake_aws(tmp_path: Path, delete_error: str) -> Path:
    """An `aws` on PATH that lists two leftover interfaces and logs every call."""
    log = tmp_path / "calls"
    script = tmp_path / "aws"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$2" in\n'
        "  describe-network-interfaces) echo 'eni-0aaa1111bbbb22223\teni-0ccc3333dddd44445' ;;\n"
        '  delete-network-interface) case "$*" in *eni-0ccc3333dddd44445*)'
        f" echo '{delete_error}' >&2; exit 254 ;; esac ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def _run_cleanup(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_with_fake_aws(tmp_path, DELETE_SCRIPT, REGION="us-east-1", SECURITY_GROUP_ID="sg-0123456789abcdef0")


def test_the_cleanup_deletes_only_available_interfaces_of_the_node_group_and_tolerates_races(tmp_path: Path) -> None:
    log = _fake_aws(tmp_path, "An error occurred (InvalidNetworkInterfaceID.NotFound) when calling ...")
    result = _run_cleanup(tmp_path)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("ec2 describe-network-interfaces --region us-east-1 --filters")
    assert "Name=group-id,Values=sg-0123456789abcdef0 Name=status,Values=available" in calls[0]
    assert [c.split()[-1] for c in calls[1:]] == ["eni-0aaa1111bbbb22223", "eni-0ccc3333dddd44445"]


def test_the_cleanup_fails_the_destroy_on_any_other_error(tmp_path: Path) -> None:
    _fake_aws(tmp_path, "An error occurred (UnauthorizedOperation) when calling the DeleteNetworkInterface operation")
    result = _run_cleanup(tmp_path)
    assert result.returncode == 1 and "UnauthorizedOperation" in result.stderr


# --- 3. traffic ------------------------------------------------------------------------------------


def test_s3_traffic_takes_a_gateway_endpoint_on_every_private_route_table(example: Evaluation) -> None:
    [endpoint] = example.of_type(ENDPOINT)
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    private = [t for t in example.of_type(ROUTE_TABLE) if "-private-" in t.name]
    assert len(private) == 3
    assert sorted(endpoint.inputs["routeTableIds"]) == sorted(mock_id(t) for t in private)


def test_an_existing_vpc_gets_no_endpoint_or_flow_log_of_ours() -> None:
    evaluation = evaluate(
        aws_stack(
            aws=aws_settings(
                existingVpcId="vpc-0123456789abcdef0",
                existingPrivateSubnetIds=["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
            )
        )
    )
    assert not evaluation.of_type(ENDPOINT) and not evaluation.of_type(FLOW_LOG)
    # The cleanup still runs for the node security group, which is ours.
    assert [c.name for c in evaluation.of_type(COMMAND) if "interface-cleanup" in c.name]


# --- 7. observability ------------------------------------------------------------------------------


def test_vpc_flow_logs_go_to_a_group_with_retention_through_a_narrowly_trusted_role(example: Evaluation) -> None:
    [flow] = example.of_type(FLOW_LOG)
    group = ending(example, LOG_GROUP, "-network-flow-logs")
    assert group.inputs["retentionInDays"] == 90
    assert (flow.inputs["trafficType"], flow.inputs["logDestinationType"]) == ("ALL", "cloud-watch-logs")
    assert flow.inputs["logDestination"] == group.state["arn"]
    role = ending(example, "aws:iam/role:Role", "-network-flow-logs")
    assert flow.inputs["iamRoleArn"] == role.state["arn"]
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    [grant] = json.loads(ending(example, "aws:iam/rolePolicy:RolePolicy", "-network-flow-logs").inputs["policy"])[
        "Statement"
    ]
    assert "logs:CreateLogGroup" not in grant["Action"]
    assert grant["Resource"] == [group.state["arn"], group.state["arn"] + ":*"]


def test_flow_logs_can_be_turned_off() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(flowLogs=False)))
    assert not evaluation.of_type(FLOW_LOG)
    # What EKS and RDS write into remains; the flow-log group is gone.
    assert sorted(g.inputs["name"] for g in evaluation.of_type(LOG_GROUP)) == [
        CONTROL_PLANE_LOGS,
        "/aws/rds/instance/materialize-dev-metadata/postgresql",
        "/aws/rds/instance/materialize-dev-metadata/upgrade",
    ]


# --- 4. zones --------------------------------------------------------------------------------------


def _private_zones(evaluation: Evaluation) -> list[str]:
    return [s.inputs["availabilityZone"] for s in evaluation.of_type(SUBNET) if "-private-" in s.name]


def test_zones_are_chosen_by_zone_id_among_those_offering_both_instance_types(example: Evaluation) -> None:
    # The mocked account maps c->use1-az1, d->use1-az2, a->use1-az4; use1-az3 (e) has no Graviton.
    assert _private_zones(example) == ["us-east-1c", "us-east-1d", "us-east-1a"]
    [offerings] = [c for c in example.mocks.calls if c.token.endswith("getInstanceTypeOfferings")]
    assert offerings.args["locationType"] == "availability-zone-id"
    assert offerings.args["filters"] == [{"name": "instance-type", "values": ["m7g.large", "r7gd.2xlarge"]}]
    five = evaluate(aws_stack(aws=aws_settings(zoneCount=5)))
    assert "us-east-1e" not in _private_zones(five)


def test_configured_zones_may_be_names_or_ids_and_must_offer_the_types() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(availabilityZones=["use1-az6", "us-east-1a"])))
    assert _private_zones(evaluation) == ["us-east-1b", "us-east-1a"]
    with pytest.raises(pulumi.RunError, match=r"materialize:aws\.availabilityZones: us-east-1e \(use1-az3\) does not"):
        evaluate(aws_stack(aws=aws_settings(availabilityZones=["us-east-1a", "us-east-1e"])))
    with pytest.raises(pulumi.RunError, match=r"materialize:aws\.availabilityZones: 'use1-az9' is not an available"):
        evaluate(aws_stack(aws=aws_settings(availabilityZones=["us-east-1a", "use1-az9"])))


# --- 5. lifecycle ----------------------------------------------------------------------------------


def test_rds_applies_changes_at_once_in_explicit_windows_and_upgrades_majors(example: Evaluation) -> None:
    inputs = example.one(RDS).inputs
    assert inputs["applyImmediately"] is True
    assert (inputs["backupWindow"], inputs["maintenanceWindow"]) == ("03:00-04:00", "sun:05:00-sun:06:00")
    assert inputs["allowMajorVersionUpgrade"] is True
    later = evaluate(aws_stack(aws=aws_settings(postgresApplyChanges="maintenanceWindow"))).one(RDS).inputs
    assert later["applyImmediately"] is False


def test_eks_stays_on_standard_support_and_is_deletion_protected(example: Evaluation) -> None:
    cluster = example.one(CLUSTER).inputs
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    assert cluster["deletionProtection"] is True


# --- 9. refused input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"apiAllowedCidrs": ["203.0.113.0/24"]},
            r"materialize:aws\.apiAllowedCidrs\[0\]: '203\.0\.113\.0/24' is in 203\.0\.113\.0/24, a documentation "
            r"range \(RFC 5737\)",
        ),
        ({"apiAllowedCidrs": ["10.1.0.0/16", "192.0.2.7/32"]}, r"apiAllowedCidrs\[1\]: '192\.0\.2\.7/32' is in"),
        ({"apiAllowedCidrs": ["198.51.100.0/25"]}, r"apiAllowedCidrs\[0\]: '198\.51\.100\.0/25' is in"),
        (
            {"postgresBackupWindow": "05:30-06:30"},
            r"aws\.postgresBackupWindow: 05:30-06:30 overlaps postgresMaintenanceWindow sun:05:00-sun:06:00",
        ),
        (
            {"postgresBackupWindow": "23:45-00:15", "postgresMaintenanceWindow": "mon:00:00-mon:01:00"},
            r"aws\.postgresBackupWindow: 23:45-00:15 overlaps",
        ),
        ({"postgresBackupWindow": "03:00-03:10"}, r"aws\.postgresBackupWindow: the window must last at least 30"),
        ({"postgresMaintenanceWindow": "sunday:05:00-sun:06:00"}, r"materialize:aws\.postgresMaintenanceWindow"),
        ({"postgresEncryption": "sse-kms"}, r"materialize:aws\.postgresEncryption.*'aws-managed'.*'kms'"),
        ({"logEncryption": "customer"}, r"materialize:aws\.logEncryption.*'aws-managed'.*'kms'"),
        ({"postgresMultiAz": "sometimes"}, r"materialize:aws\.postgresMultiAz"),
    ],
)
def test_bad_input_is_refused_naming_the_key_before_anything_is_registered(
    overrides: dict[str, object], message: str
) -> None:
    assert_refused_before_anything_is_registered(aws_stack(aws=aws_settings(**overrides)), message)


def test_wider_blocks_and_real_addresses_are_accepted() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(apiAllowedCidrs=["0.0.0.0/0", "198.51.0.0/16"])))
    assert evaluation.one(CLUSTER).inputs["vpcConfig"]["publicAccessCidrs"] == ["0.0.0.0/0", "198.51.0.0/16"]


@pytest.mark.parametrize(
    ("caller", "what"),
    [
        (f"arn:aws:iam::{ACCOUNT_ID}:root", "the account's root user"),
        (f"arn:aws:sts::{ACCOUNT_ID}:federated-user/deployer", "an STS federated-user session"),
    ],
)
def test_callers_eks_cannot_make_admin_are_refused_before_any_cloud_resource(
    monkeypatch: pytest.MonkeyPatch, caller: str, what: str
) -> None:
    def identity(_: object) -> dict[str, str]:
        return {"accountId": ACCOUNT_ID, "arn": caller, "userId": "AIDAEXAMPLE", "id": ACCOUNT_ID}

    monkeypatch.setitem(offline_mocks._INVOKES, "aws:index/getCallerIdentity:getCallerIdentity", identity)
    monitor = offline_mocks.RecordingMonitor(offline_mocks.RealisticMocks())
    with pytest.raises(pulumi.RunError, match=f"are {what} .*take IAM roles and users only"):
        evaluate(aws_stack(), monitor=monitor)
    assert not [r for r in monitor.registered if r.type.startswith(("aws:", "kubernetes:"))]
