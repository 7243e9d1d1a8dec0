"""What an Azure region offers that the defaults depend on: availability
zones, and zone-redundant Premium block blob storage.

The pinned azure-native SDK carries no list of regions or of their zones
(pulumi_azure_native 3.29.0 has location names only in a few unrelated
enums), and asking Azure would need a call before anything is planned, so
both lists are written down here from Microsoft's own tables. A region
missing from a list only loses a default: `azure.zones` and
`azure.storageReplication` set explicitly are sent as they are.

The defaults do not depend on whether a stack is a production one: the only
switch the program sees, `protectData`, is turned off before a teardown, and
a default that followed it would then replace the Materialize pool and
convert the persist account on the way out. Stacks that want neither set
`zones: []` and `storageReplication: LRS`.
"""

from __future__ import annotations

from typing import Literal

Zone = Literal["1", "2", "3"]
# Every zone-capable Azure region has three zones.
ALL_ZONES: tuple[Zone, ...] = ("1", "2", "3")

# Regions with availability zones, by programmatic name: the "All" table of
# MicrosoftDocs/reliability-docs articles/reliability/regions-list.md@01021ab8
# (ms.date 09/23/2025; learn.microsoft.com/azure/reliability/regions-list).
ZONE_REGIONS = frozenset(
    {
        "australiaeast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "canadacentral",
        "centralindia",
        "centralus",
        "chilecentral",
        "denmarkeast",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "westeurope",
        "westus2",
        "westus3",
    }
)

# Regions where a Premium BlockBlobStorage account may be ZRS: the "Premium
# block blob accounts" list of learn.microsoft.com/ja-jp/azure/storage/common/
# redundancy-regions-zrs (the Japanese copy of the page, read 2026-12; the
# stored English sources were older). Narrower than the zone list: not
# Central US or Qatar Central, for example. Public-cloud regions only.
PREMIUM_ZRS_REGIONS = frozenset(
    {
        "australiaeast",
        "brazilsouth",
        "canadacentral",
        "centralindia",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "germanywestcentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "koreacentral",
        "mexicocentral",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "southafricanorth",
        "southcentralus",
        "southeastasia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "uaenorth",
        "uksouth",
        "westeurope",
        "westus2",
        "westus3",
    }
)


def node_zones(region: str, configured: list[Zone] | None) -> list[Zone]:
    """The node pools' zones: as configured, else all three in a region with zones."""
    if configured is not None:
        return sorted(configured)
    return list(ALL_ZONES) if region in ZONE_REGIONS else []


def storage_replication(region: str, configured: Literal["LRS", "ZRS"] | None) -> Literal["LRS", "ZRS"]:
    """The persist account's replication: as configured, else ZRS where Premium ZRS exists."""
    if configured is not None:
        return configured
    return "ZRS" if region in PREMIUM_ZRS_REGIONS else "LRS"
