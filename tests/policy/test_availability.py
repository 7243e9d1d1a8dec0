"""rds-multi-az-in-production: a production stack's RDS instance has a standby in a second zone."""

from __future__ import annotations

from typing import Any

import pytest

from policy.materialize_policies import fields as f
from policy.materialize_policies.availability import RDS_MULTI_AZ_IN_PRODUCTION
from tests.harness.stack import evaluate
from tests.policy.harness import Analyzer, violations
from tests.policy.test_example_stacks import changed, evaluated
from tests.targets.aws.stack import aws_settings, aws_stack

PRODUCTION = {"environment": "production"}


def multi_az_violations(props: dict[str, Any], **options: Any) -> list[str]:
    return violations(RDS_MULTI_AZ_IN_PRODUCTION, f.RDS_INSTANCE, props, **options)


def test_a_multi_az_instance_complies_in_production() -> None:
    assert multi_az_violations({"multiAz": True}, stack_tags=PRODUCTION) == []
    assert multi_az_violations({"multiAz": "true"}, config={"production": True}) == []


@pytest.mark.parametrize(("props", "shown"), [({"multiAz": False}, "False"), ({}, "not set (false)")])
def test_a_single_zone_instance_fails_in_production(props: dict[str, Any], shown: str) -> None:
    for options in ({"stack_tags": PRODUCTION}, {"config": {"production": True}}):
        found = multi_az_violations(props, **options)
        assert len(found) == 1 and found[0].startswith(f"multiAz is {shown}:")


def test_a_single_zone_instance_passes_outside_production() -> None:
    assert multi_az_violations({"multiAz": False}) == []
    assert multi_az_violations({"multiAz": False}, stack_tags={"environment": "staging"}) == []
    assert multi_az_violations({}, config={"production": False}) == []


def test_other_resources_are_not_this_rules_business() -> None:
    assert violations(RDS_MULTI_AZ_IN_PRODUCTION, f.CLOUD_SQL_INSTANCE, {}, stack_tags=PRODUCTION) == []


def test_the_analyzer_stops_a_single_az_example_stack_in_production_only() -> None:
    registered = evaluated("aws").registered
    assert Analyzer([RDS_MULTI_AZ_IN_PRODUCTION], stack_tags=PRODUCTION).run(registered) == []
    weakened = changed(registered, f.RDS_INSTANCE, multiAz=False)
    found = Analyzer([RDS_MULTI_AZ_IN_PRODUCTION], stack_tags=PRODUCTION).run(weakened)
    assert [(d.policy, d.urn.rsplit("::", 1)[1], d.mandatory) for d in found] == [
        ("rds-multi-az-in-production", "aws-database-postgres", True)
    ]
    assert Analyzer([RDS_MULTI_AZ_IN_PRODUCTION]).run(weakened) == []


def test_the_example_stack_opting_out_is_caught_in_production() -> None:
    registered = evaluate(aws_stack(aws=aws_settings(postgresMultiAz=False))).registered
    found = Analyzer([RDS_MULTI_AZ_IN_PRODUCTION], stack_tags=PRODUCTION).run(registered)
    assert [d.policy for d in found] == ["rds-multi-az-in-production"]
