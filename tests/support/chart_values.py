"""Third-party charts' default values.yaml, pinned by commit and SHA-256, for key checks.

The monitoring stack's values are checked against the keys the pinned charts
define (a misspelt key is silently ignored by Helm). Nothing of those charts is
part of this repository: a file is read, with exactly the pinned bytes, from

1. this user's cache (`$XDG_CACHE_HOME/materialize-pulumi/reference`, as reference_data.py);
2. a bare git mirror of the chart's repository, if this machine has one
   (`$CHART_MIRROR_ROOT/<owner>+<name>/repo`, default /work/.mirror);
3. a download of the pinned commit's raw file, then cached
   (`MATERIALIZE_REFERENCE_OFFLINE=1` forbids it);

and the test is skipped, saying why, when none has it.
"""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.reference_data import DOWNLOAD_TIMEOUT_SECONDS, _cache_dir, _offline, _sha256, _store


@dataclass(frozen=True)
class ChartValues:
    chart: str
    tag: str
    repository: str
    commit: str
    path: str
    sha256: str

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/{self.path}"


CHARTS = {
    values.chart: values
    for values in (
        ChartValues(
            "kube-prometheus-stack",
            "kube-prometheus-stack-88.5.3",
            "prometheus-community/helm-charts",
            "ea930baeebeba39f56d6b44e351f23b2a072a600",
            "charts/kube-prometheus-stack/values.yaml",
            "659289e3cc0ff503db75dd2969c8fe7295657357b82ff085d0b2a824d68b7755",
        ),
        # The sub-charts whose own keys the values set (kube-prometheus-stack Chart.yaml
        # dependencies at the tag above: grafana 12.11.1, kube-state-metrics 8.4.0).
        ChartValues(
            "grafana",
            "grafana-12.11.1",
            "grafana-community/helm-charts",
            "864f7794683680e5100a38670e103c4fa6e37e29",
            "charts/grafana/values.yaml",
            "653e88838eb7553f561d2e6ffa3cbaa7d5b5029398af6ea2fdd2c27793853a68",
        ),
        ChartValues(
            "kube-state-metrics",
            "kube-state-metrics-8.4.0",
            "prometheus-community/helm-charts",
            "1982f1c5828920f5d4ea5d04956169e81f8c5129",
            "charts/kube-state-metrics/values.yaml",
            "a4dea7869dc7b21d16a5bfc6de666e66b92f0fe1ae48c100344eb6d97cef16a4",
        ),
        ChartValues(
            "metrics-server",
            "metrics-server-helm-chart-3.13.0",
            "kubernetes-sigs/metrics-server",
            "1a64100c33acf2d7dfa4439f20c75bc64d86983f",
            "charts/metrics-server/values.yaml",
            "683ed81c6074e7b49f732ab37168e316767e9782f0560ed905ad521d0b0e5b0d",
        ),
        # Log collection (components/dataplane/logging_values.py): the charts' release tags.
        ChartValues(
            "alloy",
            "helm-chart/1.11.1",
            "grafana/alloy",
            "233907cff225ce253f812bdfc14138dac1fa0cd2",
            "operations/helm/charts/alloy/values.yaml",
            "e5baf1fac88469c03fe2692e4ccda75ab5b0b705193694755d959550c73ae59c",
        ),
        ChartValues(
            "loki",
            "helm-loki-7.3.0",
            "grafana/loki",
            "50c738b4d5b28db6e26723c3828da13bb46f0f06",
            "production/helm/loki/values.yaml",
            "db72f0aa2dda00edf10181389d5b7f889331b89fecbf81c86c0fbe1d8d3eda4d",
        ),
        # The aws target's load-balancer controller (components/targets/aws/pins.py):
        # the commit that released chart 3.5.0 (appVersion v3.5.0).
        ChartValues(
            "aws-load-balancer-controller",
            "aws-load-balancer-controller-3.5.0",
            "aws/eks-charts",
            "5239609242f3430be50fb0b714a24d3ef2b47983",
            "stable/aws-load-balancer-controller/values.yaml",
            "c330e0b3aaeed9d6b75e70564563dcdb231ee970db587f23eff5c013461f2dd4",
        ),
        # Not values either: the chart's webhook template at the same commit, for what its pod webhook selects.
        ChartValues(
            "aws-load-balancer-controller-webhook-template",
            "aws-load-balancer-controller-3.5.0",
            "aws/eks-charts",
            "5239609242f3430be50fb0b714a24d3ef2b47983",
            "stable/aws-load-balancer-controller/templates/webhook.yaml",
            "d06cfe4c9f1834ef912f56aa0f8f06f2a2ecc6f9a5e06688ecfb2bae2c28202b",
        ),
        # Not a chart's values: the IAM policy that controller release publishes
        # (tag v3.5.0), which components/targets/aws/load_balancer_policy.py restates.
        ChartValues(
            "aws-load-balancer-controller-iam-policy",
            "v3.5.0",
            "kubernetes-sigs/aws-load-balancer-controller",
            "11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4",
            "docs/install/iam_policy.json",
            "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a",
        ),
    )
}


def _from_mirror(values: ChartValues) -> bytes | None:
    root = Path(os.environ.get("CHART_MIRROR_ROOT", "/work/.mirror"))
    git_dir = root / values.repository.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    result = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{values.commit}:{values.path}"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return result.stdout if result.returncode == 0 else None


def chart_values_text(chart: str) -> str:
    values = CHARTS[chart]
    cached = _cache_dir() / values.sha256 / f"{chart}-values.yaml"
    if cached.is_file() and _sha256(cached.read_bytes()) == values.sha256:
        return cached.read_text()
    tried = [f"not cached in {cached.parent}"]
    data = _from_mirror(values)
    if data is None:
        tried.append("no git mirror of " + values.repository)
        if _offline():
            tried.append("downloads are off (MATERIALIZE_REFERENCE_OFFLINE)")
        else:
            try:
                with urllib.request.urlopen(values.url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                    data = response.read()
            except (urllib.error.URLError, OSError) as error:
                tried.append(f"download of {values.url} failed ({error})")
    if data is None:
        pytest.skip(f"values.yaml of {values.tag} is not available: " + "; ".join(tried))
    if _sha256(data) != values.sha256:
        pytest.fail(f"values.yaml of {values.tag} has SHA-256 {_sha256(data)}, not the pinned {values.sha256}")
    return _store(cached, data).read_text()


def chart_defaults(chart: str) -> dict[str, Any]:
    return yaml.safe_load(chart_values_text(chart))


def unknown_keys(values: dict[str, Any], defaults: dict[str, Any], free_form: set[str], prefix: str = "") -> list[str]:
    """Keys of `values` the chart's defaults do not define, as dotted paths.

    A map the chart defaults to empty (`nodeSelector: {}`) or marks free-form takes any keys;
    `free_form` names further paths whose contents the chart passes through unchecked.
    """
    unknown: list[str] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in free_form:
            continue
        if key not in defaults:
            unknown.append(path)
            continue
        default = defaults[key]
        if isinstance(value, dict) and isinstance(default, dict) and default:
            unknown += unknown_keys(value, default, free_form, f"{path}.")
    return unknown
