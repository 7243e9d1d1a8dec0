"""Replica sizes: the ones the operator chart defines, and extra ones a stack adds.

One module serves both sides of the dividing line: an install stack adds
sizes to the chart's `operator.clusters.sizes` (for example a zero-credit size
that support replicas are billed as), and a support stack checks the sizes it
asks for against the same names before any SQL runs.

Deliberately free of `components.settings`: the settings package imports this
module, so importing the settings from here would be circular.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# The default `operator.clusters.sizes` of the materialize-operator chart.
# Taken from the chart's values.yaml at v26.12.0 (../shared/materialize); the
# self-managed "Cluster sizes" reference lists the same 25cc to 6400cc names as
# the defaults today. Checked against the pinned DEFAULT_MATERIALIZE_VERSION by
# name only: a newer chart that adds sizes only makes this list too strict.
CHART_SIZE_NAMES: tuple[str, ...] = (
    "mz_probe",
    "25cc",
    "50cc",
    "100cc",
    "200cc",
    "300cc",
    "400cc",
    "600cc",
    "800cc",
    "1200cc",
    "1600cc",
    "3200cc",
    "6400cc",
)

# Size names are map keys in Helm values and SQL string literals in
# Materialize; keep them to the characters the chart's own names use.
_SIZE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
# The chart writes byte sizes as "7762MiB".
_BYTES = re.compile(r"^[0-9]+(KiB|MiB|GiB|TiB)$")


def check_size_name(value: str) -> str:
    if not _SIZE_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a replica size name: use lower-case letters, digits, '_', '.' and '-', "
            "starting with a letter or digit, at most 63 characters (like 25cc or support-free)"
        )
    return value


def _bytes(value: str) -> str:
    if not _BYTES.match(value):
        raise ValueError(f"{value!r} is not a byte size as the chart writes them, such as 7762MiB or 4GiB")
    return value


def _credits(value: str) -> str:
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number of credits per hour such as 0.25 or 0") from None
    if parsed < 0 or not parsed.is_finite():
        raise ValueError(f"{value!r}: credits per hour cannot be negative")
    return value


SizeName = Annotated[str, AfterValidator(check_size_name)]


class ClusterSize(BaseModel):
    """One entry of the chart's `operator.clusters.sizes`, with the fields its values.yaml uses."""

    # The same strictness as settings.StrictModel (not importable here, see above).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    workers: int = Field(ge=1, description="Timely workers per process.")
    scale: int = Field(default=1, ge=1, description="Processes per replica; 1 for all but the largest sizes.")
    cpu_exclusive: bool = Field(default=False, alias="cpuExclusive", description="Pin whole CPUs to the replica.")
    cpu_limit: float = Field(gt=0, alias="cpuLimit", description="CPU limit per process, in cores.")
    credits_per_hour: Annotated[str, AfterValidator(_credits)] = Field(
        default="0", alias="creditsPerHour", description="What the size costs per hour; 0 for an unbilled size."
    )
    disk_limit: Annotated[str, AfterValidator(_bytes)] = Field(alias="diskLimit", description="Scratch disk limit.")
    memory_limit: Annotated[str, AfterValidator(_bytes)] = Field(alias="memoryLimit", description="Memory limit.")

    def chart_values(self) -> dict[str, Any]:
        """The entry as the chart spells it: the field names are the chart's snake_case keys."""
        return self.model_dump()


def known_sizes(extra: Iterable[str] = ()) -> frozenset[str]:
    """Every size name an install defines: the chart's plus the extra ones it adds."""
    return frozenset(CHART_SIZE_NAMES) | frozenset(extra)
