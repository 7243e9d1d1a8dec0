"""The Google APIs this stack calls, enabled by the program itself.

A new project has most of them off, and the first `up` would otherwise fail
half-way with "API ... has not been used in project ... before or it is
disabled". They stay on when the stack is destroyed: other things in the
project may use them, and turning off Compute Engine deletes every VM.
The list is Materialize's (scripts/enable-gcp-apis.sh in
MaterializeInc/materialize-terraform-self-managed); Service Usage itself
must already be on, as in every project created from the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.targets.gcp.context import GcpContext

_ALWAYS = (
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
)
# GKE's upgrade notifications, for the operator's node upgrade trigger.
PUBSUB = "pubsub.googleapis.com"


def required_apis(pubsub: bool) -> tuple[str, ...]:
    return tuple(sorted((*_ALWAYS, PUBSUB) if pubsub else _ALWAYS))


@dataclass(frozen=True)
class ApisArgs:
    context: GcpContext
    pubsub: bool


class GcpApis(pulumi.ComponentResource):
    enabled: Sequence[gcp.projects.Service]

    def __init__(self, name: str, args: ApisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:gcp:Apis", name, None, opts)
        ctx = args.context
        self.enabled = [
            gcp.projects.Service(
                f"{name}-{api.split('.', 1)[0]}",
                project=ctx.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=ctx.options(self),
            )
            for api in required_apis(args.pubsub)
        ]
        self.register_outputs({"apis": [service.service for service in self.enabled]})
