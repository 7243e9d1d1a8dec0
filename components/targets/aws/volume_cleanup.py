"""Destroy-time cleanup of the monitoring volumes a destroyed cluster leaves behind.

Prometheus claims its volume through a StatefulSet's claim template, and a
StatefulSet's claims outlive it: uninstalling the monitoring release leaves
the claim, and deleting the cluster then deletes the claim's objects but not
the EBS volume behind them. It stays "available" and billed.

The `gp3` class (block_storage.py) tags every volume with the cluster's name
and its claim's namespace, and this step deletes, after the node groups are
gone (so nothing is attached any more), exactly the volumes carrying this
cluster's name and the monitoring namespace: monitoring data, rebuilt by
scraping. Volumes any other namespace claimed (a user's own workload on the
default class) are never touched: they are left as the cluster leaves them.

Like the interface cleanup (interface_cleanup.py) it is a pulumi-command
`local.Command` with only a `delete` command, running the `aws` CLI on the
machine that runs `pulumi destroy`, with that shell's credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.targets.aws.context import AwsContext

# The tags the `gp3` class puts on every volume it provisions.
CLUSTER_TAG = "materialize.cloud/cluster"
NAMESPACE_TAG = "materialize.cloud/claim-namespace"

# POSIX sh, run by /bin/sh. `aws ec2 wait volume-available` polls every 15 s,
# 40 times, and fails at once on a volume in state "deleted" (botocore 1.44's
# data/ec2/2016-11-15/waiters-2.json, VolumeAvailable; the CLI runs botocore's
# waiters): a volume still detaching from a node that just terminated gets ten
# minutes to come free.
DELETE_SCRIPT = """\
set -eu
gone() {
  case "$1" in
    # Gone since the listing (the CSI driver got there first): nothing left to do.
    *InvalidVolume.NotFound* | *'"deleted"'*) return 0 ;;
    *) echo "$1" >&2; exit 1 ;;
  esac
}
volumes=$(aws ec2 describe-volumes --region "$REGION" \\
  --filters "Name=tag:$CLUSTER_TAG,Values=$CLUSTER" "Name=tag:$NAMESPACE_TAG,Values=$NAMESPACE" \\
  --query "Volumes[].VolumeId" --output text)
for volume in $volumes; do
  [ "$volume" = None ] && continue
  if ! output=$(aws ec2 wait volume-available --region "$REGION" --volume-ids "$volume" 2>&1); then
    gone "$output"; continue
  fi
  echo "deleting leftover monitoring volume $volume"
  if ! output=$(aws ec2 delete-volume --region "$REGION" --volume-id "$volume" 2>&1); then
    gone "$output"
  fi
done
"""


@dataclass(frozen=True)
class VolumeCleanupArgs:
    context: AwsContext
    cluster_name: str
    # The namespace whose volumes are disposable: monitoring's.
    namespace: str


class VolumeCleanup(pulumi.ComponentResource):
    """Node groups must depend on `command` so it runs after they are deleted."""

    command: command.local.Command

    def __init__(self, name: str, args: VolumeCleanupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:aws:VolumeCleanup", name, None, opts)
        self.command = command.local.Command(
            f"{name}-delete-leftovers",
            delete=DELETE_SCRIPT,
            interpreter=["/bin/sh", "-c"],
            environment={
                "REGION": args.context.region,
                "CLUSTER_TAG": CLUSTER_TAG,
                "CLUSTER": args.cluster_name,
                "NAMESPACE_TAG": NAMESPACE_TAG,
                "NAMESPACE": args.namespace,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
