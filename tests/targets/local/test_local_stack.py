"""The local example stack, evaluated under mocks: assertions on the registered graph."""

from __future__ import annotations

import os
import re

import pulumi
import pytest

from components.contract import InstanceIdentity
from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.settings import load_settings
from components.targets.local import LocalTarget
from components.versions import OPERATOR_CHART_NAME
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.stack import Evaluation, backend, evaluate, named, operator_values, paths_holding
from tests.targets.local.stack import (
    JOB,
    MATERIALIZE,
    NAMESPACE,
    NETWORK_POLICY,
    RANDOM_PASSWORD,
    RELEASE,
    SECRET,
    SERVICE,
    STATEFUL_SET,
    container,
    env,
    local_stack,
    pod_spec,
)
from tools.offline.sdk_internals import sync_await
from tools.stack_files import read_stack_config

STORE_NAMESPACE = "materialize-local"
POSTGRES_HOST = "postgres.materialize-local.svc.cluster.local"
S3_ENDPOINT = "http://seaweedfs.materialize-local.svc.cluster.local:8333"
# An exact release tag: no `latest`, no bare major.
PINNED = re.compile(r"^docker\.io/[a-z0-9-]+/[a-z0-9-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$")


@pytest.fixture(scope="module")
def local() -> Evaluation:
    return evaluate(local_stack())


@pytest.fixture(scope="module")
def two() -> Evaluation:
    return evaluate(local_stack(instances=[{"name": "main"}, {"name": "analytics"}]))


def test_example_stack_needs_only_the_license_key(local: Evaluation) -> None:
    assert read_stack_config("local").encrypted == frozenset()
    assert local.outputs["target"] == "local"
    assert set(local.outputs["instances"]) == {"main"}
    assert local.outputs["local"] == {
        "namespace": STORE_NAMESPACE,
        "postgres": f"{POSTGRES_HOST}:5432",
        "objectStore": S3_ENDPOINT,
        "bucket": "materialize",
    }
    for workload in ("postgres", "seaweedfs"):
        named(local, STATEFUL_SET, workload)
        named(local, SERVICE, workload)
    named(local, JOB, "bucket-materialize")
    named(local, JOB, "metadata-db-main")
    named(local, NAMESPACE, STORE_NAMESPACE)
    assert len(local.of_type(MATERIALIZE)) == 1
    assert any(r.inputs["chart"] == OPERATOR_CHART_NAME for r in local.of_type(RELEASE))


def test_components_are_typed_and_parent_every_resource(local: Evaluation) -> None:
    target = local.one("materialize:local:Target")
    local_types = {r.type for r in local.registered if r.type.startswith("materialize:local:")}
    assert local_types == {
        "materialize:local:Target",
        "materialize:local:Postgres",
        "materialize:local:ObjectStore",
        "materialize:local:Bucket",
        "materialize:local:MetadataDatabase",
    }
    ours = {target.urn}
    # Parents are registered before their children.
    for resource in local.registered:
        if resource.parent in ours:
            ours.add(resource.urn)
    for resource in local.registered:
        if resource.urn in ours and resource is not target:
            assert resource.name.startswith("local-"), resource.name
    store_objects = [
        r
        for r in local.registered
        if STORE_NAMESPACE in (r.inputs.get("metadata", {}).get("namespace"), r.inputs.get("metadata", {}).get("name"))
    ]
    assert store_objects and all(r.urn in ours for r in store_objects)


def test_provider_is_explicit_and_every_store_object_uses_it(local: Evaluation) -> None:
    provider = local.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == os.path.expanduser("~/.kube/config")
    assert not provider.inputs["kubeconfig"].startswith("~")
    assert provider.inputs["context"] == "kind-materialize"
    assert provider.inputs["clusterIdentifier"] == "local/kind-materialize"
    for resource in local.registered:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.name


def test_a_given_kubeconfig_path_and_context_are_used() -> None:
    evaluation = evaluate(local_stack(kubeconfig="/etc/clusters/minikube.yaml", kubeContext="minikube"))
    provider = evaluation.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "/etc/clusters/minikube.yaml"
    assert provider.inputs["context"] == "minikube"
    assert provider.inputs["clusterIdentifier"] == "local/minikube"


def test_postgres_runs_a_pinned_image_on_a_claim_with_generated_credentials(local: Evaluation) -> None:
    postgres = named(local, STATEFUL_SET, "postgres")
    spec = postgres.inputs["spec"]
    assert spec["replicas"] == 1
    assert spec["serviceName"] == "postgres"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    [claim] = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert "storageClassName" not in claim["spec"]

    main = container(postgres)
    assert PINNED.match(main["image"]) and main["image"].startswith("docker.io/library/postgres:18.")
    # The 18+ image keeps its data below this mount, in a version directory.
    assert main["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/postgresql"}]
    assert env(postgres) == {
        "POSTGRES_USER": ("secret", "postgres-superuser", "username"),
        "POSTGRES_PASSWORD": ("secret", "postgres-superuser", "password"),
    }
    assert main["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert main["resources"]["requests"] and main["resources"]["limits"]["memory"]

    service = named(local, SERVICE, "postgres")
    assert service.inputs["spec"]["selector"] == postgres.inputs["spec"]["selector"]["matchLabels"]
    assert (
        service.inputs["spec"]["selector"].items() <= postgres.inputs["spec"]["template"]["metadata"]["labels"].items()
    )
    assert [p["port"] for p in service.inputs["spec"]["ports"]] == [5432]

    superuser = named(local, SECRET, "postgres-superuser")
    assert superuser.is_secret("stringData.password")
    assert superuser.urn in postgres.dependencies


def test_object_store_runs_seaweedfs_with_its_identity_from_a_secret(local: Evaluation) -> None:
    store = named(local, STATEFUL_SET, "seaweedfs")
    main = container(store)
    assert PINNED.match(main["image"]) and "seaweedfs:" in main["image"]
    assert main["args"][0] == "mini"
    assert "-s3.port=8333" in main["args"] and "-s3.config=/etc/seaweedfs/s3.json" in main["args"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8333}
    [claim] = store.inputs["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    [volume] = pod_spec(store)["volumes"]
    assert volume["secret"]["secretName"] == "seaweedfs-s3"
    assert [p["port"] for p in named(local, SERVICE, "seaweedfs").inputs["spec"]["ports"]] == [8333]

    credentials = named(local, SECRET, "seaweedfs-s3")
    assert set(credentials.inputs["stringData"]) == {"s3.json", "accessKeyId", "secretAccessKey"}
    assert credentials.is_secret("stringData.s3.json")
    assert credentials.inputs["stringData"]["accessKeyId"] in credentials.inputs["stringData"]["s3.json"]


def test_bucket_job_creates_the_bucket_idempotently_after_the_store_is_up(local: Evaluation) -> None:
    job = named(local, JOB, "bucket-materialize")
    main = container(job)
    assert PINNED.match(main["image"]) and "aws-cli:" in main["image"]
    script = main["command"][-1]
    assert script.index("head-bucket") < script.index("create-bucket")
    assert env(job)["S3_ENDPOINT"] == S3_ENDPOINT
    assert env(job)["BUCKET"] == "materialize"
    assert env(job)["AWS_ACCESS_KEY_ID"] == ("secret", "seaweedfs-s3", "accessKeyId")
    assert env(job)["AWS_SECRET_ACCESS_KEY"] == ("secret", "seaweedfs-s3", "secretAccessKey")
    assert named(local, STATEFUL_SET, "seaweedfs").urn in job.dependencies


@pytest.mark.parametrize("job_name", ["bucket-materialize", "metadata-db-main"])
def test_setup_jobs_are_awaited_rerunnable_and_kept(local: Evaluation, job_name: str) -> None:
    job = named(local, JOB, job_name)
    # No pulumi.com/waitFor: the provider's own Job await (Complete / Failed) applies.
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
    assert "ttlSecondsAfterFinished" not in job.inputs["spec"]
    assert 0 < job.inputs["spec"]["backoffLimit"] <= 10
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job.options["deleteBeforeReplace"] is True


def test_each_instance_gets_its_own_database_job(local: Evaluation) -> None:
    job = named(local, JOB, "metadata-db-main")
    variables = env(job)
    assert variables["PGHOST"] == POSTGRES_HOST
    assert variables["PGPASSWORD"] == ("secret", "postgres-superuser", "password")
    assert variables["METADATA_ROLE"] == ("secret", "metadata-db-main", "username")
    assert variables["METADATA_PASSWORD"] == ("secret", "metadata-db-main", "password")
    assert "\\gexec" in variables["SETUP_SQL"] and "NOT EXISTS" in variables["SETUP_SQL"]
    assert named(local, STATEFUL_SET, "postgres").urn in job.dependencies
    assert named(local, SECRET, "metadata-db-main").urn in job.dependencies


def test_instances_wait_for_their_own_database_and_the_bucket_only(two: Evaluation) -> None:
    bucket = named(two, JOB, "bucket-materialize").urn
    stores = {named(two, STATEFUL_SET, name).urn for name in ("postgres", "seaweedfs")}
    for instance, other in (("main", "analytics"), ("analytics", "main")):
        resource = named(two, MATERIALIZE, instance)
        assert bucket in resource.dependencies
        assert named(two, JOB, f"metadata-db-{instance}").urn in resource.dependencies
        assert stores <= set(resource.dependencies)
        assert named(two, JOB, f"metadata-db-{other}").urn not in resource.dependencies
        assert named(two, MATERIALIZE, other).urn not in resource.dependencies


def test_backend_urls_point_at_the_in_cluster_stores(local: Evaluation) -> None:
    data = backend(local, "main")
    persist = parse_persist_url(data["persist_backend_url"])
    assert (persist.scheme, persist.bucket, persist.prefix) == ("s3", "materialize", "main")
    assert persist.endpoint == S3_ENDPOINT and persist.path_style
    assert persist.region == "us-east-1"
    assert persist.has_secret
    store = named(local, SECRET, "seaweedfs-s3").inputs["stringData"]
    assert persist.access_key_id == store["accessKeyId"]
    assert persist.secret_access_key == store["secretAccessKey"]

    metadata = parse_metadata_url(data["metadata_backend_url"])
    assert (metadata.host, metadata.port, metadata.database) == (POSTGRES_HOST, 5432, "materialize_main")
    assert "options" not in data["metadata_backend_url"]
    credentials = named(local, SECRET, "metadata-db-main").inputs["stringData"]
    assert (metadata.user, metadata.password) == (credentials["username"], credentials["password"])
    assert metadata.sslmode == "disable"


def test_two_instances_get_two_databases_two_prefixes_and_two_roles(two: Evaluation) -> None:
    urls = {name: backend(two, name) for name in ("main", "analytics")}
    prefixes = {name: parse_persist_url(u["persist_backend_url"]).prefix for name, u in urls.items()}
    assert prefixes == {"main": "main", "analytics": "analytics"}
    databases = {name: parse_metadata_url(u["metadata_backend_url"]) for name, u in urls.items()}
    assert databases["main"].database == "materialize_main"
    assert databases["analytics"].database == "materialize_analytics"
    assert databases["main"].user != databases["analytics"].user
    assert databases["main"].password != databases["analytics"].password
    assert len(two.of_type(JOB)) == 3


def test_generated_passwords_appear_only_as_secrets(two: Evaluation) -> None:
    passwords = [r.state["result"] for r in two.of_type(RANDOM_PASSWORD)]
    # stores, one role per instance, mz_system per instance, Grafana's admin (monitoring)
    assert len(passwords) == 3 + 2 + 2 + 1
    holding = paths_holding(two, passwords)
    for resource, path in holding:
        assert resource.is_secret(path), f"{resource.name}: {path} holds a password in plain text"
    assert len(holding) >= 6


def test_swap_is_off_unless_asserted(local: Evaluation) -> None:
    assert operator_values(local)["operator"]["clusters"]["swap_enabled"] is False
    config = local_stack()
    del config["swap"]
    assert operator_values(evaluate(config))["operator"]["clusters"]["swap_enabled"] is False
    assert operator_values(evaluate(local_stack(swap=True)))["operator"]["clusters"]["swap_enabled"] is True


def test_operator_runs_as_a_local_cloud_provider(local: Evaluation) -> None:
    values = operator_values(local)
    assert values["operator"]["cloudProvider"] == {"type": "local", "region": "local"}
    regional = operator_values(evaluate(local_stack(region="laptop")))
    assert regional["operator"]["cloudProvider"] == {"type": "local", "region": "laptop"}
    # No cloud load balancer: the instance's services stay inside the cluster.
    for service in ("main-balancerd-lb", "main-console-lb"):
        assert named(local, SERVICE, service).inputs["spec"]["type"] == "ClusterIP"


def test_data_is_protected_by_default(local: Evaluation) -> None:
    for workload in ("postgres", "seaweedfs"):
        assert named(local, STATEFUL_SET, workload).protect
    assert named(local, NAMESPACE, STORE_NAMESPACE).protect
    for password in local.of_type(RANDOM_PASSWORD):
        if password.name.startswith("local-"):
            assert password.protect, password.name


def test_throwaway_stacks_protect_nothing() -> None:
    evaluation = evaluate(local_stack(protectData=False))
    assert not [r.name for r in evaluation.registered if r.protect]


def test_network_policies_admit_only_the_service_ports(local: Evaluation) -> None:
    for app, port in (("postgres", 5432), ("seaweedfs", 8333)):
        policy = named(local, NETWORK_POLICY, app)
        assert policy.inputs["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": app}
        assert policy.inputs["spec"]["ingress"] == [{"ports": [{"port": port, "protocol": "TCP"}]}]
    assert not evaluate(local_stack(networkPolicies=False)).of_type(NETWORK_POLICY)


def test_local_settings_reach_the_volume_claims() -> None:
    evaluation = evaluate(
        local_stack(local={"storageClass": "local-path", "postgresStorage": "2Gi", "objectStoreStorage": "5Gi"})
    )
    sizes = {}
    for workload in ("postgres", "seaweedfs"):
        [claim] = named(evaluation, STATEFUL_SET, workload).inputs["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "local-path"
        sizes[workload] = claim["spec"]["resources"]["requests"]["storage"]
    assert sizes == {"postgres": "2Gi", "seaweedfs": "5Gi"}


def test_unknown_local_setting_is_refused_by_name() -> None:
    with pytest.raises(pulumi.RunError, match=r"materialize:local\.storgeClass: unknown key.*storageClass"):
        evaluate(local_stack(local={"storgeClass": "local-path"}))


def test_system_node_placement_reaches_the_store_pods() -> None:
    placement = {
        "system": {"nodeSelector": {"role": "system"}, "tolerations": [{"key": "system", "operator": "Exists"}]}
    }
    evaluation = evaluate(local_stack(nodePlacement=placement))
    for workload in (named(evaluation, STATEFUL_SET, "postgres"), named(evaluation, JOB, "metadata-db-main")):
        assert pod_spec(workload)["nodeSelector"] == {"role": "system"}
        assert pod_spec(workload)["tolerations"] == [{"key": "system", "operator": "Exists"}]


def test_an_instance_may_not_share_the_stores_namespace() -> None:
    with pytest.raises(pulumi.RunError, match=r"instances\[1\].*materialize-local"):
        evaluate(local_stack(instances=[{"name": "main"}, {"name": "local"}]))


def test_longest_instance_name_fits_every_derived_name() -> None:
    name = "a" * 40
    evaluation = evaluate(local_stack(instances=[{"name": name}]))
    job = named(evaluation, JOB, f"metadata-db-{name}")
    assert len(job.inputs["metadata"]["name"]) <= 63
    assert len(parse_metadata_url(backend(evaluation, name)["metadata_backend_url"]).database or "") <= 63


def test_every_plain_kubernetes_object_passes_strict_validation(two: Evaluation) -> None:
    plain = [r for r in two.registered if is_plain_object(r)]
    assert {STATEFUL_SET, JOB, NETWORK_POLICY, SERVICE, SECRET, NAMESPACE} <= {r.type for r in plain}
    for resource in plain:
        validate_strict(resource)


def test_evaluating_twice_gives_identical_inputs() -> None:
    config = local_stack(instances=[{"name": "main"}, {"name": "analytics"}])
    assert evaluate(config).desired_state() == evaluate(config).desired_state()


def test_the_contract_hands_over_urls_as_secrets() -> None:
    settings = load_settings(local_stack(instances=[{"name": "main"}]), frozenset({"licenseKey"}))
    result = LocalTarget("local", settings).result
    identity = InstanceIdentity(namespace="materialize-main", name="main")
    database = result.metadata.database_for(identity)
    access = result.blob.access_for(identity)
    for url in (database.url, access.persist_url):
        assert sync_await(url.is_secret())
    assert sync_await(access.persist_url.future()).startswith("s3://")
    assert "search_path" not in sync_await(database.url.future())
    with pytest.raises(KeyError, match="other"):
        result.metadata.database_for(InstanceIdentity(namespace="materialize-other", name="other"))
