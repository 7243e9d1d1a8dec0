"""Issue 15 item 6: the AWS Load Balancer Controller's version, IAM policy and webhooks, on the registered graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.targets.aws import target as aws_target
from components.targets.aws.load_balancer_policy import policy_document
from components.targets.aws.pins import LOAD_BALANCER_CONTROLLER_APP_VERSION, LOAD_BALANCER_CONTROLLER_VERSION
from tests.harness.graph import waits_for
from tests.harness.kubernetes_objects import validate_strict
from tests.harness.mocks import Registered
from tests.harness.stack import Evaluation, evaluate, example_stack
from tests.support.chart_values import CHARTS, chart_defaults, chart_values_text
from tests.targets.aws.stack import MATERIALIZE, NAMESPACE, SERVICE, aws_stack, ending, policy, release

CHART = "aws-load-balancer-controller"
GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
IAM_POLICY = "aws-load-balancer-controller-iam-policy"
WEBHOOK_TEMPLATE = "aws-load-balancer-controller-webhook-template"


def test_the_pinned_reference_files_are_those_of_the_pinned_release() -> None:
    # A chart bump (Renovate moves pins.py alone) fails here until the values and the policy move too.
    assert CHARTS[CHART].tag == f"{CHART}-{LOAD_BALANCER_CONTROLLER_VERSION}"
    assert CHARTS[IAM_POLICY].tag == LOAD_BALANCER_CONTROLLER_APP_VERSION
    # The chart runs the controller release whose policy we grant.
    assert chart_defaults(CHART)["image"]["tag"] == LOAD_BALANCER_CONTROLLER_APP_VERSION


def test_the_release_installs_the_pinned_chart(example: Evaluation) -> None:
    controller = release(example, CHART)
    assert controller.inputs["chart"] == CHART
    assert controller.inputs["version"] == LOAD_BALANCER_CONTROLLER_VERSION == "3.5.0"
    # Helm installs the chart's CRDs (crds/) on a fresh install only; docs/aws.md says how an older stack updates them.
    assert not controller.inputs.get("skipCrds", False)


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_the_policy_is_the_one_the_release_publishes(example: Evaluation, partition: str) -> None:
    upstream = json.loads(chart_values_text(IAM_POLICY).replace('"arn:aws:', f'"arn:{partition}:'))
    assert json.loads(policy_document(partition)) == upstream
    granted = policy(ending(example, "aws:iam/policy:Policy", "-lb-controller-policy"))
    assert granted == json.loads(chart_values_text(IAM_POLICY))
    assert (
        ending(example, "aws:iam/policy:Policy", "-lb-controller-policy")
        .inputs["description"]
        .endswith(LOAD_BALANCER_CONTROLLER_APP_VERSION)
    )


def test_the_pod_webhook_fails_open_and_the_webhook_certificate_is_kept(example: Evaluation) -> None:
    values = release(example, CHART).inputs["values"]
    defaults = chart_defaults(CHART)
    # With the controller down, pods of a labelled namespace are created without gates, not refused.
    assert values["podMutatorWebhookConfig"] == {"failurePolicy": "Ignore"}
    assert set(values["podMutatorWebhookConfig"]) <= set(defaults["podMutatorWebhookConfig"])
    assert values["keepTLSSecret"] is True and defaults["keepTLSSecret"] is False


def _pod_webhook_template() -> str:
    """The chart's mpod.elbv2.k8s.aws entry: from the first webhook's start to the next one."""
    text = chart_values_text(WEBHOOK_TEMPLATE)
    start = text.index("webhooks:\n- clientConfig:") + len("webhooks:\n")
    end = text.index("\n- clientConfig:", start)
    assert "name: mpod.elbv2.k8s.aws" in text[start:end]
    return text[start:end]


def test_the_pod_webhook_reads_that_failure_policy_and_selects_labelled_namespaces() -> None:
    webhook = _pod_webhook_template()
    assert "failurePolicy: {{ .Values.podMutatorWebhookConfig.failurePolicy }}" in webhook
    # Without webhookNamespaceSelectors (we set none) it matches namespaces labelled for readiness gates only.
    assert "key: elbv2.k8s.aws/pod-readiness-gate-inject\n      operator: In\n      values:\n      - enabled" in webhook
    assert "webhookNamespaceSelectors" not in release_values()


def release_values() -> dict[str, object]:
    return release(evaluate(aws_stack()), CHART).inputs["values"]


# --- readiness gates (6a) --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two() -> Evaluation:
    return evaluate(aws_stack(instances=[{"name": "main"}, {"name": "analytics", "namespace": "analytics"}]))


def _instance_namespace_objects(evaluation: Evaluation) -> list[Registered]:
    """The namespaces the data plane's Instance components make (not the operator's, cert-manager's, ...)."""
    return [n for n in evaluation.of_type(NAMESPACE) if "materialize:dataplane:Instance" in n.parent]


def _instance_namespaces(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [n.inputs["metadata"] for n in _instance_namespace_objects(evaluation)]


def test_every_instance_namespace_asks_for_readiness_gates_and_passes_strict_validation(two: Evaluation) -> None:
    namespaces = _instance_namespace_objects(two)
    assert sorted(n.inputs["metadata"]["name"] for n in namespaces) == ["analytics", "materialize-main"]
    for namespace in namespaces:
        labels = namespace.inputs["metadata"]["labels"]
        assert labels[GATE_LABEL] == "enabled", namespace.name
        # The data plane's own labels are still there.
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["materialize.cloud/instance"] in ("main", "analytics")
        validate_strict(namespace)
    # Only the instance namespaces: the target's and the system's own stay unlabelled.
    others = [n for n in two.of_type(NAMESPACE) if n not in namespaces]
    assert others and all(GATE_LABEL not in (n.inputs["metadata"].get("labels") or {}) for n in others)


def test_the_data_planes_own_labels_win_over_the_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    clash = {GATE_LABEL: "enabled", "materialize.cloud/instance": "someone-else"}
    monkeypatch.setattr(aws_target, "POD_READINESS_GATE_LABELS", clash)
    [labels] = [m["labels"] for m in _instance_namespaces(evaluate(aws_stack()))]
    assert labels["materialize.cloud/instance"] == "main" and labels[GATE_LABEL] == "enabled"


@pytest.mark.parametrize("target", ["gcp", "azure", "local", "byo"])
def test_no_other_target_labels_instance_namespaces(target: str) -> None:
    for metadata in _instance_namespaces(evaluate(example_stack(target))):
        assert set(metadata["labels"]) == {"app.kubernetes.io/managed-by", "materialize.cloud/instance"}, target


def test_each_instance_waits_for_the_controller_and_the_operator_does_not(two: Evaluation) -> None:
    controller = release(two, CHART)
    instances = two.of_type(MATERIALIZE)
    assert len(instances) == 2
    for instance in instances:
        assert waits_for(two, instance, controller), instance.name
    for chart in ("cert-manager", "materialize-operator"):
        assert not waits_for(two, release(two, chart), controller), chart


def test_only_balancerd_and_console_pods_sit_behind_ip_target_load_balancers(two: Evaluation) -> None:
    # The webhook gates only pods selected by a Service with a target-type ip target group
    # (pod_readiness_gate.go): balancerd's and console's, not environmentd's or clusterd's.
    balanced = [s for s in two.of_type(SERVICE) if s.inputs["spec"].get("type") == "LoadBalancer"]
    assert len(balanced) == 4
    for service in balanced:
        annotations = service.inputs["metadata"]["annotations"]
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
        assert service.inputs["spec"]["selector"] in ({"app": "balancerd"}, {"app": "console"}), service.name
