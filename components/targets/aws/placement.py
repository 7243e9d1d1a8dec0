"""Node placement for the charts and pods the aws target installs itself."""

from __future__ import annotations

from typing import Any

from components.settings import Placement


def helm_placement(placement: Placement) -> dict[str, Any]:
    return {
        "nodeSelector": dict(sorted(placement.node_selector.items())),
        "tolerations": [toleration.to_kubernetes() for toleration in placement.tolerations],
    }


def pod_placement(placement: Placement) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if placement.node_selector:
        spec["node_selector"] = dict(sorted(placement.node_selector.items()))
    if placement.tolerations:
        spec["tolerations"] = [toleration.to_kubernetes() for toleration in placement.tolerations]
    return spec
