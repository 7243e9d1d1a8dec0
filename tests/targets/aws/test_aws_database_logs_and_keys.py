"""RDS log exports into groups of ours, optional customer-managed keys, Multi-AZ in production (issue 15 item 7)."""

from __future__ import annotations

import json

import pytest

from components.targets.aws.database import LOG_EXPORTS, instance_identifier
from tests.harness.stack import Evaluation, evaluate
from tests.targets.aws.stack import CLUSTER, KMS_KEY, LOG_GROUP, RDS, aws_settings, aws_stack, ending
from tools.offline import mocks as offline_mocks
from tools.offline.aws_mocks import ACCOUNT_ID

GET_LOG_GROUPS = "aws:cloudwatch/getLogGroups:getLogGroups"
IDENTIFIER = "materialize-dev-metadata"
RDS_GROUPS = {log: f"/aws/rds/instance/{IDENTIFIER}/{log}" for log in LOG_EXPORTS}
CONTROL_PLANE_LOGS = "/aws/eks/materialize-dev/cluster"


@pytest.fixture(scope="module")
def with_keys() -> Evaluation:
    return evaluate(aws_stack(aws=aws_settings(postgresEncryption="kms", logEncryption="kms")))


def _group(evaluation: Evaluation, name: str):
    [group] = [g for g in evaluation.of_type(LOG_GROUP) if g.inputs["name"] == name]
    return group


# --- 7a. RDS log exports ----------------------------------------------------------------------------


def test_rds_exports_its_postgres_and_upgrade_logs_under_a_fixed_identifier(example: Evaluation) -> None:
    inputs = example.one(RDS).inputs
    assert inputs["identifier"] == IDENTIFIER
    assert sorted(inputs["enabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]


def test_the_export_groups_exist_first_with_the_stack_retention_and_are_kept(example: Evaluation) -> None:
    instance = example.one(RDS)
    for name in RDS_GROUPS.values():
        group = _group(example, name)
        assert group.inputs["retentionInDays"] == 90
        # Created before the instance: RDS never makes one of its own without a retention.
        assert group.urn in instance.dependencies
        # Audit data: kept at destroy, like the final snapshot and the backups.
        assert group.options["retainOnDelete"] is True
        assert group.options["importId"] == ""
        assert group.inputs["tags"]["environment"] == "production"
        assert "kmsKeyId" not in group.inputs


def test_retention_is_the_one_setting_for_every_log_group() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(logRetentionDays=365)))
    for name in [CONTROL_PLANE_LOGS, *RDS_GROUPS.values()]:
        assert _group(evaluation, name).inputs["retentionInDays"] == 365


def test_a_throwaway_stack_deletes_its_postgres_logs_with_its_backups() -> None:
    evaluation = evaluate(aws_stack(protectData=False, aws=aws_settings(keepBackupsOnDelete=False)))
    for name in RDS_GROUPS.values():
        assert _group(evaluation, name).options["retainOnDelete"] is False
    # EKS re-creates its group while the cluster is deleted: that one is always kept.
    assert _group(evaluation, CONTROL_PLANE_LOGS).options["retainOnDelete"] is True


def test_groups_an_earlier_stack_left_behind_are_adopted(monkeypatch: pytest.MonkeyPatch) -> None:
    def existing(args: dict[str, object]) -> dict[str, object]:
        prefix = str(args["logGroupNamePrefix"])
        # A prefix lookup returns longer names too; only the exact one may be imported.
        names = [prefix, prefix + "-other"] if prefix.startswith("/aws/rds/") else []
        return {
            "id": "us-east-1",
            "logGroupNamePrefix": prefix,
            "arns": [f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:{n}" for n in names],
            "logGroupNames": names,
        }

    monkeypatch.setitem(offline_mocks._INVOKES, GET_LOG_GROUPS, existing)
    evaluation = evaluate(aws_stack())
    for name in RDS_GROUPS.values():
        assert _group(evaluation, name).options["importId"] == name
    assert _group(evaluation, CONTROL_PLANE_LOGS).options["importId"] == ""


def _follows_rds_rules(identifier: str) -> bool:
    return (
        1 <= len(identifier) <= 63
        and identifier[0].isalpha()
        and "--" not in identifier
        and not identifier.endswith("-")
        and set(identifier) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    )


@pytest.mark.parametrize(
    ("cluster", "identifier"),
    [
        ("materialize-dev", "materialize-dev-metadata"),
        ("Prod_EU__1", "prod-eu-1-metadata"),
        ("9lives", "mz-9lives-metadata"),
    ],
)
def test_identifiers_follow_rds_rules_for_any_cluster_name(cluster: str, identifier: str) -> None:
    assert instance_identifier(cluster) == identifier
    assert _follows_rds_rules(identifier)


def test_a_long_cluster_name_is_cut_and_told_apart_by_a_hash() -> None:
    first, second = instance_identifier("a" * 63), instance_identifier("a" * 62 + "b")
    assert _follows_rds_rules(first) and _follows_rds_rules(second)
    assert first.endswith("-metadata") and first.startswith("a" * 45 + "-")
    assert first != second


# --- 7b. optional customer-managed keys --------------------------------------------------------------


def test_default_encryption_uses_the_aws_managed_keys(example: Evaluation) -> None:
    assert "kmsKeyId" not in example.one(RDS).inputs
    assert example.one(RDS).inputs["storageEncrypted"] is True
    # Only the EKS Secrets key: no database or logs key unless asked.
    assert [k.name for k in example.of_type(KMS_KEY)] == ["aws-cluster-secrets-key"]


def test_the_database_key_encrypts_its_storage_rotates_and_outlives_it(with_keys: Evaluation) -> None:
    key = ending(with_keys, KMS_KEY, "-database-key")
    instance = with_keys.one(RDS)
    assert instance.inputs["kmsKeyId"] == key.state["arn"]
    assert instance.inputs["storageEncrypted"] is True
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect is True
    # Kept snapshots and backups are encrypted with it.
    assert key.options["retainOnDelete"] is True


def test_the_logs_key_encrypts_every_log_group_of_ours(with_keys: Evaluation) -> None:
    key = ending(with_keys, KMS_KEY, "-logs-key")
    groups = with_keys.of_type(LOG_GROUP)
    # The control plane's, the two RDS exports' and the VPC flow logs'.
    assert {g.inputs["name"] for g in groups} >= {CONTROL_PLANE_LOGS, *RDS_GROUPS.values()} and len(groups) == 4
    for group in groups:
        assert group.inputs["kmsKeyId"] == key.state["arn"], group.name
        # Encrypting a group needs the key to exist.
        assert key.urn in group.engine_edges()
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect is True
    # The control-plane group is always kept, and a kept group without its key is unreadable.
    assert key.options["retainOnDelete"] is True


def test_the_logs_key_lets_only_this_accounts_regional_log_groups_use_it(with_keys: Evaluation) -> None:
    policy = json.loads(ending(with_keys, KMS_KEY, "-logs-key").inputs["policy"])
    account, logs = policy["Statement"]
    assert account["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"} and account["Action"] == "kms:*"
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert "kms:GenerateDataKey*" in logs["Action"] and "kms:Decrypt*" in logs["Action"]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:*"}
    }


def test_throwaway_keys_are_neither_protected_nor_kept_with_the_backups() -> None:
    evaluation = evaluate(
        aws_stack(protectData=False, aws=aws_settings(postgresEncryption="kms", keepBackupsOnDelete=False))
    )
    key = ending(evaluation, KMS_KEY, "-database-key")
    assert key.protect is False and key.options["retainOnDelete"] is False


# --- 7c. Multi-AZ on production stacks ----------------------------------------------------------------


def test_a_production_stack_gets_a_standby_by_default(example: Evaluation) -> None:
    assert example.one(RDS).inputs["multiAz"] is True


@pytest.mark.parametrize(
    ("tags", "setting", "expected"),
    [
        ({"environment": "staging"}, None, False),
        ({}, None, False),
        ({"Environment": " Production "}, None, True),
        ({"environment": "production"}, False, False),
        ({"environment": "dev"}, True, True),
    ],
)
def test_multi_az_follows_the_production_tag_unless_set(
    tags: dict[str, str], setting: bool | None, expected: bool
) -> None:
    settings = aws_settings()
    settings.pop("postgresMultiAz", None)
    if setting is not None:
        settings["postgresMultiAz"] = setting
    evaluation = evaluate(aws_stack(tags=tags, aws=settings))
    assert evaluation.one(RDS).inputs["multiAz"] is expected


def test_the_cluster_is_unchanged_by_the_database_settings(example: Evaluation, with_keys: Evaluation) -> None:
    assert example.one(CLUSTER).inputs == with_keys.one(CLUSTER).inputs
