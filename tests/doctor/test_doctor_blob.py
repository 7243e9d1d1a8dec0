"""Blob-store checks against a real S3-compatible server (moto)."""

from __future__ import annotations

import pytest

from components.persist_url import s3_persist_url
from tests.support.net import free_port
from tests.support.s3_server import S3Server
from tools.doctor.blob import check_blob
from tools.doctor.report import Check, Status


def run(url: str, timeout: float = 5) -> list[Check]:
    return list(check_blob(url, "blob[main]", timeout))


def test_healthy_round_trip_leaves_nothing_behind(s3_server: S3Server, s3_bucket: str) -> None:
    checks = run(s3_server.persist_url(s3_bucket))
    assert [check.status for check in checks] == [Status.OK, Status.OK], [c.line() for c in checks]
    assert "path-style" in checks[0].message
    assert "write, read, list and delete under s3://" in checks[1].message
    assert s3_server.object_keys(s3_bucket) == []
    assert s3_server.secret_access_key not in "\n".join(check.line() for check in checks)


def test_missing_bucket(s3_server: S3Server) -> None:
    checks = run(s3_server.persist_url("no-such-bucket"))
    assert checks[-1].status is Status.FAIL
    assert "bucket 'no-such-bucket' does not exist" in checks[-1].message


def test_unknown_key_id(s3_server: S3Server, s3_bucket: str) -> None:
    url = s3_persist_url(s3_bucket, "p", s3_server.region, s3_server.endpoint, "AKIANOTAKEY", "whatever")
    checks = run(url)
    assert checks[-1].status is Status.FAIL
    assert "credentials were rejected (InvalidAccessKeyId)" in checks[-1].message


def test_wrong_secret(s3_server: S3Server, s3_bucket: str) -> None:
    url = s3_persist_url(s3_bucket, "p", s3_server.region, s3_server.endpoint, s3_server.access_key_id, "wrong/+=")
    checks = run(url)
    assert checks[-1].status is Status.FAIL
    assert "credentials were rejected (SignatureDoesNotMatch)" in checks[-1].message


def test_no_write_permission(s3_server: S3Server, s3_bucket: str) -> None:
    checks = run(s3_server.persist_url(s3_bucket, user="readonly"))
    assert checks[-1].status is Status.FAIL
    assert "access denied: cannot write" in checks[-1].message
    assert "s3:PutObject" in (checks[-1].fix or "")


def test_cleans_up_when_a_later_step_fails(s3_server: S3Server, s3_bucket: str) -> None:
    # This user may write, read and delete, but not list: the list step fails
    # after the object exists, and the doctor must still remove it.
    checks = run(s3_server.persist_url(s3_bucket, user="nolist"))
    assert checks[-1].status is Status.FAIL
    assert "access denied: cannot list" in checks[-1].message
    assert s3_server.object_keys(s3_bucket) == []


def test_unreachable_endpoint(s3_bucket: str, s3_server: S3Server) -> None:
    url = s3_persist_url(s3_bucket, "p", "us-east-1", f"http://127.0.0.1:{free_port()}", "AK", "SK")
    checks = run(url, timeout=2)
    assert checks[-1].status is Status.FAIL
    assert "cannot reach http://127.0.0.1:" in checks[-1].message


def test_unknown_parameter_fails_before_any_request(s3_server: S3Server, s3_bucket: str) -> None:
    checks = run(s3_server.persist_url(s3_bucket) + "&sse=aws:kms")
    assert [check.status for check in checks] == [Status.FAIL]
    assert "sse" in checks[0].message and "endpoint, region, role_arn" in checks[0].message
    assert s3_server.secret_access_key not in checks[0].line()


def test_objects_go_where_materialize_puts_them(s3_server: S3Server, s3_bucket: str) -> None:
    # A user that may not delete leaves the test object behind, which shows
    # its key and that the doctor says so instead of failing silently.
    checks = run(s3_server.persist_url(s3_bucket, user="nodelete", prefix="mz/objects"))
    assert checks[-2].status is Status.FAIL
    assert "access denied: cannot delete" in checks[-2].message
    assert checks[-1].status is Status.WARN
    assert "could not remove the test object" in checks[-1].message
    (key,) = s3_server.object_keys(s3_bucket)
    assert key.startswith("mz/objects/mz-doctor-")
    assert key in checks[-1].message


@pytest.mark.parametrize(
    ("prefix", "warning"),
    [("", "no prefix"), ("mz/main/", "ends with '/'")],
)
def test_suspicious_prefixes_warn(s3_server: S3Server, s3_bucket: str, prefix: str, warning: str) -> None:
    checks = run(s3_server.persist_url(s3_bucket, prefix=prefix))
    assert any(check.status is Status.WARN and warning in check.message for check in checks)
    assert checks[-1].status is Status.OK
    assert s3_server.object_keys(s3_bucket) == []


def test_azure_is_validated_but_not_round_tripped() -> None:
    checks = run("https://mzstorage01.blob.core.windows.net/materialize-main")
    assert [check.status for check in checks] == [Status.OK, Status.WARN]
    assert "not implemented for Azure" in checks[1].message
