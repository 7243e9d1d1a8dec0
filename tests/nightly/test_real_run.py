"""The real thing, opt-in: the same runner as the nightly, against a real cluster or cloud.

It creates real (and for clouds, billed) infrastructure and takes up to an
hour per cloud, so it runs only for the targets named in NIGHTLY_REAL_RUN,
and only where the Pulumi CLI and that target's credentials are present:

    NIGHTLY_REAL_RUN=local MATERIALIZE_LICENSE_KEY=... venv/bin/pytest tests/nightly/test_real_run.py

Otherwise each case skips and says which of those is missing.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.nightly.naming import new_run_id
from tools.nightly.report import markdown
from tools.nightly.runner import Console, RunSettings, run_night
from tools.nightly.targets import TARGETS, target_named
from tools.nightly.workspace import resolve_backend

OPT_IN = "NIGHTLY_REAL_RUN"


def opted_in() -> set[str]:
    return {name.strip() for name in os.environ.get(OPT_IN, "").split(",") if name.strip()}


@pytest.mark.parametrize("name", [target.name for target in TARGETS])
def test_a_real_night(name: str, tmp_path: Path) -> None:
    if shutil.which("pulumi") is None:
        pytest.skip("the Pulumi CLI is not on PATH")
    if name not in opted_in():
        pytest.skip(f"creates real infrastructure: opt in with {OPT_IN}={name}")
    target = target_named(name)
    unmet = target.unmet()
    if unmet:
        pytest.skip("; ".join(unmet))

    run_id = new_run_id(datetime.now(UTC), "pytest")
    backend = resolve_backend(None, os.environ)
    settings = RunSettings(run_id=run_id, backend=backend, project_dir=tmp_path / "projects", report_dir=tmp_path)
    results = run_night([target], settings, Console())

    assert [r.target for r in results] == [name]
    assert results[0].passed, markdown(results, run_id) + f"\nlog: {tmp_path / (name + '.log')}"
