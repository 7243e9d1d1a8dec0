"""Azure resource names, and the built-in ids this target refers to.

Names are spelled out rather than left to auto-naming so an operator can find
every resource by the stack's prefix. Names Azure needs globally unique (the
storage account and the Postgres server, both DNS names) get a suffix hashed
from the subscription and resource group, as ARM templates' `uniqueString`
does: stable for the life of the stack, different in every deployment place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Built-in role definitions (the same GUIDs in every tenant).
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"

# The Entra ID application every AKS API server accepts tokens for.
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# The audience Entra ID expects in a Kubernetes service-account token it exchanges.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def role_definition_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def unique_suffix(subscription_id: str, resource_group: str, prefix: str) -> str:
    return hashlib.sha256(f"{subscription_id}/{resource_group}/{prefix}".lower().encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Names:
    prefix: str

    @property
    def resource_group(self) -> str:
        return f"{self.prefix}-rg"

    def of(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    @property
    def postgres_dns_zone(self) -> str:
        # Flexible Server only accepts a private zone under its own domain.
        return f"{self.prefix}.private.postgres.database.azure.com"

    def storage_account(self, suffix: str) -> str:
        # 3-24 lower-case letters and digits, unique in all of Azure.
        return (self.prefix.replace("-", "")[:16] + suffix)[:24]

    def postgres_server(self, suffix: str) -> str:
        # 3-63 characters, unique in all of Azure (it is a DNS name).
        return f"{self.prefix}-pg-{suffix}"


def instance_container(instance: str) -> str:
    """Instance names are DNS labels of at most 40 characters, so this is a valid container name."""
    return f"mz-{instance}"
