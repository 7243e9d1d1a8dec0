"""The persist bucket, created through the S3 API before any instance starts.

Every instance writes under its own prefix of this one bucket (see
target.py), so instances added later need nothing new here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.targets.container_env import plain_env, secret_env
from components.targets.local.images import AWS_CLI_IMAGE
from components.targets.local.object_store import ACCESS_KEY_ID, SECRET_ACCESS_KEY, ObjectStore
from components.targets.local.objects import Home
from components.targets.local.setup_job import SetupJobArgs, setup_job

APP = "persist-bucket"

# head-bucket first: a rerun, or a retry after the create went through but its
# answer was lost, must succeed without creating anything.
_SCRIPT = (
    'aws s3api head-bucket --endpoint-url "$S3_ENDPOINT" --bucket "$BUCKET" '
    '|| aws s3api create-bucket --endpoint-url "$S3_ENDPOINT" --bucket "$BUCKET"'
)


@dataclass(frozen=True)
class BucketArgs:
    home: Home
    store: ObjectStore
    bucket: str
    # The signing region clients use; see target.py.
    region: str


class Bucket(pulumi.ComponentResource):
    job: k8s.batch.v1.Job

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:local:Bucket", name, None, opts)
        store = args.store
        self.job = setup_job(
            f"{name}-job",
            self,
            SetupJobArgs(
                home=args.home,
                job_name=f"bucket-{args.bucket}",
                app=APP,
                image=AWS_CLI_IMAGE,
                script=_SCRIPT,
                env=[
                    plain_env("S3_ENDPOINT", store.endpoint),
                    plain_env("BUCKET", args.bucket),
                    plain_env("AWS_REGION", args.region),
                    secret_env("AWS_ACCESS_KEY_ID", store.credentials_secret, ACCESS_KEY_ID),
                    secret_env("AWS_SECRET_ACCESS_KEY", store.credentials_secret, SECRET_ACCESS_KEY),
                    # Keys come from the Secret alone: no instance-metadata lookups, no pager.
                    plain_env("AWS_EC2_METADATA_DISABLED", "true"),
                    plain_env("AWS_PAGER", ""),
                ],
                after=[store.stateful_set],
            ),
        )
        self.register_outputs({"bucket": args.bucket, "job": self.job.metadata["name"]})
