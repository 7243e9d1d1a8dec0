"""Third-party charts' sources at a pinned commit, rendered with the real Helm engine offline.

A chart directory is pinned by its git tree id (a hash of every file in it), so exactly
the pinned files are rendered. It is taken from

1. this user's cache (`$XDG_CACHE_HOME/materialize-pulumi/reference/charts/<tree>`),
   written only after the tree id was checked;
2. a bare git mirror of the chart's repository (`$CHART_MIRROR_ROOT/<owner>+<name>/repo`,
   default /work/.mirror), as chart_values.py;
3. a shallow, blob-less `git fetch` of the pinned commit from GitHub, whose `git archive`
   then downloads only that directory's files (`MATERIALIZE_REFERENCE_OFFLINE=1` forbids it);

and the test is skipped, saying why, when none has it. The chart's own dependencies are
not fetched: every one the values here use is turned off, and Helm renders without them.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.reference_data import _cache_dir, _offline

GIT_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class ChartSource:
    chart: str
    tag: str
    repository: str
    commit: str
    path: str
    tree: str


CHART_SOURCES = {
    source.chart: source
    for source in (
        ChartSource(
            "alloy",
            "helm-chart/1.11.1",
            "grafana/alloy",
            "233907cff225ce253f812bdfc14138dac1fa0cd2",
            "operations/helm/charts/alloy",
            "63981091b99678ab2d7e14c61a066757481afa37",
        ),
        ChartSource(
            "loki",
            "helm-loki-7.3.0",
            "grafana/loki",
            "50c738b4d5b28db6e26723c3828da13bb46f0f06",
            "production/helm/loki",
            "e0ad2c30f9bc9e4c1d977a29c89d0d2befae1a09",
        ),
    )
}


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False, timeout=GIT_TIMEOUT_SECONDS
    )


def _archive(git_dir: Path, source: ChartSource, tried: list[str]) -> bytes | None:
    found = _git(git_dir, "rev-parse", f"{source.commit}:{source.path}")
    if found.returncode != 0:
        tried.append(f"{git_dir} lacks {source.commit}:{source.path}")
        return None
    tree = found.stdout.decode().strip()
    if tree != source.tree:
        pytest.fail(f"{source.repository} {source.commit}:{source.path} is tree {tree}, not the pinned {source.tree}")
    archive = _git(git_dir, "archive", "--format=tar", source.tree)
    if archive.returncode != 0:
        tried.append(f"git archive in {git_dir} failed: {archive.stderr.decode().strip()}")
        return None
    return archive.stdout


def _from_mirror(source: ChartSource, tried: list[str]) -> bytes | None:
    root = Path(os.environ.get("CHART_MIRROR_ROOT", "/work/.mirror"))
    git_dir = root / source.repository.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        tried.append(f"no git mirror of {source.repository}")
        return None
    return _archive(git_dir, source, tried)


def _from_github(source: ChartSource, tried: list[str]) -> bytes | None:
    if _offline():
        tried.append("downloads are off (MATERIALIZE_REFERENCE_OFFLINE)")
        return None
    with tempfile.TemporaryDirectory() as scratch:
        git_dir = Path(scratch) / "repo.git"
        url = f"https://github.com/{source.repository}.git"
        steps = [
            ("init", "--bare", "--quiet"),
            ("remote", "add", "origin", url),
            ("fetch", "--quiet", "--depth=1", "--filter=blob:none", "origin", source.commit),
        ]
        for step in steps:
            done = (
                subprocess.run(["git", "init", "--bare", "--quiet", str(git_dir)], capture_output=True, check=False)
                if step[0] == "init"
                else _git(git_dir, *step)
            )
            if done.returncode != 0:
                tried.append(f"git {step[0]} of {url} failed: {done.stderr.decode().strip()}")
                return None
        return _archive(git_dir, source, tried)


def chart_dir(chart: str) -> Path:
    source = CHART_SOURCES[chart]
    cached = _cache_dir() / "charts" / source.tree / chart
    if (cached / "Chart.yaml").is_file():
        return cached
    tried = [f"not cached in {cached.parent}"]
    data = _from_mirror(source, tried)
    if data is None:
        data = _from_github(source, tried)
    if data is None:
        pytest.skip(f"chart {source.tag} is not available: " + "; ".join(tried))
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Unpacked beside and renamed, so a concurrent run never reads half a chart.
    scratch = Path(tempfile.mkdtemp(dir=cached.parent))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(scratch, filter="data")
    try:
        os.replace(scratch, cached)
    except OSError:
        shutil.rmtree(scratch)  # another run got there first
    return cached


def render(chart: str, values: dict[str, Any], *, release: str, namespace: str) -> list[dict[str, Any]]:
    """The chart's manifests for these values, as Helm's engine renders them on install."""
    from helm_python.chart import Chart  # the native engine loads only where a test renders

    with Chart.load(chart_dir(chart)) as loaded:
        rendered = loaded.render(values=values, name=release, namespace=namespace, is_install=True)
    objects: list[dict[str, Any]] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        objects += [document for document in yaml.safe_load_all(text) if document]
    return objects
