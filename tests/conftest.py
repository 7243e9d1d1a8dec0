"""Every test starts with Pulumi mocks set, in update mode (not preview)."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components.settings import PROJECT
from tools.offline.mocks import RealisticMocks, RecordingMonitor


@pytest.fixture(autouse=True)
def pulumi_mocks_set() -> Iterator[RecordingMonitor]:
    mocks = RealisticMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_mocks.set_mocks(
        mocks, project=PROJECT, stack="dev", preview=False, monitor=monitor, organization="organization"
    )
    pulumi.runtime.set_all_config({}, [])
    yield monitor
    pulumi.runtime.set_all_config({}, [])
