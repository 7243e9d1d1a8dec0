"""Azure: a VNet with NAT egress, AKS with workload identity and swap nodes,
a private Postgres Flexible Server and Premium Blob storage."""

from components.targets.azure.target import AzureTarget

__all__ = ["AzureTarget"]
