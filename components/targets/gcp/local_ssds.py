"""How many local SSDs a Materialize node gets, and why the count is never 0.

An -lssd machine type comes with a fixed number of Titanium SSDs. GKE takes
`local_nvme_ssd_block_config.local_ssd_count = 0` for such a type and
attaches them all, but then reports the real count back; the provider sees
0 -> N on the next preview and, since the field cannot change in place,
plans to replace the whole node pool (every Materialize pod evicted). Sending
the bundled count itself keeps the preview after the first `up` empty.

The counts are Google's, from the "Titanium SSD" column of the machine type
tables in https://cloud.google.com/compute/docs/general-purpose-machines
(C4A, C4 and C4D series; each disk 375 GiB). An -lssd type of another series
(C3, C3D, Z3, ...) needs its count given in `gcp.materializeLocalSsdCount`.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.settings import PROJECT
from components.settings.gcp import GcpSettings

_SERIES: Mapping[str, Mapping[int, int]] = {
    # vCPUs -> Titanium SSDs, the same for the standard and highmem shapes.
    "c4a": {4: 1, 8: 2, 16: 4, 32: 6, 48: 10, 64: 14, 72: 16},
    "c4": {4: 1, 8: 1, 16: 2, 24: 4, 32: 5, 48: 8, 96: 16, 144: 24, 192: 32, 288: 48},
    "c4d": {8: 1, 16: 1, 32: 2, 48: 4, 64: 6, 96: 8, 192: 16, 384: 32},
}
_SHAPES = ("standard", "highmem")

BUNDLED_LOCAL_SSDS: Mapping[str, int] = {
    f"{series}-{shape}-{vcpus}-lssd": count
    for series, counts in _SERIES.items()
    for shape in _SHAPES
    for vcpus, count in counts.items()
}


def local_ssd_count(settings: GcpSettings) -> int:
    """The count to send for the Materialize pool (0: no local SSDs)."""
    return BUNDLED_LOCAL_SSDS.get(settings.materialize_machine_type, settings.materialize_local_ssd_count)


def local_ssd_problems(settings: GcpSettings) -> list[str]:
    machine, given = settings.materialize_machine_type, settings.materialize_local_ssd_count
    key = f"{PROJECT}:gcp.materializeLocalSsdCount"
    if not machine.endswith("-lssd"):
        return []
    bundled = BUNDLED_LOCAL_SSDS.get(machine)
    if bundled is None and given == 0:
        return [
            f"{key}: {machine} comes with a fixed number of local SSDs that this program does not know; "
            "give that number (Google's machine type table lists it)"
        ]
    if bundled is not None and given not in (0, bundled):
        return [f"{key}: {machine} comes with {bundled} local SSDs; {given} is not possible (leave it at 0)"]
    return []
