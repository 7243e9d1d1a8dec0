"""Third-party charts' sources at a pinned commit, rendered with the real Helm engine offline.

A chart directory is pinned by its git tree id (a hash of every file in it), so exactly
the pinned files are rendered. It is taken from

1. this user's cache (`$XDG_CACHE_HOME/materialize-pulumi/reference/charts/<tree>`),
   written only after the tree id was checked;
2. a bare git mirror of the chart's repository (`$CHART_MIRROR_ROOT/<owner>+<name>/repo`,
   default /work/.mirror), as chart_values.py;
3. a download of each of the directory's files from raw.githubusercontent.com at the pinned
   commit, each checked against the git blob id that tests/support/chart_manifests/<chart>.json
   lists for it (no git needed: CI machines may have only Python;
   `MATERIALIZE_REFERENCE_OFFLINE=1` forbids it). A test checks that manifest against the
   pinned tree wherever a mirror has it (`python -m tests.support.chart_sources` rewrites it);

and the test is skipped, saying why, when none has it. The chart's own dependencies are
not fetched: every one the values here use is turned off, and Helm renders without them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.reference_data import DOWNLOAD_TIMEOUT_SECONDS, _cache_dir, _offline

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


def _git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """git's answer, or None where git is not installed."""
    try:
        return subprocess.run(
            ["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False, timeout=GIT_TIMEOUT_SECONDS
        )
    except FileNotFoundError:
        return None


def _archive(git_dir: Path, source: ChartSource, tried: list[str]) -> bytes | None:
    found = _git(git_dir, "rev-parse", f"{source.commit}:{source.path}")
    if found is None:
        tried.append("git is not installed")
        return None
    if found.returncode != 0:
        tried.append(f"{git_dir} lacks {source.commit}:{source.path}")
        return None
    tree = found.stdout.decode().strip()
    if tree != source.tree:
        pytest.fail(f"{source.repository} {source.commit}:{source.path} is tree {tree}, not the pinned {source.tree}")
    archive = _git(git_dir, "archive", "--format=tar", source.tree)
    if archive is None or archive.returncode != 0:
        tried.append(f"git archive in {git_dir} failed: {archive.stderr.decode().strip() if archive else 'no git'}")
        return None
    return archive.stdout


def _mirror_git_dir(source: ChartSource) -> Path:
    return Path(os.environ.get("CHART_MIRROR_ROOT", "/work/.mirror")) / source.repository.replace("/", "+") / "repo"


def _from_mirror(source: ChartSource, tried: list[str]) -> bytes | None:
    git_dir = _mirror_git_dir(source)
    if not git_dir.is_dir():
        tried.append(f"no git mirror of {source.repository}")
        return None
    return _archive(git_dir, source, tried)


MANIFESTS = Path(__file__).parent / "chart_manifests"
RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}/{path}/{file}"
DOWNLOAD_WORKERS = 16


def manifest_path(source: ChartSource) -> Path:
    return MANIFESTS / f"{source.chart}.json"


def manifest(source: ChartSource) -> dict[str, Any]:
    """The checked-in list of the pinned chart directory's files: {"tree": ..., "files": [[path, mode, blob]]}."""
    return json.loads(manifest_path(source).read_text())


def tree_listing(git_dir: Path, source: ChartSource) -> dict[str, Any] | None:
    """The pinned tree's files as a manifest, from a git directory that has it."""
    listed = _git(git_dir, "ls-tree", "-r", "-z", source.tree)
    if listed is None or listed.returncode != 0:
        return None
    files = []
    for entry in listed.stdout.decode().split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            mode, _kind, blob = meta.split()
            files.append([path, mode, blob])
    return {"tree": source.tree, "files": sorted(files)}


def _blob_id(data: bytes) -> str:
    """git's id of a file's contents (what `git ls-tree` lists)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        return response.read()


def _from_raw_files(source: ChartSource, tried: list[str]) -> bytes | None:
    if _offline():
        tried.append("downloads are off (MATERIALIZE_REFERENCE_OFFLINE)")
        return None
    listing = manifest(source)
    if listing["tree"] != source.tree:
        pytest.fail(f"{manifest_path(source)} lists tree {listing['tree']}, not the pinned {source.tree}")
    urls = [
        RAW_URL.format(repository=source.repository, commit=source.commit, path=source.path, file=path)
        for path, _mode, _blob in listing["files"]
    ]
    try:
        with ThreadPoolExecutor(DOWNLOAD_WORKERS) as pool:
            contents = list(pool.map(_download, urls))
    except (urllib.error.URLError, OSError) as error:
        tried.append(f"download from raw.githubusercontent.com failed ({error})")
        return None
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as archive:
        for (path, mode, blob), data, url in zip(listing["files"], contents, urls, strict=True):
            if _blob_id(data) != blob:
                pytest.fail(f"{url} is blob {_blob_id(data)}, not the pinned {blob}")
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), int(mode[-3:], 8)
            archive.addfile(info, io.BytesIO(data))
    return packed.getvalue()


def chart_dir(chart: str) -> Path:
    source = CHART_SOURCES[chart]
    cached = _cache_dir() / "charts" / source.tree / chart
    if (cached / "Chart.yaml").is_file():
        return cached
    tried = [f"not cached in {cached.parent}"]
    data = _from_mirror(source, tried)
    if data is None:
        data = _from_raw_files(source, tried)
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


if __name__ == "__main__":
    # Rewrite the manifests from the mirrors (after a chart pin moved on purpose).
    for pinned in CHART_SOURCES.values():
        written = tree_listing(_mirror_git_dir(pinned), pinned)
        if written is None:
            raise SystemExit(f"no mirror holds {pinned.repository} tree {pinned.tree}")
        MANIFESTS.mkdir(exist_ok=True)
        manifest_path(pinned).write_text(json.dumps(written, indent=1) + "\n")
        print(f"{manifest_path(pinned)}: {len(written['files'])} files")
