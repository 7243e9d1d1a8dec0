"""Node placement as Helm values (nodeSelector + tolerations)."""

from __future__ import annotations

from typing import Any

from components.settings import Placement


def placement_values(placement: Placement) -> dict[str, Any]:
    return {
        "nodeSelector": dict(sorted(placement.node_selector.items())),
        "tolerations": [toleration.to_kubernetes() for toleration in placement.tolerations],
    }
