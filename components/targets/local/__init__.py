"""A local cluster (kind, minikube, k3d) with Postgres and S3 running inside it."""

from components.targets.local.target import LocalTarget

__all__ = ["LocalTarget"]
