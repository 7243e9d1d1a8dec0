"""Reference data is found by pin: a mirror, the cache, or a verified download."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import reference_data
from tests.support.net import LOOPBACK
from tests.support.reference_data import FILES, ReferenceMismatch, ReferenceUnavailable, locate

NAME = "default-ports.yml"
PINNED = FILES[NAME]


class _Upstream:
    """A loopback stand-in for the raw-file host: serves `body` at the pinned path."""

    def __init__(self) -> None:
        self.body = b""
        self.requests: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.requests.append(self.path)
                if self.path != f"/{PINNED.commit}/{PINNED.path}":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(upstream.body)))
                self.end_headers()
                self.wfile.write(upstream.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.base_url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def pin(monkeypatch: pytest.MonkeyPatch) -> bytes:
    data = b"columns: []\nrows: []\n"
    patched = reference_data.ReferenceFile(NAME, hashlib.sha256(data).hexdigest(), PINNED.path, PINNED.commit)
    monkeypatch.setitem(FILES, NAME, patched)
    return data


def test_a_mirror_with_the_pinned_bytes_is_used(tmp_path: Path, pin: bytes) -> None:
    (tmp_path / NAME).write_bytes(pin)
    assert locate(NAME, mirror=tmp_path, cache=tmp_path / "cache", offline=True) == tmp_path / NAME


def test_a_mirror_that_changed_fails_instead_of_being_believed(tmp_path: Path, pin: bytes) -> None:
    (tmp_path / NAME).write_bytes(pin + b"# edited\n")
    with pytest.raises(ReferenceMismatch, match=r"update tests/support/reference_data\.py"):
        locate(NAME, mirror=tmp_path, cache=tmp_path / "cache", offline=True)


def test_a_verified_download_is_cached_and_then_used_offline(tmp_path: Path, pin: bytes, upstream: _Upstream) -> None:
    upstream.body = pin
    cache = tmp_path / "cache"
    found = locate(NAME, mirror=tmp_path / "none", cache=cache, base_url=upstream.base_url, offline=False)
    assert found.read_bytes() == pin and found.is_relative_to(cache)
    assert upstream.requests == [f"/{PINNED.commit}/{PINNED.path}"]
    again = locate(NAME, mirror=tmp_path / "none", cache=cache, base_url=upstream.base_url, offline=True)
    assert again == found and len(upstream.requests) == 1


def test_a_download_with_other_bytes_is_refused_and_not_cached(tmp_path: Path, pin: bytes, upstream: _Upstream) -> None:
    upstream.body = b"tampered\n"
    cache = tmp_path / "cache"
    with pytest.raises(ReferenceUnavailable, match="not the pinned"):
        locate(NAME, mirror=tmp_path / "none", cache=cache, base_url=upstream.base_url, offline=False)
    assert not any(cache.rglob(NAME))


def test_offline_without_mirror_or_cache_says_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(ReferenceUnavailable) as raised:
        locate(NAME, mirror=tmp_path / "none", cache=tmp_path / "cache", offline=True)
    assert "no mirror file" in str(raised.value) and "downloads are off" in str(raised.value)


def test_a_derived_file_can_only_come_from_a_mirror(tmp_path: Path) -> None:
    name = "operator-chart-networkpolicy.v26.37-era.yaml"
    with pytest.raises(ReferenceUnavailable, match="only a mirror"):
        locate(name, mirror=tmp_path / "none", cache=tmp_path / "cache", offline=False)


def test_reference_path_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATERIALIZE_REFERENCE_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("MATERIALIZE_REFERENCE_OFFLINE", "1")
    with pytest.raises(pytest.skip.Exception, match=r"default-ports\.yml is not available"):
        reference_data.reference_path(NAME)


def test_every_pin_names_a_full_commit_and_hash() -> None:
    for file in FILES.values():
        assert len(file.sha256) == 64
        assert (file.path is None) == (file.commit is None)
        assert file.commit is None or len(file.commit) == 40
