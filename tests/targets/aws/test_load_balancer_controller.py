"""Issue 15 item 6: the AWS Load Balancer Controller's version, IAM policy and webhooks, on the registered graph."""

from __future__ import annotations

import json

import pytest

from components.targets.aws.load_balancer_policy import policy_document
from components.targets.aws.pins import LOAD_BALANCER_CONTROLLER_APP_VERSION, LOAD_BALANCER_CONTROLLER_VERSION
from tests.harness.stack import Evaluation, evaluate
from tests.support.chart_values import CHARTS, chart_defaults, chart_values_text
from tests.targets.aws.stack import aws_stack, ending, policy, release

CHART = "aws-load-balancer-controller"
IAM_POLICY = "aws-load-balancer-controller-iam-policy"
WEBHOOK_TEMPLATE = "aws-load-balancer-controller-webhook-template"


@pytest.fixture(scope="module")
def example() -> Evaluation:
    return evaluate(aws_stack())


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
