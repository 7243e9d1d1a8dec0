"""Everything the aws target installs by version, pinned exactly.

Disk setup: the image Materialize's own Terraform modules run as the
Bottlerocket bootstrap container of their swap node groups (multi-arch); the
same pin as the gcp and azure targets' disk-setup DaemonSet (disk_setup.py).

Database setup: the official Postgres image; its psql talks to every RDS
major this target offers (15-18), and the local target runs the same tag.

AWS Load Balancer Controller: chart 1.11.0 is controller v2.11.0, the release
whose published IAM policy load_balancer_policy.py reproduces (and the one
Materialize's Terraform installs); a newer chart needs that policy updated too.

metrics-server: chart 3.13.0 is metrics-server v0.8.0.
"""

from __future__ import annotations

from components.targets.disk_setup import DISK_SETUP_IMAGE as DISK_SETUP_IMAGE

POSTGRES_CLIENT_IMAGE = "docker.io/library/postgres:18.4-trixie"

LOAD_BALANCER_CONTROLLER_CHART = "aws-load-balancer-controller"
LOAD_BALANCER_CONTROLLER_REPO = "https://aws.github.io/eks-charts"
LOAD_BALANCER_CONTROLLER_VERSION = "1.11.0"

METRICS_SERVER_CHART = "metrics-server"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_VERSION = "3.13.0"
