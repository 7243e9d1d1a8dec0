"""Everything the aws target installs by version, pinned exactly.

Disk setup: the image Materialize's own Terraform modules run as the
Bottlerocket bootstrap container of their swap node groups (multi-arch); the
same pin as the gcp and azure targets' disk-setup DaemonSet (disk_setup.py).

Database setup: the official Postgres image; its psql talks to every RDS
major this target offers (15-18), and the local target runs the same tag.

AWS Load Balancer Controller: chart 3.5.0 (aws/eks-charts commit
5239609242f3430be50fb0b714a24d3ef2b47983) is controller v3.5.0, its
values.yaml's default image tag; load_balancer_policy.py reproduces the IAM
policy that release publishes. A newer chart needs that policy, the pinned
values.yaml in tests/support/chart_values.py and the app version below moved
with it (the tests fail until they are). Materialize's Terraform installs chart
1.17.1 (materialize-terraform-self-managed 187f61a, aws/modules/aws-lbc);
v3.x serves the same Service annotations, and the Gateway API controllers it
adds turn themselves off where their CRDs are absent (main.go at v3.5.0,
crddetect.ApplyGatewayCRDDetection).

metrics-server: chart 3.13.0 is metrics-server v0.8.0.
"""

from __future__ import annotations

from components.targets.disk_setup import DISK_SETUP_IMAGE as DISK_SETUP_IMAGE

POSTGRES_CLIENT_IMAGE = "docker.io/library/postgres:18.4-trixie"

LOAD_BALANCER_CONTROLLER_CHART = "aws-load-balancer-controller"
LOAD_BALANCER_CONTROLLER_REPO = "https://aws.github.io/eks-charts"
LOAD_BALANCER_CONTROLLER_VERSION = "3.5.0"
# The controller image the chart runs by default (values.yaml image.tag), which the IAM policy belongs to.
LOAD_BALANCER_CONTROLLER_APP_VERSION = "v3.5.0"

METRICS_SERVER_CHART = "metrics-server"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_VERSION = "3.13.0"
