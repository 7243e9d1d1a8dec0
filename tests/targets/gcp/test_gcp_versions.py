"""The GKE version is checked against what the release channel offers (getEngineVersions), before any GCP resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
import pulumi
import pytest

from components.targets.gcp.gke_versions import version_prefix, version_problem
from tests.harness.stack import evaluate
from tests.targets.gcp.stack import CLUSTER, GCP_PROVIDER, REGION, with_gcp
from tools.offline import mocks as offline_mocks

ENGINE_VERSIONS = "gcp:container/getEngineVersions:getEngineVersions"


class ProviderError(grpc.RpcError):
    """A provider's failed invoke as the engine reports it: a gRPC error carrying the provider's message."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


def refused(config: dict[str, Any]) -> tuple[str, offline_mocks.RecordingMonitor]:
    monitor = offline_mocks.RecordingMonitor(offline_mocks.RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config, monitor=monitor)
    return str(raised.value), monitor


def cloud_resources(monitor: offline_mocks.RecordingMonitor) -> list[str]:
    return [r.type for r in monitor.registered if r.type.startswith(("gcp:", "kubernetes:", "random:"))]


def test_the_invoke_asks_the_explicit_provider_for_the_region_and_the_version_prefix() -> None:
    evaluation = evaluate(with_gcp())
    calls = [call for call in evaluation.mocks.calls if call.token == ENGINE_VERSIONS]
    assert len(calls) == 1
    assert calls[0].args["location"] == REGION
    assert calls[0].args["project"] == "my-materialize-project"
    # "1.34." and not "1.34": a bare prefix would also match a 1.340 line.
    assert calls[0].args["versionPrefix"] == "1.34."
    provider = evaluation.one(GCP_PROVIDER)
    assert calls[0].provider.startswith(provider.urn)


def test_a_version_the_channel_offers_is_kept_as_given_not_resolved_to_a_patch() -> None:
    evaluation = evaluate(with_gcp(releaseChannel="REGULAR", kubernetesVersion="1.35"))
    cluster = evaluation.one(CLUSTER)
    assert cluster.inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster.inputs["minMasterVersion"] == "1.35"


def test_a_version_newer_than_the_channel_is_refused_naming_the_channels_that_offer_it() -> None:
    message, monitor = refused(with_gcp(kubernetesVersion="1.36"))
    assert message.startswith("invalid stack configuration:")
    assert "materialize:gcp.kubernetesVersion: the STABLE release channel offers no 1.36 version" in message
    assert f"in {REGION} (RAPID offers it)" in message
    assert "materialize:gcp.releaseChannel" in message
    assert "Traceback" not in message
    assert cloud_resources(monitor) == []


def test_a_version_the_channel_no_longer_offers_is_refused() -> None:
    message, monitor = refused(with_gcp(releaseChannel="RAPID", kubernetesVersion="1.33"))
    assert "the RAPID release channel offers no 1.33 version" in message
    assert "(EXTENDED, REGULAR, STABLE offer it)" in message
    assert cloud_resources(monitor) == []


def test_without_a_channel_the_exact_version_must_be_a_valid_master_version() -> None:
    message, monitor = refused(with_gcp(releaseChannel="UNSPECIFIED", kubernetesVersion="1.34.3-gke.1000000"))
    assert "GKE does not offer 1.34.3-gke.1000000 in us-central1 for a cluster without a release channel" in message
    assert cloud_resources(monitor) == []

    evaluation = evaluate(with_gcp(releaseChannel="UNSPECIFIED", kubernetesVersion="1.34.4-gke.1130000"))
    assert evaluation.one(CLUSTER).inputs["minMasterVersion"] == "1.34.4-gke.1130000"


def test_with_the_api_still_off_the_check_is_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def api_off(_: Mapping[str, Any]) -> dict[str, Any]:
        raise ProviderError(
            "googleapi: Error 403: Kubernetes Engine API has not been used in project 123456789012 before or it "
            "is disabled. Enable it by visiting ... then retry., SERVICE_DISABLED"
        )

    warnings: list[str] = []
    monkeypatch.setitem(offline_mocks._INVOKES, ENGINE_VERSIONS, api_off)
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    evaluation = evaluate(with_gcp())
    assert evaluation.one(CLUSTER).inputs["minMasterVersion"] == "1.34"
    assert [w for w in warnings if w.startswith("materialize:gcp.kubernetesVersion: not checked")]


def test_any_other_invoke_failure_is_a_clean_error_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(_: Mapping[str, Any]) -> dict[str, Any]:
        raise ProviderError("googleapi: Error 403: Required 'container.clusters.list' permission, forbidden")

    monkeypatch.setitem(offline_mocks._INVOKES, ENGINE_VERSIONS, denied)
    message, monitor = refused(with_gcp())
    assert "materialize:gcp.kubernetesVersion: could not list GKE's versions in us-central1 to check 1.34" in message
    assert "container.clusters.list" in message
    assert cloud_resources(monitor) == []


def test_prefixes_and_problems() -> None:
    assert version_prefix("1.34") == "1.34."
    assert version_prefix("1.34.4-gke.1130000") == "1.34.4-gke.1130000"
    offered = {"REGULAR": "1.35.8-gke.1036000"}
    assert version_problem("1.35", "REGULAR", REGION, channel_versions=offered, master_versions=[]) is None
    problem = version_problem("1.35", "STABLE", REGION, channel_versions=offered, master_versions=[])
    assert problem is not None and "(REGULAR offers it)" in problem
    nobody = version_problem("1.40", "STABLE", REGION, channel_versions={}, master_versions=[])
    assert nobody is not None and "(no channel there offers it)" in nobody
