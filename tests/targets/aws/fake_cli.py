"""Running a destroy-time script (a `local.Command`'s delete) against a fake `aws` on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def run_with_fake_aws(bin_dir: Path, script: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`script` under /bin/sh, as the command provider runs it, with `bin_dir` (holding the fake) first on PATH."""
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", **environment},
        capture_output=True,
        text=True,
    )
