"""The byo example stack, evaluated under mocks: assertions on the registered graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.dataplane.exposure import CONSOLE_PORT, HTTP_PORT, SQL_PORT
from components.versions import OPERATOR_CHART_NAME, OPERATOR_CHART_REPO
from tests.harness.graph import may_wait_for
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.stack import LICENSE_KEY, Evaluation, evaluate, named
from tools.stack_files import read_stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
MATERIALIZE_V1 = "kubernetes:materialize.cloud/v1:Materialize"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"


def byo_stack(**overrides: Any) -> dict[str, Any]:
    config = read_stack_config("byo").values
    return {**config, "licenseKey": LICENSE_KEY, **overrides}


@pytest.fixture
def byo() -> Evaluation:
    return evaluate(byo_stack())


def operator_release(evaluation: Evaluation) -> Any:
    return next(r for r in evaluation.of_type(RELEASE) if r.inputs["chart"] == OPERATOR_CHART_NAME)


def test_byo_example_stack_evaluates_with_only_the_license_key(byo: Evaluation) -> None:
    assert read_stack_config("byo").encrypted == frozenset()
    types = byo.types()
    for expected in (
        "pulumi:providers:kubernetes",
        RELEASE,
        MATERIALIZE_V1,
        SECRET,
        "kubernetes:core/v1:ConfigMap",
        SERVICE,
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
        "kubernetes:cert-manager.io/v1:Certificate",
    ):
        assert expected in types
    assert set(byo.outputs["instances"]) == {"analytics"}


def test_components_and_parents(byo: Evaluation) -> None:
    components = [r for r in byo.registered if not r.custom]
    assert components, "no components registered"
    for component in components:
        assert component.type.startswith("materialize:"), component.type
    component_urns = {c.urn for c in components}
    for resource in byo.registered:
        if resource.read or resource.type == "pulumi:pulumi:StackReference":
            continue
        if resource in components and resource.type in ("materialize:byo:Target", "materialize:dataplane:DataPlane"):
            continue  # top-level components
        assert resource.parent in component_urns, f"{resource.type} {resource.name} has no component parent"


def test_every_kubernetes_resource_uses_the_explicit_provider(byo: Evaluation) -> None:
    provider = byo.one("pulumi:providers:kubernetes")
    assert provider.inputs["clusterIdentifier"] == "byo/production"
    assert provider.inputs["context"] == "production"
    assert provider.inputs["kubeconfig"].endswith("/.kube/config")
    for resource in byo.registered:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn + "::"), f"{resource.name} uses {resource.provider}"


def test_operator_release_is_pinned_atomic_and_from_the_official_chart(byo: Evaluation) -> None:
    release = operator_release(byo)
    inputs = release.inputs
    assert inputs["name"] == "materialize-operator"
    assert inputs["namespace"] == "materialize"
    assert inputs["version"] == byo_stack().get("version", "v26.37.0") == byo.outputs["materializeVersion"]
    assert inputs["repositoryOpts"]["repo"] == OPERATOR_CHART_REPO
    assert inputs["atomic"] is True and inputs["cleanupOnFail"] is True
    assert inputs["timeout"] >= 600
    assert inputs["skipCrds"] is True


def test_operator_values_follow_settings(byo: Evaluation) -> None:
    values = operator_release(byo).inputs["values"]
    assert values["operator"]["cloudProvider"] == {
        "type": "aws",
        "region": "us-east-1",
        "providers": {"aws": {"enabled": True, "accountID": "123456789012"}},
    }
    assert values["operator"]["clusters"]["swap_enabled"] is True
    assert values["operator"]["args"]["installV1CRD"] is True
    assert values["networkPolicies"]["enabled"] is True
    # monitoring is on by default, and turns the console's pod metrics on (docs/monitoring.md).
    assert values["observability"]["podMetrics"]["enabled"] is True


def test_node_placement_reaches_every_pod_group() -> None:
    placement = {
        "materialize": {
            "nodeSelector": {"workload": "materialize-instance"},
            "tolerations": [
                {"key": "materialize.cloud/workload", "value": "materialize-instance", "effect": "NoSchedule"}
            ],
        },
        "system": {"nodeSelector": {"workload": "system"}},
    }
    values = operator_release(evaluate(byo_stack(nodePlacement=placement))).inputs["values"]
    for group in ("environmentd", "clusterd", "balancerd", "console"):
        assert values[group]["nodeSelector"] == {"workload": "materialize-instance"}
        assert values[group]["tolerations"] == [
            {
                "key": "materialize.cloud/workload",
                "operator": "Equal",
                "value": "materialize-instance",
                "effect": "NoSchedule",
            }
        ]
    assert values["operator"]["nodeSelector"] == {"workload": "system"}


def test_no_secret_in_any_helm_values(byo: Evaluation) -> None:
    # mz_system's and Grafana's admin password.
    passwords = [r.state["result"] for r in byo.of_type("random:index/randomPassword:RandomPassword")]
    assert len(passwords) == 2
    for release in byo.of_type(RELEASE):
        text = json.dumps(release.inputs["values"])
        assert LICENSE_KEY not in text and not any(password in text for password in passwords)
        assert "postgres://" not in text and "s3://" not in text
        assert not release.secret_paths


def test_backend_secret_holds_every_key_as_a_pulumi_secret(byo: Evaluation) -> None:
    secret = named(byo, SECRET, "analytics-materialize-backend")
    data = secret.inputs["stringData"]
    assert set(data) == {
        "metadata_backend_url",
        "persist_backend_url",
        "license_key",
        "external_login_password_mz_system",
    }
    for key in data:
        assert secret.is_secret(f"stringData.{key}"), key
    assert data["metadata_backend_url"].endswith("/materialize_analytics?sslmode=require")
    assert data["persist_backend_url"] == "s3://example-materialize-persist/materialize/analytics?region=us-east-1"
    assert data["license_key"] == LICENSE_KEY
    assert secret.inputs["metadata"] == {
        "name": "analytics-materialize-backend",
        "namespace": "materialize-analytics",
        "labels": {"app.kubernetes.io/managed-by": "pulumi", "materialize.cloud/instance": "analytics"},
    }


def test_materialize_resource_spec(byo: Evaluation) -> None:
    cr = byo.one(MATERIALIZE_V1)
    spec = cr.inputs["spec"]
    assert cr.inputs["apiVersion"] == "materialize.cloud/v1"
    assert spec["environmentdImageRef"] == "docker.io/materialize/environmentd:v26.37.0"
    assert spec["backendSecretName"] == "analytics-materialize-backend"
    assert spec["authenticatorKind"] == "Password"
    assert spec["systemParameterConfigmapName"] == "analytics-system-params"
    assert spec["environmentId"] == byo.outputs["instances"]["analytics"]["environmentId"]
    assert spec["serviceAccountAnnotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/materialize-analytics"
    }
    assert spec["environmentdResourceRequirements"] == {
        "requests": {"cpu": "2", "memory": "8Gi"},
        "limits": {"memory": "8Gi"},
    }
    assert "requestRollout" not in spec  # v1 rolls out on its own spec hash
    annotations = cr.inputs["metadata"]["annotations"]
    assert json.loads(annotations["pulumi.com/waitFor"]) == [
        "condition=UpToDate",
        "jsonpath={.status.lastCompletedRolloutEnvironmentdImageRef}=docker.io/materialize/environmentd:v26.37.0",
    ]
    assert annotations["pulumi.com/timeoutSeconds"] == "3600"
    assert spec["enableRbac"] is True


def test_materialize_resource_waits_for_operator_secret_and_issuer(byo: Evaluation) -> None:
    cr = byo.one(MATERIALIZE_V1)
    depends = set(cr.dependencies)
    assert operator_release(byo).urn in depends
    assert byo.one(SECRET, "materialize-analytics-backend").urn in depends
    assert byo.one("kubernetes:core/v1:ConfigMap", "materialize-analytics-system-params").urn in depends
    issuer = next(r for r in byo.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer") if "ca" in r.inputs["spec"])
    assert issuer.urn in depends


def test_system_parameters_config_map(byo: Evaluation) -> None:
    config_map = byo.one("kubernetes:core/v1:ConfigMap", "materialize-analytics-system-params")
    assert json.loads(config_map.inputs["data"]["system-params.json"]) == {"max_connections": 1000}


# Labels the operator puts on balancerd's and the console's pod templates besides
# ones that carry the run-time resource id (MaterializeInc/materialize
# src/orchestratord/src/controller/balancer.rs at 6dcb6f3c4e59eb987339279a674c702d8f249392,
# create_deployment_object; src/orchestratord/src/controller/console.rs at
# cd1a4092c2ea9ad82b13aaa989e7cacfbbf8a1bf, create_console_deployment_object).
OPERATOR_POD_LABELS = {"balancerd": {"app": "balancerd"}, "console": {"app": "console"}}


def test_services_select_balancerd_and_console_without_the_materialize_resource(byo: Evaluation) -> None:
    services = {s.inputs["metadata"]["name"]: s for s in byo.of_type(SERVICE)}
    assert set(services) == {"analytics-balancerd-lb", "analytics-console-lb"}
    materialize = byo.one(MATERIALIZE_V1)
    for app in ("balancerd", "console"):
        service = services[f"analytics-{app}-lb"]
        selector = service.inputs["spec"]["selector"]
        # Every selected label is one the operator sets to a value known before it runs.
        assert selector.items() <= OPERATOR_POD_LABELS[app].items()
        assert selector
        # The load balancer is built while the instance rolls out, and Pulumi's
        # wait for the Service's endpoints lasts as long as the instance's.
        assert not may_wait_for(byo, service, materialize)
        assert service.options["customTimeouts"] == {"create": "60m", "update": "60m"}
    balancerd, console = services["analytics-balancerd-lb"].inputs, services["analytics-console-lb"].inputs
    assert [p["port"] for p in balancerd["spec"]["ports"]] == [SQL_PORT, HTTP_PORT]
    assert [p["port"] for p in console["spec"]["ports"]] == [CONSOLE_PORT]
    for service in (balancerd, console):
        assert service["spec"]["type"] == "LoadBalancer"
        assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
        assert service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"


def test_public_exposure_uses_public_annotations() -> None:
    instance = {"name": "web", "exposure": {"type": "public", "allowedCidrs": ["203.0.113.0/24"]}}
    evaluation = evaluate(byo_stack(instances=[instance]))
    for service in evaluation.of_type(SERVICE):
        annotations = service.inputs["metadata"]["annotations"]
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"
        assert "service.beta.kubernetes.io/aws-load-balancer-internal" not in annotations
        assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]


def test_cluster_ip_exposure_on_a_generic_cluster() -> None:
    evaluation = evaluate(byo_stack(cloudProvider="generic", instances=[{"name": "dev"}]))
    for service in evaluation.of_type(SERVICE):
        assert service.inputs["spec"]["type"] == "ClusterIP"
        assert "loadBalancerSourceRanges" not in service.inputs["spec"]
        assert service.inputs["metadata"]["annotations"] == {}
    assert (
        evaluation.outputs["instances"]["dev"]["sqlEndpoint"]
        == "dev-balancerd-lb.materialize-dev.svc.cluster.local:6875"
    )


def test_stack_outputs(byo: Evaluation) -> None:
    analytics = byo.outputs["instances"]["analytics"]
    assert analytics["namespace"] == "materialize-analytics"
    assert analytics["sqlEndpoint"].endswith(".lb.example.internal:6875")
    assert analytics["consoleEndpoint"].startswith("https://") and analytics["consoleEndpoint"].endswith(":8080")
    assert "connectionStrings" in byo.secret_outputs
    assert "instances" not in byo.secret_outputs
    connection = byo.outputs["connectionStrings"]["analytics"]
    assert connection.startswith("postgres://mz_system:") and ":6875/materialize?sslmode=require" in connection


def test_every_plain_kubernetes_object_passes_strict_schema_validation(byo: Evaluation) -> None:
    plain = [r for r in byo.registered if is_plain_object(r)]
    assert len(plain) >= 6
    for resource in plain:
        validate_strict(resource)


def test_strict_validation_is_not_vacuous(byo: Evaluation) -> None:
    import copy

    import kubernetes_validate

    service = copy.deepcopy(byo.of_type(SERVICE)[0])
    service.inputs["spec"]["loadBalancerSourceRange"] = ["typo"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_strict(service)


def test_evaluating_twice_yields_identical_inputs() -> None:
    assert evaluate(byo_stack()).desired_state() == evaluate(byo_stack()).desired_state()


def test_password_authenticator_is_the_default_and_none_has_no_password() -> None:
    evaluation = evaluate(byo_stack(instances=[{"name": "open", "authenticator": "None"}]))
    passwords = evaluation.of_type("random:index/randomPassword:RandomPassword")
    assert [r.name for r in passwords] == ["materialize-monitoring-grafana-admin-password"]
    backend = evaluation.one(SECRET, "materialize-open-backend")
    assert "external_login_password_mz_system" not in backend.inputs["stringData"]
    assert evaluation.outputs["connectionStrings"]["open"].startswith("postgres://materialize@")


def test_public_exposure_on_gke_asks_for_a_backend_service_load_balancer() -> None:
    instance = {"name": "web", "exposure": {"type": "public", "allowedCidrs": ["203.0.113.0/24"]}}
    evaluation = evaluate(byo_stack(cloudProvider="gcp", instances=[instance]))
    for service in evaluation.of_type(SERVICE):
        assert service.inputs["metadata"]["annotations"] == {"cloud.google.com/l4-rbs": "enabled"}


def test_services_ignore_nothing_on_platforms_whose_controllers_write_no_annotations(byo: Evaluation) -> None:
    for service in byo.of_type(SERVICE):
        assert service.options["ignoreChanges"] == []
