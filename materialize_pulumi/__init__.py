"""Materialize as Pulumi components: what a Python program imports.

    from materialize_pulumi import checked_install   # Install, after the upgrade guard

The components live in `components/` (the stack program of this repository
uses the same ones); this name is the stable import for customers' programs.
"""

from components.install import Install, InstallArgs, InstanceEndpoints, checked_install

__all__ = ["Install", "InstallArgs", "InstanceEndpoints", "checked_install"]
