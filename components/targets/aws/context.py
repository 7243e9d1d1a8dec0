"""Where the aws target's cloud resources go: one explicit provider, one account, one set of tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    # Explicit, so the region is the stack's and never an ambient aws:region.
    provider: aws.Provider
    region: str
    account_id: str
    # "aws", "aws-cn" or "aws-us-gov": ARNs of managed policies depend on it.
    partition: str
    tags: Mapping[str, str]

    def tagged(self, name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The stack's tags plus a Name (shown in the console) and any resource-specific tags."""
        return {**self.tags, **(extra or {}), "Name": name}

    def options(
        self,
        parent: pulumi.Resource,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        protect: bool = False,
        ignore_changes: list[str] | None = None,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=parent,
            provider=self.provider,
            depends_on=list(depends_on),
            protect=protect,
            ignore_changes=ignore_changes,
        )

    def managed_policy(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"
