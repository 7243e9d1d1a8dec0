"""How every Helm release this project installs behaves, whoever installs it.

All or nothing: a failed install or upgrade is rolled back, and what it had
created is removed, instead of leaving a half-applied chart behind. Ten
minutes covers image pulls on freshly started nodes; ten revisions bound the
release history Helm keeps in Secrets.
"""

from __future__ import annotations

from typing import Any, Final

RELEASE_POLICY: Final[dict[str, Any]] = {"atomic": True, "cleanup_on_fail": True, "timeout": 600, "max_history": 10}
