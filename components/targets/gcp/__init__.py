"""GCP: a VPC with Cloud NAT, GKE with swap-ready Materialize nodes, private Cloud SQL and GCS."""

from components.targets.gcp.target import GcpTarget

__all__ = ["GcpTarget"]
