"""Container images the local target runs, pinned by exact tag.

Postgres: the official image's newest release line. Since 18 the image keeps
its data in a major-version subdirectory of the volume mounted at
/var/lib/postgresql, which is where the volume goes (see postgres.py).

Object store: SeaweedFS. MinIO stopped publishing community container images
in October 2025 and its repository has since been archived, so no maintained
MinIO image exists to pin. SeaweedFS is Apache-2.0, released continuously,
its maintainer publishes the official image, and its single-process `mini`
mode needs nothing at start but an S3 identity file. Materialize's own test
suite runs persist against this very release (mzcompose's seaweedfs service).
The alternatives it also tests fit less well here: Garage is AGPL and runs
there from an image Materialize builds itself; RustFS is young, and
Materialize notes it answers part-numbered reads incompletely.

Bucket creation: the AWS CLI's official image, so the bucket is made through
the same S3 API, with the same credentials, that Materialize will use.
"""

from __future__ import annotations

POSTGRES_IMAGE = "docker.io/library/postgres:18.4-trixie"
SEAWEEDFS_IMAGE = "docker.io/chrislusf/seaweedfs:4.47"
AWS_CLI_IMAGE = "docker.io/amazon/aws-cli:2.31.19"
