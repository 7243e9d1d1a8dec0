"""The pack's entry point, run by the Pulumi CLI with this directory first on sys.path.

It only assembles the rules; they live in materialize_policies/.
"""

from materialize_policies import PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Each rule sets its own level; this is the level of any rule that does not.
    enforcement_level=EnforcementLevel.MANDATORY,
)
