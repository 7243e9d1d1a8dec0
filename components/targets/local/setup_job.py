"""A Job that brings a store to a wanted state once, and is safe to run again.

pulumi-kubernetes waits for a Job to report Complete (and fails the update on
Failed), so whatever lists the Job in `depends_on` starts only after it
succeeded; no `pulumi.com/waitFor` annotation is needed, and one would replace
that built-in check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.targets.local.objects import NO_ESCALATION, Home, labels

# With the controller's back-off (10 s doubling) six retries span about ten
# minutes: enough for a store that is still settling after its first start.
BACKOFF_LIMIT = 6
# A Job that failed in an earlier update is replaced, that is run afresh,
# rather than awaited again.
_ANNOTATIONS = {"pulumi.com/replaceUnready": "true"}


@dataclass(frozen=True)
class SetupJobArgs:
    home: Home
    job_name: str
    app: str
    image: str
    script: str
    env: list[dict[str, Any]]
    # What must be up first (the store's StatefulSet, the Secrets it reads).
    after: list[pulumi.Resource]
    # Resources whose replacement must run the Job again (credentials it writes).
    rerun_with: list[pulumi.Resource] = field(default_factory=list)


def setup_job(name: str, parent: pulumi.Resource, args: SetupJobArgs) -> k8s.batch.v1.Job:
    home = args.home
    return k8s.batch.v1.Job(
        name,
        metadata={
            "name": args.job_name,
            "namespace": home.namespace_name,
            "labels": labels(args.app),
            "annotations": _ANNOTATIONS,
        },
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=BACKOFF_LIMIT,
            # No ttlSecondsAfterFinished: a Job the cluster deleted by itself
            # would be missing on the next refresh and run again for nothing.
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels(args.app)),
                spec=home.pod_spec(
                    {
                        # Never, not OnFailure: every failed attempt keeps its pod and log.
                        "restart_policy": "Never",
                        # It talks to Postgres or the object store, never to the Kubernetes API.
                        "automount_service_account_token": False,
                        "containers": [
                            {
                                "name": args.app,
                                "image": args.image,
                                "command": ["sh", "-ec", args.script],
                                "env": args.env,
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"cpu": "500m", "memory": "256Mi"},
                                },
                                "security_context": NO_ESCALATION,
                            }
                        ],
                    }
                ),
            ),
        ),
        # The Job keeps a fixed name, so the old one must go before its
        # replacement can be created.
        opts=home.options(
            parent, depends_on=args.after, delete_before_replace=True, replace_with=args.rerun_with or None
        ),
    )
