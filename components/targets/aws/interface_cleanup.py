"""Destroy-time cleanup of the network interfaces the VPC CNI leaves behind.

When a node goes, the VPC CNI's secondary interfaces normally go with it,
but some are left "available" (detached, still in the subnet, still carrying
the node security group), and while they exist neither that security group
nor the subnets can be deleted: `pulumi destroy` stalls until it times out.
Materialize's Terraform deletes them in a destroy-time step ordered after
the node groups (materialize-terraform-self-managed@187f61a,
aws/modules/eks-node-group/scripts/eni-cleanup.sh); this is the same step as
a pulumi-command `local.Command` with only a `delete` command: the node
groups depend on it (so it runs after they are gone) and it depends on the
security group and subnets (so it runs before they go).

It runs the `aws` CLI, which the kubeconfig needs anyway, on the machine that
runs `pulumi destroy`, with that shell's AWS credentials. It touches only
interfaces that are "available" and carry the node security group, which
this stack made for its own nodes: nothing attached, nothing of anyone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.targets.aws.context import AwsContext

# POSIX sh, run by /bin/sh (the interpreter given below, also on Windows hosts with one).
DELETE_SCRIPT = """\
set -eu
interfaces=$(aws ec2 describe-network-interfaces --region "$REGION" \\
  --filters "Name=group-id,Values=$SECURITY_GROUP_ID" "Name=status,Values=available" \\
  --query "NetworkInterfaces[].NetworkInterfaceId" --output text)
for interface in $interfaces; do
  [ "$interface" = None ] && continue
  echo "deleting leftover network interface $interface"
  if ! output=$(aws ec2 delete-network-interface --region "$REGION" --network-interface-id "$interface" 2>&1); then
    case "$output" in
      # Gone since the listing (the CNI or EC2 got there first): nothing left to do.
      *InvalidNetworkInterfaceID.NotFound*) ;;
      *) echo "$output" >&2; exit 1 ;;
    esac
  fi
done
"""


@dataclass(frozen=True)
class InterfaceCleanupArgs:
    context: AwsContext
    security_group_id: pulumi.Input[str]
    # Deleted only after this cleanup ran.
    subnets_and_groups: Sequence[pulumi.Resource]


class InterfaceCleanup(pulumi.ComponentResource):
    """Node groups must depend on `command` so it runs after they are deleted."""

    command: command.local.Command

    def __init__(self, name: str, args: InterfaceCleanupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:InterfaceCleanup", name, None, opts)
        self.command = command.local.Command(
            f"{name}-delete-leftovers",
            delete=DELETE_SCRIPT,
            interpreter=["/bin/sh", "-c"],
            environment={"REGION": args.context.region, "SECURITY_GROUP_ID": args.security_group_id},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.subnets_and_groups)),
        )
        self.register_outputs({})
