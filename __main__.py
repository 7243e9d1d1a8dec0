"""Entry point of the Pulumi program; the work happens in components/program.py."""

import pulumi

from components.program import main

pulumi.run(main)
