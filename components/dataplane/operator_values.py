"""Helm values for the materialize-operator chart, derived from settings.

Only keys the chart defines are set (a test checks them against the chart's
published values), and never a secret: credentials live in per-instance
Secrets that the chart does not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.contract import Platform
from components.settings import Settings


def operator_values(settings: Settings, platform: Platform, issuer_name: str) -> dict[str, Any]:
    return merged(_values(settings, platform, issuer_name), platform.operator_values)


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, map by map (as Helm merges values files)."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = merged(current, value)
        else:
            result[key] = value
    return result


def _values(settings: Settings, platform: Platform, issuer_name: str) -> dict[str, Any]:
    materialize = platform.materialize_nodes.helm_values()
    system = platform.system_nodes.helm_values()
    issuer_ref = {"name": issuer_name, "kind": "ClusterIssuer"}

    cloud_provider: dict[str, Any] = {"type": platform.cloud_provider, "region": platform.region}
    if platform.cloud_provider == "aws":
        cloud_provider["providers"] = {"aws": {"enabled": True, "accountID": platform.aws_account_id or ""}}

    clusters: dict[str, Any] = {"swap_enabled": platform.swap_enabled}
    if settings.cluster_sizes:
        # Helm merges this map into the chart's default sizes: the defaults stay
        # and these are added (or, for a default name, replaced field by field;
        # every field is written, so nothing of the default survives).
        clusters["sizes"] = {name: size.chart_values() for name, size in sorted(settings.cluster_sizes.items())}

    return {
        "operator": {
            "args": {"installV1CRD": settings.crd_version == "v1"},
            "cloudProvider": cloud_provider,
            "clusters": clusters,
            **system,
        },
        # environmentd and clusterd do the work and carry the data: they go to
        # the Materialize nodes (swap-capable where swap is on).
        "environmentd": materialize,
        "clusterd": materialize,
        "balancerd": materialize,
        "console": materialize,
        "networkPolicies": {
            "enabled": settings.network_policies,
            "internal": {"enabled": settings.network_policies},
            # Off on purpose: the chart would open balancerd's SQL and HTTP
            # ports to one list of CIDRs for every instance alike (and an empty
            # list renders an ingress rule with no sources, which admits
            # everyone). Each instance's own policies open its ports to its
            # own exposure instead (instance_network_policies.py).
            "ingress": {"enabled": False, "cidrs": []},
            # Sources and sinks are the user's and may live at any address, so
            # no narrower range is known: every Materialize pod may connect to
            # any address outside the cluster. What Materialize itself needs
            # (DNS, API server, Postgres, blob store) has policies of its own.
            "egress": {"enabled": settings.network_policies, "cidrs": ["0.0.0.0/0"]},
        },
        # The console's pod metrics read metrics-server, which monitoring makes sure exists.
        "observability": {"podMetrics": {"enabled": settings.pod_metrics or settings.monitoring.enabled}},
        "tls": {
            "defaultCertificateSpecs": {
                "balancerdExternal": {"issuerRef": issuer_ref},
                "consoleExternal": {"issuerRef": issuer_ref},
                "internal": {"issuerRef": issuer_ref},
            }
        },
    }
