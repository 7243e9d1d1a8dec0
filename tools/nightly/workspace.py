"""Where the nightly's stacks live: the state backend, the secrets passphrase and the project directory.

The backend is PULUMI_BACKEND_URL when set (CI: a cloud bucket), else a
file backend under .pulumi-state/nightly in the checkout. Secrets use the
passphrase provider: PULUMI_CONFIG_PASSPHRASE when set, else (for the
default file backend only) a passphrase generated once and kept beside the
state, so later runs and the sweep can still decrypt it.

Stacks are created in a project directory of their own (a temporary copy of
Pulumi.yaml whose program files link to the checkout), so a night's stack
configuration files never appear among the example stacks in stacks/, where
the offline plan and the tests would pick them up.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.stack_files import ROOT

BACKEND_ENV = "PULUMI_BACKEND_URL"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
# What the CLI needs of the checkout to run the program.
PROGRAM_ENTRIES = ("__main__.py", "components")


def default_state_dir(root: Path = ROOT) -> Path:
    return root / ".pulumi-state" / "nightly"


@dataclass(frozen=True)
class Backend:
    url: str
    passphrase: str = field(repr=False)

    def env_vars(self) -> dict[str, str]:
        return {
            BACKEND_ENV: self.url,
            PASSPHRASE_ENV: self.passphrase,
            # A night has no use for the CLI looking for a newer version of itself.
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }


def resolve_backend(url: str | None, environ: Mapping[str, str], root: Path | None = None) -> Backend:
    """The backend to use: the given URL, else PULUMI_BACKEND_URL, else the local file backend under `root`."""
    url = url or environ.get(BACKEND_ENV) or None
    passphrase = environ.get(PASSPHRASE_ENV)
    if url is None:
        state = default_state_dir(root or ROOT)
        state.mkdir(parents=True, exist_ok=True)
        if passphrase is None:
            passphrase = _local_passphrase(state)
        return Backend(url=state.as_uri(), passphrase=passphrase)
    if passphrase is None:
        raise ValueError(f"{PASSPHRASE_ENV} must be set for {url}: it encrypts the stacks' secrets")
    return Backend(url=url, passphrase=passphrase)


def _local_passphrase(state: Path) -> str:
    path = state / ".passphrase"
    if not path.exists():
        # Created readable by the owner only, before the secret is written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def prepare_project_dir(destination: Path, root: Path = ROOT) -> Path:
    """A project directory running the checkout's program, with stack config files kept inside it."""
    project: dict[str, Any] = yaml.safe_load((root / "Pulumi.yaml").read_text())
    # Stack files go next to this Pulumi.yaml instead of into the checkout's stacks/.
    project.pop("stackConfigDir", None)
    options = (project.get("runtime") or {}).get("options")
    if isinstance(options, dict) and options.get("virtualenv"):
        # Relative to the checkout, not to this directory.
        options["virtualenv"] = str((root / options["virtualenv"]).resolve())
    destination.mkdir(parents=True, exist_ok=True)
    (destination / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    for entry in PROGRAM_ENTRIES:
        link = destination / entry
        if not link.exists():
            link.symlink_to(root / entry)
    return destination


@contextmanager
def project_dir(root: Path = ROOT) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="nightly-project-") as directory:
        yield prepare_project_dir(Path(directory), root)


def workspace_options(backend: Backend) -> Any:
    from pulumi.automation import LocalWorkspaceOptions

    return LocalWorkspaceOptions(env_vars=backend.env_vars(), secrets_provider="passphrase")


def open_stack(name: str, work_dir: Path, backend: Backend) -> Any:
    """The named stack on the backend, created when it does not exist yet."""
    from pulumi import automation

    return automation.create_or_select_stack(stack_name=name, work_dir=str(work_dir), opts=workspace_options(backend))


def select_stack(name: str, work_dir: Path, backend: Backend) -> Any:
    from pulumi import automation

    return automation.select_stack(stack_name=name, work_dir=str(work_dir), opts=workspace_options(backend))


def local_workspace(work_dir: Path, backend: Backend) -> Any:
    from pulumi.automation import LocalWorkspace

    return LocalWorkspace(work_dir=str(work_dir), env_vars=backend.env_vars(), secrets_provider="passphrase")
