"""What every GCP component of one stack shares: where, how it is named, labelled and protected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

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
    # What every resource waits for (the project's APIs being on).
    ready: Sequence[pulumi.Resource] = field(default=())

    def options(self, parent: pulumi.Resource, extra: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """Options for a GCP resource: the explicit provider, under `parent`, plus `extra`."""
        own = pulumi.ResourceOptions(parent=parent, provider=self.provider, depends_on=list(self.ready) or None)
        return pulumi.ResourceOptions.merge(own, extra) if extra is not None else own

    def after(self, ready: Sequence[pulumi.Resource]) -> GcpContext:
        """The same context, with every resource also waiting for `ready`."""
        return replace(self, ready=(*self.ready, *ready))

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"
