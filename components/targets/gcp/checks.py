"""Checks that need more than the gcp settings alone, run before anything is registered.

The settings model checks every gcp key on its own; these look across keys
(the region, tags, swap, instance namespaces) and fail the same clean way.
"""

from __future__ import annotations

import re

import pulumi

from components.settings import PROJECT, Settings
from components.settings.loading import report
from components.targets.disk_setup import namespace_problems
from components.targets.gcp.local_ssds import local_ssd_problems
from components.targets.gcp.node_upgrades import FIRST_OPERATOR_VERSION
from components.versions import Version

# Regions and zones are checked by their form only: pulumi_gcp 10.2.0 ships no
# list of them (only the getRegions/getZones invokes, which need the Compute
# API on, and the project's own view). A region is <area>-<direction><n>
# (us-central1, europe-west12, northamerica-northeast1), and a zone is its
# region, a '-' and one letter: the provider's own region_from_zone drops
# exactly those two characters (terraform-provider-google
# google/functions/region_from_zone.go at 39134dbbb7d3e630dc29bb4e41432fc81aac2ca8),
# the form the settings' zone pattern holds to (settings/gcp.py _ZONE).
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
# GCP labels: lower-case keys starting with a letter; values may be empty.
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_MAX_LABELS = 64


def check_gcp_settings(settings: Settings) -> None:
    problems: list[str] = []
    gcp = settings.gcp
    region = settings.region or ""
    if gcp.project is None:
        problems.append(f"{PROJECT}:gcp.project: required for the gcp target (the id of the project to deploy into)")
    if not _REGION.match(region):
        problems.append(f"{PROJECT}:region: {region!r} is not a GCP region such as us-central1")
    for key, zones in (
        ("zones", gcp.zones),
        ("systemZones", gcp.system_zones),
        ("materializeZones", gcp.materialize_zones),
    ):
        for zone in zones:
            if not zone.startswith(f"{region}-"):
                problems.append(f"{PROJECT}:gcp.{key}: {zone!r} is not a zone of region {region}")
    if not gcp.api_allowed_cidrs:
        problems.append(
            f"{PROJECT}:gcp.apiAllowedCidrs: required: the CIDRs that may reach the GKE API, including "
            "where pulumi and kubectl run (0.0.0.0/0 opens it to the internet, and is never a default)"
        )
    if gcp.node_upgrade_rollout_trigger:
        if settings.crd_version != "v1":
            problems.append(
                f"{PROJECT}:gcp.nodeUpgradeRolloutTrigger: the operator's node upgrade trigger works through the "
                f"v1 Materialize CRD; set crdVersion: v1 or turn the trigger off (crdVersion is {settings.crd_version})"
            )
        if not _trigger_version(settings):
            problems.append(
                f"{PROJECT}:gcp.nodeUpgradeRolloutTrigger: the operator has it from {FIRST_OPERATOR_VERSION} on; "
                f"version is {settings.version}"
            )
    if gcp.nat_static_ip_count and not gcp.creates_network:
        problems.append(
            f"{PROJECT}:gcp.natStaticIpCount: applies to the VPC this program creates; an existing "
            "network's Cloud NAT and its addresses belong to its owner"
        )
    problems += local_ssd_problems(gcp)
    problems += _label_problems(settings.tags)
    if settings.swap is not False and not gcp.has_local_ssds:
        problems.append(
            f"{PROJECT}:gcp.materializeLocalSsdCount: swap needs local SSDs on the Materialize nodes; "
            f"{gcp.materialize_machine_type} has none, so give a count (1 or more) or an -lssd machine type, "
            "or set swap: false"
        )
    problems += namespace_problems(settings)
    if problems:
        raise pulumi.RunError(report(problems))


def _trigger_version(settings: Settings) -> bool:
    return Version.parse(settings.version) >= Version.parse(FIRST_OPERATOR_VERSION)


def rollout_trigger_on(settings: Settings) -> bool:
    """The setting, or by default: on wherever the operator can run it."""
    chosen = settings.gcp.node_upgrade_rollout_trigger
    if chosen is not None:
        return chosen
    return settings.crd_version == "v1" and _trigger_version(settings)


def _label_problems(tags: dict[str, str]) -> list[str]:
    problems = []
    if len(tags) > _MAX_LABELS:
        problems.append(f"{PROJECT}:tags: {len(tags)} tags; GCP resources take at most {_MAX_LABELS} labels")
    for key, value in sorted(tags.items()):
        if not _LABEL_KEY.match(key):
            problems.append(
                f"{PROJECT}:tags: key {key!r} is not a GCP label key (lower-case letters, digits, '_' and '-', "
                "starting with a letter, at most 63 characters)"
            )
        if not _LABEL_VALUE.match(value):
            problems.append(
                f"{PROJECT}:tags.{key}: {value!r} is not a GCP label value "
                "(lower-case letters, digits, '_' and '-', at most 63 characters)"
            )
    return problems
