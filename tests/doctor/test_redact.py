"""Redaction: URLs and report lines never show secrets."""

from __future__ import annotations

import io

import pytest

from tools.doctor.redact import redact_url
from tools.doctor.report import Check, Report, Status


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://mz:Zq9pw@db:5432/mz?sslmode=require", "postgres://mz:****@db:5432/mz?sslmode=require"),
        ("postgres://mz:Zq9p@w@db/mz", "postgres://mz:****@db/mz"),
        ("postgres://mz:Zq9p/w@db/mz", "postgres://mz:****@db/mz"),
        ("postgres://mz@db/mz?password=Zq9pw&sslmode=require", "postgres://mz@db/mz?password=****&sslmode=require"),
        ("s3://AKIA:Zq9%2Fsecret@bkt/p?region=us-east-1", "s3://AKIA:****@bkt/p?region=us-east-1"),
        (
            "https://acct.blob.core.windows.net/ctr?sv=2022-11-02&sig=Zq9sig",
            "https://acct.blob.core.windows.net/ctr?sv=2022-11-02&sig=****",
        ),
        ("s3://AKIA:Zq9#frag@bkt/p", "s3://AKIA:****@bkt/p"),
        ("s3://bkt/p#Zq9", "s3://bkt/p#****"),
        ("s3://bkt/p", "s3://bkt/p"),
        ("Zq9 not a url", "(not a URL; not shown)"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redacted_urls_never_contain_the_marker() -> None:
    for url in ("postgres://u:Zq9@h/d", "s3://K:Zq9@b/p", "postgres://u@h/d?PASSWORD=Zq9", "s3://K:a#Zq9?b@c/d"):
        assert "Zq9" not in redact_url(url)


def test_report_masks_secrets_and_their_encodings() -> None:
    out = io.StringIO()
    report = Report(out, secrets=["p@ss/word Zq9"])
    report.add(Check(Status.FAIL, "postgres", "raw p@ss/word Zq9, encoded p%40ss%2Fword%20Zq9, plus p%40ss%2Fword+Zq9"))
    assert "Zq9" not in out.getvalue()
    assert out.getvalue().count("****") == 3


def test_report_status_and_exit_code() -> None:
    out = io.StringIO()
    report = Report(out)
    report.add(Check(Status.OK, "a", "fine"))
    report.add(Check(Status.WARN, "b", "hmm", "do this"))
    assert report.exit_code() == 0
    report.add(Check(Status.SKIP, "c", "skipped"))
    report.add(Check(Status.FAIL, "d", "broken", "fix it"))
    assert report.exit_code() == 1
    lines = out.getvalue().splitlines()
    assert lines == [
        "ok    a: fine",
        "warn  b: hmm -> fix: do this",
        "skip  c: skipped",
        "FAIL  d: broken -> fix: fix it",
    ]
    assert report.summary() == "doctor: problems found (1 ok, 1 warn, 1 FAIL, 1 skip)"


def test_short_strings_are_not_masked() -> None:
    out = io.StringIO()
    Report(out, secrets=["ab"]).add(Check(Status.OK, "x", "about abc"))
    assert out.getvalue() == "ok    x: about abc\n"
