"""Whether GKE offers the configured version on the configured channel, asked before anything is created.

`gcp.container.get_engine_versions` reads GKE's server configuration for the
region (projects.locations.getServerConfig). With a `version_prefix`, the
provider keeps only matching versions, and its `release_channel_latest_version`
holds, per channel, the newest of that channel's own valid versions that
matches, and leaves out every channel that offers none
(terraform-provider-google
google/services/container/data_source_google_container_engine_versions.go at
d8e588783d12bc5376840744a34a1219d78c7db7, the loop over `resp.Channels`).
`valid_master_versions` is every version a cluster without a channel may
start from. So one call with the configured version as the prefix tells
whether the channel offers it, and which channels do.

The version is checked, not resolved: `min_master_version` keeps what the
stack says (MAJOR.MINOR lets the channel pick the patch). A resolved exact
patch would change whenever Google publishes one, and every such change of
`min_master_version` is an upgrade of the control plane.

A refusal is also what a stack gets once its channel has dropped the
configured minor: GKE would refuse a new cluster on it, and an existing
cluster has already been upgraded past it, so raising the setting to a
version the channel offers changes nothing on that cluster.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.settings import PROJECT
from components.settings.gcp import GcpSettings
from components.settings.loading import report

KEY = f"{PROJECT}:gcp.kubernetesVersion"
# What Google answers while the project's Kubernetes Engine API is off
# (https://cloud.google.com/apis/docs/troubleshooting ... SERVICE_DISABLED).
_API_OFF_MARKERS = ("SERVICE_DISABLED", "has not been used in project", "it is disabled")


def version_prefix(version: str) -> str:
    """1.34 -> "1.34." (so it cannot match 1.340); an exact version matches only itself."""
    return version if "-gke." in version else f"{version}."


def check_gke_version(settings: GcpSettings, region: str, provider: gcp.Provider) -> None:
    """Refuse, naming the key, a version the channel (or GKE, without one) does not offer in `region`."""
    assert settings.project is not None
    version, channel = settings.kubernetes_version, settings.release_channel
    try:
        offered = gcp.container.get_engine_versions(
            location=region,
            project=settings.project,
            version_prefix=version_prefix(version),
            opts=pulumi.InvokeOptions(provider=provider),
        )
    except Exception as error:
        if any(marker in str(error) for marker in _API_OFF_MARKERS):
            # A new project: the program turns the API on itself (apis.py),
            # and GKE checks the version when it creates the cluster.
            pulumi.log.warn(
                f"{KEY}: not checked against GKE's versions: the Kubernetes Engine API is still off in "
                f"project {settings.project} (this update turns it on)"
            )
            return
        raise pulumi.RunError(
            report([f"{KEY}: could not list GKE's versions in {region} to check {version}: {error}"])
        ) from None
    problem = version_problem(
        version,
        channel,
        region,
        channel_versions=dict(offered.release_channel_latest_version or {}),
        master_versions=list(offered.valid_master_versions or []),
    )
    if problem is not None:
        raise pulumi.RunError(report([problem]))


def version_problem(
    version: str,
    channel: str,
    region: str,
    *,
    channel_versions: dict[str, str],
    master_versions: list[str],
) -> str | None:
    """What is wrong with `version` on `channel`, given the invoke's answer for that prefix."""
    if channel == "UNSPECIFIED":
        if version in master_versions:
            return None
        return (
            f"{KEY}: GKE does not offer {version} in {region} for a cluster without a release channel; "
            f"run `gcloud container get-server-config --region {region}` for the versions it offers "
            "(validMasterVersions)"
        )
    if channel in channel_versions:
        return None
    others = sorted(name for name in channel_versions if name != "UNSPECIFIED")
    where = f"{', '.join(others)} offer{'s' if len(others) == 1 else ''} it" if others else "no channel there offers it"
    return (
        f"{KEY}: the {channel} release channel offers no {version} version in {region} ({where}); "
        f"set {PROJECT}:gcp.kubernetesVersion to a version {channel} offers "
        f"(`gcloud container get-server-config --region {region}`, channels) or choose another "
        f"{PROJECT}:gcp.releaseChannel"
    )
