"""AWS: a VPC, EKS with swap-ready Materialize nodes, RDS Postgres and S3."""

from components.targets.aws.target import AwsTarget

__all__ = ["AwsTarget"]
