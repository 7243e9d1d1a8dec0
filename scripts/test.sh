#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: creates ./venv, installs the
# pinned dependencies, then lints, type-checks and tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x venv/bin/python ] || python3 -m venv venv
venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
venv/bin/ruff check .
venv/bin/ruff format --check .
# Types (pyproject.toml [tool.basedpyright]: components/, tools/, policy/), zero errors.
venv/bin/basedpyright
venv/bin/pytest "$@"
