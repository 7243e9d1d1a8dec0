"""What every GCP component of one stack shares: where, how it is named, labelled and protected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class GcpContext:
    # Explicit, so no resource follows whatever project `gcloud` points at.
    provider: gcp.Provider
    project: str
    region: str
    # Every resource name starts with it, so stacks in one project stay apart.
    prefix: str
    labels: Mapping[str, str]
    # settings.protectData: Pulumi protect plus Google's own deletion protection.
    protect: bool

    def options(self, parent: pulumi.Resource, extra: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """Options for a GCP resource: the explicit provider, under `parent`, plus `extra`."""
        own = pulumi.ResourceOptions(parent=parent, provider=self.provider)
        return pulumi.ResourceOptions.merge(own, extra) if extra is not None else own

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"
