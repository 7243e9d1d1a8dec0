"""Building blocks of the settings models: strict models and validated field types."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from components.versions import (
    MINIMUM_MATERIALIZE_MAJOR,
    Version,
)

PROJECT = "materialize"
CLOUD_TARGETS = ("aws", "gcp", "azure")

# Instance names become Kubernetes object names with suffixes such as
# "-balancerd-lb", which must stay within the 63-character label limit.
_MAX_INSTANCE_NAME = 40
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# Materialize system parameter names are lower-case snake case.
SYSTEM_PARAMETER = re.compile(r"^[a-z][a-z0-9_]*$")


def _dns_label(max_length: int) -> Any:
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.match(value):
            raise ValueError(
                f"{value!r} is not a valid DNS-1123 label: use lower-case letters, digits and '-', "
                f"start and end with a letter or digit, at most {max_length} characters"
            )
        return value

    return AfterValidator(check)


def materialize_version(value: str) -> str:
    parsed = Version.parse(value)
    if parsed.major < MINIMUM_MATERIALIZE_MAJOR:
        raise ValueError(
            f"{value!r} is older than v{MINIMUM_MATERIALIZE_MAJOR}.0.0, the oldest release this installer supports"
        )
    return value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block such as 10.0.0.0/16 ({error})") from None


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 500m, 2, 4Gi or 4095Mi")
    return value


DnsLabel = Annotated[str, _dns_label(63)]
InstanceName = Annotated[str, _dns_label(_MAX_INSTANCE_NAME)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Quantity = Annotated[str, AfterValidator(_quantity)]


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# RFC 5737 sets these aside for documentation: nothing on the internet ever
# connects from them, so an API allowlist of one locks pulumi out of the
# cluster it is building (every Kubernetes call times out after the cluster is made).
DOCUMENTATION_RANGES = tuple(
    ipaddress.IPv4Network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def documentation_range(block: str) -> ipaddress.IPv4Network | None:
    """The RFC 5737 range `block` lies inside, if any. A wider block (0.0.0.0/0)
    also admits real addresses, so only blocks inside one are refused."""
    network = ipaddress.ip_network(block)
    for documentation in DOCUMENTATION_RANGES:
        if isinstance(network, ipaddress.IPv4Network) and network.subnet_of(documentation):
            return documentation
    return None


def _reachable_cidr(value: str) -> str:
    documentation = documentation_range(value)
    if documentation is not None:
        raise ValueError(
            f"{value!r} is in {documentation}, a documentation range (RFC 5737) no client ever "
            "connects from; put the addresses pulumi and kubectl really reach the API from"
        )
    return value


# A Kubernetes API allowlist entry (every cloud's): a CIDR that real clients can come from.
ReachableCidr = Annotated[Cidr, AfterValidator(_reachable_cidr)]


class BucketVersioning(StrictModel):
    """The persist bucket's versioning, the same choice on every cloud that offers it (aws, gcp)."""

    bucket_versioning: bool = Field(
        default=True, alias="bucketVersioning", description="Keep overwritten/deleted persist objects for a while."
    )
    noncurrent_version_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        alias="noncurrentVersionDays",
        description="With bucketVersioning: days before replaced or deleted objects are removed for good.",
    )
