"""tests/support/chart_sources.py: the pinned chart directories arrive intact, with or without git."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import chart_sources
from tests.support.chart_sources import CHART_SOURCES, ChartSource, manifest, tree_listing

CHARTS = sorted(CHART_SOURCES)


def _mirror(source: ChartSource) -> Path:
    git_dir = chart_sources._mirror_git_dir(source)  # pyright: ignore[reportPrivateUsage]
    if tree_listing(git_dir, source) is None:
        pytest.skip(f"no mirror of {source.repository} with tree {source.tree} on this machine")
    return git_dir


def _from_mirror_as_raw(git_dir: Path, source: ChartSource, tamper: str | None = None) -> Callable[[str], bytes]:
    """A stand-in for the HTTPS download that answers each raw URL from the mirror."""
    prefix = chart_sources.RAW_URL.format(repository=source.repository, commit=source.commit, path=source.path, file="")

    def download(url: str) -> bytes:
        assert url.startswith(prefix), url
        path = url.removeprefix(prefix)
        data = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{source.commit}:{source.path}/{path}"],
            capture_output=True,
            check=True,
        ).stdout
        return data + b"# changed\n" if path == tamper else data

    return download


@pytest.mark.parametrize("chart", CHARTS)
def test_the_manifest_lists_exactly_the_pinned_tree(chart: str) -> None:
    source = CHART_SOURCES[chart]
    assert tree_listing(_mirror(source), source) == manifest(source)


@pytest.mark.parametrize("chart", CHARTS)
def test_the_raw_download_rebuilds_the_chart_and_checks_every_file(chart: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = CHART_SOURCES[chart]
    git_dir = _mirror(source)
    monkeypatch.delenv("MATERIALIZE_REFERENCE_OFFLINE", raising=False)
    monkeypatch.setattr(chart_sources, "_download", _from_mirror_as_raw(git_dir, source))
    data = chart_sources._from_raw_files(source, [])  # pyright: ignore[reportPrivateUsage]
    assert data is not None
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = sorted(archive.getnames())
    assert names == sorted(path for path, _mode, _blob in manifest(source)["files"])
    assert "Chart.yaml" in names

    monkeypatch.setattr(chart_sources, "_download", _from_mirror_as_raw(git_dir, source, tamper="Chart.yaml"))
    with pytest.raises(pytest.fail.Exception, match=r"Chart.yaml is blob [0-9a-f]{40}, not the pinned"):
        chart_sources._from_raw_files(source, [])  # pyright: ignore[reportPrivateUsage]


def test_without_git_the_mirror_step_says_so_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = CHART_SOURCES["alloy"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    tried: list[str] = []
    assert chart_sources._archive(tmp_path, source, tried) is None  # pyright: ignore[reportPrivateUsage]
    assert tried == ["git is not installed"]
