"""Materialize's published reference data, wherever the tests run.

The chart values, CRD field descriptions and port table the tests check the
program against are files of the public MaterializeInc/materialize
repository, each pinned here by commit and SHA-256. A file is taken from the
first place that has exactly those bytes:

1. an offline mirror: `$MATERIALIZE_REFERENCE_DIR`, else `../shared/materialize`
   beside this repository (our own machines keep one);
2. this user's cache (`$XDG_CACHE_HOME/materialize-pulumi/reference`);
3. a download of the pinned commit's raw file (as on GitHub's runners), which
   is then cached; `MATERIALIZE_REFERENCE_OFFLINE=1` forbids it.

A mirror file whose bytes differ from the pin fails the test: the mirror has
moved on and the pin (and what the tests believe) must be updated on purpose.
When no place has the file, the test is skipped and says why.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = "MaterializeInc/materialize"
RAW_BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}"
MIRROR = Path(__file__).resolve().parents[3] / "shared" / "materialize"
DOWNLOAD_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ReferenceFile:
    name: str  # the file's name in the mirror
    sha256: str
    # Where it lives upstream; None for a file derived from several sources
    # (it can only come from a mirror).
    path: str | None = None
    commit: str | None = None

    def url(self, base_url: str = RAW_BASE_URL) -> str | None:
        if self.path is None or self.commit is None:
            return None
        return f"{base_url}/{self.commit}/{self.path}"


# Pins of ../shared/materialize/README.md's table (a mirror written unchanged).
FILES = {
    file.name: file
    for file in (
        ReferenceFile(
            "operator-values.v26.12.0.yaml",
            "e06060267cc4350c0b0851b41b3ecf5ce41dc00587ed157af1be500d1f0ce0c1",
            "misc/helm-charts/operator/values.yaml",
            "0064e08b58f5d586b1e2d3d0765c32474321619f",
        ),
        ReferenceFile(
            "operator-chart-parameters.yml",
            "b2f942deefe3a1060c85914c7810f40441f8b9c5ab2f9729e6912a0f118967b5",
            "doc/user/data/self_managed/materialize_operator_chart_parameter.yml",
            "0064e08b58f5d586b1e2d3d0765c32474321619f",
        ),
        ReferenceFile(
            "crd-fields-v1.json",
            "e84d317b1193d8291bea8aa4d8aca8ec9bc7ee882feaa191548206ed4c8f1ad5",
            "doc/user/data/self_managed/materialize_crd_descriptions_v1.json",
            "024350a33b720ad1cae4371a17323832c8e7d9e7",
        ),
        ReferenceFile(
            "crd-fields-v1alpha1.json",
            "ab32eeca2ec96043f08a2d577c427e57716fecc3e4196029bb4dfc95a6d7655e",
            "doc/user/data/self_managed/materialize_crd_descriptions_v1alpha1.json",
            "044a0bd5736697430ac8d7373b420b2a7eb6bbc0",
        ),
        ReferenceFile(
            "operator-values.7aa0d202.yaml",
            "8099ce2976a8374cb3d9bbbf0c4ea013ce708cf5f033dc9faf787c7a92c062b7",
            "misc/helm-charts/operator/values.yaml",
            "7aa0d2029196e80dd47b7834eb985d1123ad036b",
        ),
        ReferenceFile(
            "default-ports.yml",
            "07ccdc5ccb8f9d860b44d817e9dffca5afd11e3da86cc10c1d1b5643ed75cb5a",
            "doc/user/data/self_managed/default_ports.yml",
            "5c2dbbc07539833d374878169de52cf01d26b5d8",
        ),
        ReferenceFile(
            "operator-compatibility.yml",
            "a92909df3146e79fe0e5d47059f5c90a837dc693e1c5006c8a7ea6873a596c21",
            "doc/user/data/self_managed/self_managed_operator_compatibility.yml",
            "01d283e1c3a3e1d58893b93f68fcdd2ad534a2f6",
        ),
        # Rendered offline from the chart's networkpolicies.yaml template and
        # its values (see the file's header): a mirror holds it, no URL does.
        ReferenceFile(
            "operator-chart-networkpolicy.v26.37-era.yaml",
            "e36e88bda0c2ba1a7b503100772c96706612ca80b8db35a217848d373545116c",
        ),
    )
}


class ReferenceUnavailable(Exception):
    """No place holds the pinned bytes; the message says what was tried."""


class ReferenceMismatch(Exception):
    """A mirror holds other bytes than the pin."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mirror_dir() -> Path:
    configured = os.environ.get("MATERIALIZE_REFERENCE_DIR")
    return Path(configured) if configured else MIRROR


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "materialize-pulumi" / "reference"


def _offline() -> bool:
    return os.environ.get("MATERIALIZE_REFERENCE_OFFLINE", "") not in ("", "0", "false")


def locate(
    name: str,
    *,
    mirror: Path | None = None,
    cache: Path | None = None,
    base_url: str = RAW_BASE_URL,
    offline: bool | None = None,
) -> Path:
    """A local path holding exactly the pinned bytes of reference file `name`."""
    file = FILES[name]
    mirror = _mirror_dir() if mirror is None else mirror
    cache = _cache_dir() if cache is None else cache
    offline = _offline() if offline is None else offline
    tried: list[str] = []

    mirrored = mirror / name
    if mirrored.is_file():
        found = _sha256(mirrored.read_bytes())
        if found != file.sha256:
            raise ReferenceMismatch(
                f"{mirrored} has SHA-256 {found}, not the pinned {file.sha256}: the mirror has changed; "
                "update tests/support/reference_data.py (and what the tests expect) on purpose"
            )
        return mirrored
    tried.append(f"no mirror file {mirrored}")

    cached = cache / file.sha256 / name
    if cached.is_file() and _sha256(cached.read_bytes()) == file.sha256:
        return cached
    tried.append(f"not cached in {cache}")

    url = file.url(base_url)
    if url is None:
        tried.append("it is derived from several sources, so only a mirror can hold it")
    elif offline:
        tried.append("downloads are off (MATERIALIZE_REFERENCE_OFFLINE)")
    else:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as error:
            tried.append(f"download of {url} failed ({error})")
        else:
            if _sha256(data) == file.sha256:
                return _store(cached, data)
            tried.append(f"download of {url} has SHA-256 {_sha256(data)}, not the pinned {file.sha256}")
    raise ReferenceUnavailable(f"reference file {name} is not available: " + "; ".join(tried))


def _store(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so a concurrent run never reads half a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, path)
    return path


def reference_path(name: str) -> Path:
    """For tests: the file, or the test is skipped saying why it is unavailable."""
    try:
        return locate(name)
    except ReferenceUnavailable as error:
        pytest.skip(str(error))


def reference_text(name: str) -> str:
    return reference_path(name).read_text()
