"""Bring your own: an existing cluster, Postgres and S3-compatible store."""

from components.targets.byo.target import ByoTarget

__all__ = ["ByoTarget"]
