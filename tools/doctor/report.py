"""Check results and the one-line-per-check report the doctor prints."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import quote, quote_plus

# Exit codes, documented in --help and docs/doctor.md.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

MASK = "****"
# Shorter strings are not masked: masking every "ab" would garble the report,
# and no real password or key is that short.
_MIN_SECRET_LENGTH = 4


class Status(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    status: Status
    subject: str
    message: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.subject}: {self.message}"
        return f"{text} -> fix: {self.fix}" if self.fix else text


class Report:
    """Prints checks as they complete and remembers whether any failed.

    Every line goes through a mask of known secret values (and their
    URL-encoded forms), so a library error message that quotes a secret
    cannot leak it.
    """

    def __init__(self, out: TextIO | None = None, secrets: Iterable[str] = ()) -> None:
        self._out = out or sys.stdout
        self._secrets: set[str] = set()
        self.checks: list[Check] = []
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if len(secret) >= _MIN_SECRET_LENGTH:
                self._secrets.update({secret, quote(secret, safe=""), quote_plus(secret, safe="")})

    def add(self, check: Check) -> None:
        self.checks.append(check)
        print(self.mask(check.line()), file=self._out, flush=True)

    def extend(self, checks: Iterable[Check]) -> None:
        for check in checks:
            self.add(check)

    def mask(self, text: str) -> str:
        # Longest first, so a secret containing another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    @property
    def failed(self) -> bool:
        return any(check.status is Status.FAIL for check in self.checks)

    def summary(self) -> str:
        counts = {status: 0 for status in Status}
        for check in self.checks:
            counts[check.status] += 1
        parts = ", ".join(f"{counts[status]} {status.value}" for status in Status)
        verdict = "problems found" if self.failed else "ready"
        return f"doctor: {verdict} ({parts})"

    def print_summary(self) -> None:
        print(self.mask(self.summary()), file=self._out, flush=True)

    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed else EXIT_OK
