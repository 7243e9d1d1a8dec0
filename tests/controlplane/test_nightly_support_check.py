"""tools/nightly/support_check.py on a real PostgreSQL server through the stand-in.

What runs here is the check's own sequence (the real provider, reconcile and
catalog query); the statements Materialize-specific DDL would run are the
stand-in's, so this shows the check's logic, not Materialize's behaviour:
that is what the nightly itself exercises.
"""

from __future__ import annotations

import re

import pytest

from components.controlplane.connection import SupportSqlError
from components.controlplane.replicas import ReplicaSpec, name_problems
from tests.controlplane.conftest import NOW, StandIn, clock
from tests.controlplane.standin import PostgresStandInCatalog
from tools.nightly.support_check import BILLED_AS, CLUSTER, SIZE, replica_name, run_support_check

RUN_ID = "20260901T0300-42-1"


def names_in(stand_in: StandIn, cluster: str) -> list[str]:
    return [r.name for r in stand_in.replicas() if r.cluster == cluster]


def test_the_check_creates_reads_expires_and_leaves_nothing(stand_in: StandIn) -> None:
    seen = run_support_check(stand_in.connection()["url"], RUN_ID, PostgresStandInCatalog(), clock)

    assert seen == (
        f"{CLUSTER}.{replica_name(RUN_ID)} ({SIZE}, billed as {BILLED_AS}, internal) "
        "created, read back, expired by reconcile"
    )
    assert replica_name(RUN_ID) not in names_in(stand_in, CLUSTER)


def test_a_leftover_of_an_earlier_attempt_does_not_block_the_check(stand_in: StandIn) -> None:
    with stand_in.connect() as conn:
        PostgresStandInCatalog().create(conn, ReplicaSpec(CLUSTER, replica_name(RUN_ID), SIZE, NOW))
    assert replica_name(RUN_ID) in names_in(stand_in, CLUSTER)

    run_support_check(stand_in.connection()["url"], RUN_ID, PostgresStandInCatalog(), clock)
    assert replica_name(RUN_ID) not in names_in(stand_in, CLUSTER)


def test_a_connection_as_anyone_but_mz_system_is_refused_and_nothing_is_created(stand_in: StandIn) -> None:
    url = stand_in.connection("customer")["url"]
    with pytest.raises(SupportSqlError, match="support replicas need mz_system") as error:
        run_support_check(url, RUN_ID, PostgresStandInCatalog(), clock)
    assert stand_in.passwords["customer"] not in str(error.value)
    assert replica_name(RUN_ID) not in names_in(stand_in, CLUSTER)


@pytest.mark.parametrize("run_id", [RUN_ID, "1", "A" * 200, "---"])
def test_replica_names_are_valid_support_names(run_id: str) -> None:
    name = replica_name(run_id)
    assert name == replica_name(run_id)
    assert name_problems(name) == []
    assert len(name) <= 63 and re.fullmatch(r"nightly_support(_[a-z0-9_]*[a-z0-9])?", name)
