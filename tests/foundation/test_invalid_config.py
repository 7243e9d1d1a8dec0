"""Bad configuration fails cleanly, names the key, the value and what is allowed,
and nothing at all is registered."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components import targets
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import LICENSE_KEY, byo_config, evaluate

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown target", byo_config(target="openstack"), ["materialize:target", "'openstack'", "'byo'", "'aws'"]),
    ("version not vX.Y.Z", byo_config(version="26.1"), ["materialize:version", "'26.1'", "vMAJOR.MINOR.PATCH"]),
    ("version with suffix", byo_config(version="v26.1.0-rc1"), ["materialize:version", "vMAJOR.MINOR.PATCH"]),
    ("version too old", byo_config(version="v25.2.3"), ["materialize:version", "v26.0.0"]),
    (
        "instance name not DNS-1123",
        byo_config(instances=[{"name": "Prod_DB"}]),
        ["materialize:instances[0].name", "'Prod_DB'", "DNS-1123", "lower-case"],
    ),
    (
        "instance name too long",
        byo_config(instances=[{"name": "a" * 41}]),
        ["materialize:instances[0].name", "at most 40"],
    ),
    (
        "duplicate instance names",
        byo_config(instances=[{"name": "prod"}, {"name": "prod"}], metadataBackendUrl="postgres://m@db/{instance}"),
        ["materialize:instances: instance names must be unique", "prod"],
    ),
    (
        "CIDR that does not parse",
        byo_config(instances=[{"name": "prod", "exposure": {"type": "public", "allowedCidrs": ["10.0.0.0/33"]}}]),
        ["materialize:instances[0].exposure.allowedCidrs[0]", "'10.0.0.0/33'", "CIDR block"],
    ),
    (
        "CIDR with host bits",
        byo_config(instances=[{"name": "prod", "exposure": {"type": "public", "allowedCidrs": ["10.0.0.1/8"]}}]),
        ["allowedCidrs[0]", "'10.0.0.1/8'", "CIDR block"],
    ),
    (
        "extra cluster size with a byte size the chart does not use",
        byo_config(
            clusterSizes={"support-free": {"workers": 1, "cpuLimit": 0.5, "memoryLimit": "3881Mi", "diskLimit": "1GiB"}}
        ),
        ["materialize:clusterSizes.support-free.memoryLimit", "'3881Mi'", "7762MiB"],
    ),
    (
        "extra cluster size name",
        byo_config(
            clusterSizes={"Support Free": {"workers": 1, "cpuLimit": 1, "memoryLimit": "1GiB", "diskLimit": "1GiB"}}
        ),
        ["materialize:clusterSizes.Support Free:", "'Support Free' is not a replica size name"],
    ),
    ("unknown top-level key (typo)", byo_config(protectdata=False), ["materialize:protectdata", "protectData"]),
    (
        "unknown instance key",
        byo_config(instances=[{"name": "prod", "replicas": 3}]),
        ["materialize:instances[0].replicas", "unknown key", "allowed keys here", "balancerdReplicas"],
    ),
    (
        "public load balancer without an allowlist",
        byo_config(instances=[{"name": "prod", "exposure": {"type": "public"}}]),
        ["materialize:instances[0].exposure", "allowedCidrs"],
    ),
    (
        "internal load balancer on a generic cluster",
        byo_config(cloudProvider="generic", instances=[{"name": "prod", "exposure": {"type": "internal"}}]),
        ["materialize:instances[0].exposure.type: internal", "clusterIP"],
    ),
    (
        "v1 CRD with an operator that lacks it",
        byo_config(version="v26.12.0"),
        ["materialize:crdVersion: v1 needs version v26.30.0"],
    ),
    ("bad authenticator", byo_config(instances=[{"name": "p", "authenticator": "Frontegg"}]), ["authenticator"]),
    (
        "byo without kubeconfig",
        {k: v for k, v in byo_config().items() if k != "kubeconfig"},
        ["materialize:kubeconfig:"],
    ),
    (
        "byo without metadata URL",
        {k: v for k, v in byo_config().items() if k != "metadataBackendUrl"},
        ["materialize:metadataBackendUrl", "required"],
    ),
    (
        "several instances sharing one database",
        byo_config(
            instances=[{"name": "a"}, {"name": "b"}], persistBackendUrl="s3://bucket/{instance}?region=us-east-1"
        ),
        ["materialize:metadataBackendUrl", "{instance}"],
    ),
    (
        "unknown persist URL parameter",
        byo_config(persistBackendUrl="s3://bucket/prefix?region=us-east-1&colour=blue"),
        ["materialize:persistBackendUrl", "colour"],
    ),
    (
        "metadata URL with a search_path",
        byo_config(metadataBackendUrl="postgres://m@db/mz?options=-c%20search_path%3Dfoo"),
        ["materialize:metadataBackendUrl", "search_path"],
    ),
    (
        "cloud target without region",
        {"target": "aws", "licenseKey": LICENSE_KEY},
        ["materialize:region: target aws needs a region"],
    ),
    ("bad swap type", byo_config(swap="sometimes"), ["materialize:swap", "'sometimes'"]),
    (
        "another target's section",
        byo_config(aws={"zoneCount": 3}),
        ["materialize:aws: only used by the aws target; this stack's target is byo"],
    ),
    (
        "unknown key in the selected target's section",
        {"target": "aws", "region": "us-east-1", "licenseKey": LICENSE_KEY, "aws": {"zoneCuont": 3}},
        ["materialize:aws.zoneCuont", "unknown key", "did you mean 'zoneCount'", "allowed keys here", "natGateways"],
    ),
]


@pytest.mark.parametrize(("config", "expected"), [(c, e) for _, c, e in CASES], ids=[name for name, _, _ in CASES])
def test_invalid_config_is_refused_before_anything_is_registered(config: dict[str, Any], expected: list[str]) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config, monitor=monitor)
    assert monitor.registered == []
    message = str(raised.value)
    assert "Traceback" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert message.startswith("invalid stack configuration:")


def test_missing_license_key_is_refused() -> None:
    config = {k: v for k, v in byo_config().items() if k != "licenseKey"}
    with pytest.raises(pulumi.RunError, match=r"materialize:licenseKey: required but not set"):
        evaluate(config, secret_keys=())


def test_license_key_in_plain_text_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match=r"licenseKey: must be stored as a secret"):
        evaluate(byo_config(), secret_keys=())


def test_credentials_in_plain_text_url_are_refused_and_not_echoed() -> None:
    url = "postgres://materialize:hunter2-secret@db.example.com:5432/mz?sslmode=require"
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(byo_config(metadataBackendUrl=url))
    message = str(raised.value)
    assert "materialize:metadataBackendUrl" in message and "--secret" in message
    assert "hunter2" not in message


def test_secret_values_never_appear_in_errors() -> None:
    url = "s3://AKIAEXAMPLE:very%2Fsecret@bucket/prefix?region=us-east-1&bogus=1"
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(byo_config(persistBackendUrl=url), secret_keys=("licenseKey", "persistBackendUrl"))
    message = str(raised.value)
    assert "very" not in message and "AKIAEXAMPLE" not in message
    assert "(secret, not shown)" in message


def test_a_rejected_section_or_list_entry_is_never_echoed_with_its_credentials() -> None:
    # Two credentials and no username: the entry's cross-key check fails on the whole entry.
    entry = {"url": "https://metrics.example.com/api/v1/write", "password": "hunter2-secret", "bearerToken": "tok-xyz"}
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(byo_config(monitoring={"remoteWrite": [entry]}))
    message = str(raised.value)
    assert "materialize:monitoring.remoteWrite[0]: username and password go together" in message
    assert "hunter2" not in message and "tok-xyz" not in message and "metrics.example.com" not in message


def test_a_cross_key_check_inside_a_section_names_its_key_not_the_whole_section() -> None:
    config = {"target": "azure", "region": "eastus2", "licenseKey": LICENSE_KEY, "azure": {"zones": ["1", "1"]}}
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(config)
    line = str(raised.value).splitlines()[1]
    assert line == "  - materialize:azure.zones: ['1', '1'] names a zone twice; list each of 1, 2 and 3 at most once"


def test_target_not_yet_available_is_refused_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every cloud may be built by now: take one out to stand for a release without it.
    monkeypatch.delitem(targets._TARGETS, "azure", raising=False)
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError, match=r"materialize:target: 'azure' is not available"):
        evaluate({"target": "azure", "region": "westeurope", "licenseKey": LICENSE_KEY}, monitor=monitor)
    assert monitor.registered == []


def test_kubeconfig_contents_in_plain_text_are_refused() -> None:
    contents = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user: {token: abc123}\n"
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(byo_config(kubeconfig=contents))
    assert "materialize:kubeconfig: kubeconfig contents must be stored as a secret" in str(raised.value)
    assert "abc123" not in str(raised.value)


def test_kubeconfig_contents_as_a_secret_reach_the_provider_as_a_secret() -> None:
    contents = "apiVersion: v1\nkind: Config\n"
    evaluation = evaluate(byo_config(kubeconfig=contents), secret_keys=("licenseKey", "kubeconfig"))
    provider = evaluation.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == contents
    assert provider.is_secret("kubeconfig")
