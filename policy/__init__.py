"""The policy pack (pulumi-policy, Python) that enforces the targets' security defaults.

Run it with `pulumi up --policy-pack policy` (see docs/policy.md), or from
the Automation API with `policy_packs=[str(PACK_DIR)]`. Importing this
package needs nothing beyond the standard library: the rules themselves are
in `policy.materialize_policies`.
"""

from __future__ import annotations

from pathlib import Path

# The pack's directory (the one holding PulumiPolicy.yaml), as the CLI's --policy-pack wants it.
PACK_DIR = Path(__file__).resolve().parent

__all__ = ["PACK_DIR"]
