"""The aws example stack, evaluated under mocks: assertions on the registered graph."""

from __future__ import annotations

import base64
import ipaddress
import json
import subprocess
import sys
import tomllib

import pulumi
import pytest

from components.metadata_url import parse_metadata_url
from components.persist_url import parse_persist_url
from components.targets.aws.pins import DISK_SETUP_IMAGE
from components.targets.aws.regions import known_regions, region_problem
from components.versions import OPERATOR_CHART_NAME
from tests.harness.graph import upstream
from tests.harness.kubernetes_objects import is_plain_object, validate_strict
from tests.harness.mocks import RealisticMocks, RecordingMonitor
from tests.harness.stack import Evaluation, evaluate, named, paths_holding
from tests.support.chart_values import chart_defaults, unknown_keys
from tests.targets.aws.stack import (
    ACCESS_ENTRY,
    ACCESS_POLICY,
    ADDON,
    BUCKET,
    BUCKET_POLICY,
    CLUSTER,
    ENCRYPTION,
    INGRESS_RULE,
    JOB,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    LIFECYCLE,
    MATERIALIZE,
    NAT,
    NODE_GROUP,
    OIDC,
    OWNERSHIP,
    PARAMETER_GROUP,
    PUBLIC_ACCESS,
    RANDOM_PASSWORD,
    RDS,
    ROLE,
    ROLE_POLICY,
    SECRET,
    SECURITY_GROUP,
    SERVICE,
    SUBNET,
    VERSIONING,
    VPC,
    accepts_tags,
    aws_settings,
    aws_stack,
    ending,
    mock_id,
    policy,
    release,
)
from tools.offline.aws_mocks import ACCOUNT_ID, CALLER_ARN, CALLER_ROLE_ARN
from tools.stack_files import ROOT, read_stack_config

TAGS = {"project": "materialize", "environment": "production"}
TAINT = {"key": "materialize.cloud/workload", "value": "materialize-instance", "effect": "NO_SCHEDULE"}
TOLERATION = {
    "key": "materialize.cloud/workload",
    "operator": "Equal",
    "value": "materialize-instance",
    "effect": "NoSchedule",
}


@pytest.fixture(scope="module")
def two() -> Evaluation:
    return evaluate(aws_stack(instances=[{"name": "main"}, {"name": "analytics", "namespace": "analytics"}]))


def operator_values(evaluation: Evaluation) -> dict[str, object]:
    return release(evaluation, OPERATOR_CHART_NAME).inputs["values"]


def materialize_group(evaluation: Evaluation) -> dict[str, object]:
    return ending(evaluation, NODE_GROUP, "-materialize-nodes-group").inputs


def node_settings(evaluation: Evaluation, group: str) -> str:
    template = ending(evaluation, LAUNCH_TEMPLATE, f"-{group}-nodes-template").inputs
    return base64.b64decode(template["userData"]).decode() if "userData" in template else ""


# --- the example and the component tree ----------------------------------------------------------


def test_example_stack_needs_only_the_license_key(example: Evaluation) -> None:
    assert read_stack_config("aws").encrypted == frozenset()
    assert example.outputs["target"] == "aws"
    assert example.outputs["aws"]["region"] == "us-east-1"
    assert example.outputs["aws"]["clusterName"] == "materialize-dev"
    assert set(example.outputs["instances"]) == {"main"}
    assert {"kubeconfig", "connectionStrings"} <= example.secret_outputs


def test_components_are_typed_and_parent_everything(example: Evaluation) -> None:
    target = example.one("materialize:aws:Target")
    types = {r.type for r in example.registered if r.type.startswith("materialize:aws:")}
    assert types == {
        "materialize:aws:Target",
        "materialize:aws:Network",
        "materialize:aws:Cluster",
        "materialize:aws:NodeGroup",
        "materialize:aws:ClusterAddons",
        "materialize:aws:LoadBalancerController",
        "materialize:aws:Database",
        "materialize:aws:BlockStorage",
        "materialize:aws:DatabaseSetup",
        "materialize:aws:MetadataDatabase",
        "materialize:aws:Bucket",
        "materialize:aws:InstanceRole",
        "materialize:aws:InterfaceCleanup",
        "materialize:aws:VolumeCleanup",
    }
    ours = {target.urn}
    for resource in example.registered:
        if resource.parent in ours:
            ours.add(resource.urn)
    for resource in example.registered:
        if resource.type.startswith("aws:") or resource.type == "pulumi:providers:aws":
            assert resource.urn in ours, resource.name
        if resource.urn in ours and resource is not target:
            assert resource.name.startswith("aws-"), resource.name


def test_every_aws_resource_uses_the_explicit_regional_provider(example: Evaluation) -> None:
    provider = example.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    for resource in example.registered:
        if resource.type.startswith("aws:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.name
    for call in example.mocks.calls:
        assert call.provider.startswith(provider.urn + "::"), call.token


def test_every_taggable_resource_carries_the_stack_tags(example: Evaluation) -> None:
    taggable = [r for r in example.registered if r.type.startswith("aws:") and accepts_tags(r.type)]
    assert len(taggable) > 40
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert TAGS.items() <= tags.items(), f"{resource.type} {resource.name}: {tags}"
    for template in example.of_type(LAUNCH_TEMPLATE):
        kinds = {spec["resourceType"]: spec["tags"] for spec in template.inputs["tagSpecifications"]}
        assert set(kinds) == {"instance", "volume", "network-interface"}
        assert all(TAGS.items() <= tags.items() for tags in kinds.values())
    # Load balancers, target groups and their security groups come from the controller.
    assert release(example, "aws-load-balancer-controller").inputs["values"]["defaultTags"] == TAGS


# --- network ---------------------------------------------------------------------------------------


def test_new_vpc_spans_three_zones_with_tagged_private_and_public_subnets(example: Evaluation) -> None:
    vpc = example.one(VPC)
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True and vpc.inputs["enableDnsSupport"] is True
    subnets = example.of_type(SUBNET)
    private = [s for s in subnets if "-private-" in s.name]
    public = [s for s in subnets if "-public-" in s.name]
    # The first three zone ids that offer both types (use1-az1, az2, az4), under this account's names.
    zones = ["us-east-1a", "us-east-1c", "us-east-1d"]
    assert sorted(s.inputs["availabilityZone"] for s in private) == zones
    assert sorted(s.inputs["availabilityZone"] for s in public) == zones
    for subnet in private:
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["tags"]["kubernetes.io/cluster/materialize-dev"] == "shared"
    for subnet in public:
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(block.subnet_of(ipaddress.ip_network("10.0.0.0/16")) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    # Pods take private addresses: the private subnets are the big ones.
    assert all(ipaddress.ip_network(s.inputs["cidrBlock"]).prefixlen == 19 for s in private)
    assert len(example.of_type(NAT)) == 3


def test_a_single_nat_gateway_serves_every_zone() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(natGateways="single", zoneCount=2)))
    [nat] = evaluation.of_type(NAT)
    routes = [r for r in evaluation.of_type("aws:ec2/route:Route") if r.name.endswith("-nat")]
    assert len(routes) == 2
    assert {route.inputs["natGatewayId"] for route in routes} == {mock_id(nat)}
    assert len(evaluation.of_type(SUBNET)) == 4


def test_an_existing_vpc_is_used_as_given() -> None:
    private = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
    evaluation = evaluate(
        aws_stack(aws=aws_settings(existingVpcId="vpc-0123456789abcdef0", existingPrivateSubnetIds=private))
    )
    for token in (VPC, SUBNET, NAT, "aws:ec2/internetGateway:InternetGateway"):
        assert not evaluation.of_type(token), token
    assert evaluation.one(CLUSTER).inputs["vpcConfig"]["subnetIds"] == private
    assert evaluation.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == private
    nodes = ending(evaluation, SECURITY_GROUP, "-network-nodes")
    assert nodes.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert release(evaluation, "aws-load-balancer-controller").inputs["values"]["vpcId"] == "vpc-0123456789abcdef0"
    # No zone lookup is needed when the subnets are given.
    assert not [c for c in evaluation.mocks.calls if c.token.endswith("getAvailabilityZones")]


# --- EKS -------------------------------------------------------------------------------------------


def test_control_plane_is_private_first_encrypted_and_logged(example: Evaluation) -> None:
    cluster = example.one(CLUSTER).inputs
    assert cluster["version"] == "1.35"
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster["vpcConfig"]["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert all("-private-" in subnet for subnet in cluster["vpcConfig"]["subnetIds"])
    assert cluster["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert cluster["bootstrapSelfManagedAddons"] is False
    secrets_key = ending(example, KMS_KEY, "-secrets-key")
    assert secrets_key.inputs["enableKeyRotation"] is True
    assert cluster["encryptionConfig"] == {
        "resources": ["secrets"],
        "provider": {"keyArn": secrets_key.state["arn"]},
    }
    assert cluster["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    logs = ending(example, "aws:cloudwatch/logGroup:LogGroup", "-cluster-logs")
    assert logs.inputs["name"] == "/aws/eks/materialize-dev/cluster"
    assert logs.inputs["retentionInDays"] == 90
    assert logs.urn in example.one(CLUSTER).dependencies


def test_a_private_only_endpoint_needs_no_allowlist() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(apiPublicAccess=False, apiAllowedCidrs=[])))
    vpc_config = evaluation.one(CLUSTER).inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is False and "publicAccessCidrs" not in vpc_config


def test_the_deploying_role_and_configured_admins_are_cluster_admins(example: Evaluation) -> None:
    # The SSO session resolves to its role: access entries name IAM principals.
    [entry] = example.of_type(ACCESS_ENTRY)
    assert entry.inputs["principalArn"] == CALLER_ROLE_ARN != CALLER_ARN
    assert entry.inputs["type"] == "STANDARD"
    [association] = example.of_type(ACCESS_POLICY)
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}
    provider = example.one("pulumi:providers:kubernetes")
    assert association.urn in provider.dependencies

    extra = f"arn:aws:iam::{ACCOUNT_ID}:role/platform-oncall"
    evaluation = evaluate(aws_stack(aws=aws_settings(adminPrincipalArns=[extra, CALLER_ROLE_ARN])))
    assert sorted(e.inputs["principalArn"] for e in evaluation.of_type(ACCESS_ENTRY)) == sorted(
        [CALLER_ROLE_ARN, extra]
    )
    # Entries are named after their principal, so the deployer's keeps its name.
    assert entry.name in {e.name for e in evaluation.of_type(ACCESS_ENTRY)}


def test_kubeconfig_is_exec_based_secret_and_the_provider_has_a_stable_identity(example: Evaluation) -> None:
    provider = example.one("pulumi:providers:kubernetes")
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["clusterIdentifier"] == "materialize-dev"
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "materialize-dev"]
    assert "--region" in user["user"]["exec"]["args"] and "us-east-1" in user["user"]["exec"]["args"]
    assert "token" not in provider.inputs["kubeconfig"].lower().replace("get-token", "")
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")
    assert example.outputs["kubeconfig"] == provider.inputs["kubeconfig"]
    for resource in example.registered:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn + "::"), resource.name


def test_irsa_provider_and_core_addons(example: Evaluation) -> None:
    oidc = example.one(OIDC)
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    addons = {a.inputs["addonName"]: a for a in example.of_type(ADDON)}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}
    for addon in addons.values():
        assert addon.inputs["addonVersion"].endswith(tuple(f"-eksbuild.{n}" for n in range(1, 10)))
    # The CNI's AWS permissions belong to its own service account, not to the nodes.
    cni_role = ending(example, ROLE, "-cluster-vpc-cni")
    assert addons["vpc-cni"].inputs["serviceAccountRoleArn"] == cni_role.state["arn"]
    trust = policy(cni_role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:kube-system:aws-node" in trust.values()
    # Nodes come after the network add-ons; CoreDNS after the system nodes it runs on, not the others.
    for group in example.of_type(NODE_GROUP):
        assert {addons["vpc-cni"].urn, addons["kube-proxy"].urn} <= upstream(example, group)
    groups = {g.name.split("-")[1]: g for g in example.of_type(NODE_GROUP)}
    assert set(groups) == {"system", "materialize"}
    assert groups["system"].urn in addons["coredns"].dependencies
    assert groups["materialize"].urn not in upstream(example, addons["coredns"])
    metrics = release(example, "metrics-server")
    assert metrics.inputs["version"] == "3.13.0"
    assert metrics.inputs["values"]["nodeSelector"] == {"workload": "system"}


# --- nodes -----------------------------------------------------------------------------------------


def test_materialize_nodes_are_tainted_labelled_arm_bottlerocket_with_nvme(example: Evaluation) -> None:
    group = materialize_group(example)
    assert group["amiType"] == "BOTTLEROCKET_ARM_64"
    assert group["instanceTypes"] == ["r7gd.2xlarge"]
    assert group["labels"] == {"materialize.cloud/swap": "true", "workload": "materialize-instance"}
    assert group["taints"] == [TAINT]
    assert group["scalingConfig"] == {"desiredSize": 1, "minSize": 1, "maxSize": 1}
    system = ending(example, NODE_GROUP, "-system-nodes-group").inputs
    assert system["labels"] == {"workload": "system"} and not system.get("taints")
    assert system["scalingConfig"]["desiredSize"] == 2


def test_swap_nodes_run_the_pinned_disk_setup_as_a_bootstrap_container(example: Evaluation) -> None:
    settings = node_settings(example, "materialize")
    assert "[settings.bootstrap-containers.diskstrap]" in settings
    assert f'source = "{DISK_SETUP_IMAGE}"' in settings
    assert DISK_SETUP_IMAGE.startswith("docker.io/materialize/ephemeral-storage-setup-image:v")
    assert 'mode = "always"' in settings and "essential = true" in settings
    encoded = next(line for line in settings.splitlines() if line.startswith("user-data = "))
    arguments = json.loads(base64.b64decode(json.loads(encoded.removeprefix("user-data = "))))
    assert arguments == ["swap", "--cloud-provider", "aws", "--bottlerocket-enable-swap"]
    for line in ('"vm.swappiness" = "100"', '"vm.min_free_kbytes" = "1048576"', '"vm.watermark_scale_factor" = "100"'):
        assert line in settings
    assert node_settings(example, "system") == ""


def test_materialize_nodes_raise_the_open_files_limit(example: Evaluation) -> None:
    # The limit Materialize's Terraform gives its Bottlerocket nodes (karpenter-ec2nodeclass/main.tf).
    settings = tomllib.loads(node_settings(example, "materialize"))["settings"]
    limit = settings["oci-defaults"]["resource-limits"]["max-open-files"]
    assert limit == {"soft-limit": 1048576, "hard-limit": 1048576}
    assert settings["bootstrap-containers"]["diskstrap"]["essential"] is True


def test_node_launch_templates_require_imdsv2_and_encrypt_volumes(example: Evaluation) -> None:
    nodes = ending(example, SECURITY_GROUP, "-network-nodes")
    cluster = example.one(CLUSTER)
    for template in example.of_type(LAUNCH_TEMPLATE):
        inputs = template.inputs
        assert inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }
        assert [m["deviceName"] for m in inputs["blockDeviceMappings"]] == ["/dev/xvda", "/dev/xvdb"]
        assert all(m["ebs"]["encrypted"] == "true" for m in inputs["blockDeviceMappings"])
        assert inputs["vpcSecurityGroupIds"] == [
            cluster.state["vpcConfig"]["clusterSecurityGroupId"],
            mock_id(nodes),
        ]
    for group in example.of_type(NODE_GROUP):
        template = group.inputs["launchTemplate"]
        assert template["version"] == "1"


def test_operator_values_place_materialize_on_its_nodes_and_name_the_account(example: Evaluation) -> None:
    values = operator_values(example)
    placement = {
        "nodeSelector": {"materialize.cloud/swap": "true", "workload": "materialize-instance"},
        "tolerations": [TOLERATION],
    }
    for workload in ("environmentd", "clusterd", "balancerd", "console"):
        assert values[workload] == placement, workload
    # The taint the tolerations match is exactly the node group's.
    [taint] = materialize_group(example)["taints"]
    assert (taint["key"], taint["value"]) == (TOLERATION["key"], TOLERATION["value"])
    assert values["operator"]["nodeSelector"] == {"workload": "system"}
    assert values["operator"]["cloudProvider"] == {
        "type": "aws",
        "region": "us-east-1",
        "providers": {"aws": {"enabled": True, "accountID": ACCOUNT_ID}},
    }
    assert values["operator"]["clusters"]["swap_enabled"] is True


def test_swap_off_drops_the_swap_label_and_the_disk_setup() -> None:
    evaluation = evaluate(aws_stack(swap=False, aws=aws_settings(materializeInstanceType="r7g.2xlarge")))
    assert materialize_group(evaluation)["labels"] == {"workload": "materialize-instance"}
    settings = tomllib.loads(node_settings(evaluation, "materialize"))["settings"]
    assert set(settings) == {"oci-defaults"}
    values = operator_values(evaluation)
    assert values["clusterd"]["nodeSelector"] == {"workload": "materialize-instance"}
    assert values["operator"]["clusters"]["swap_enabled"] is False


def test_x86_instance_types_get_the_x86_image() -> None:
    evaluation = evaluate(
        aws_stack(aws=aws_settings(materializeInstanceType="r6id.2xlarge", systemInstanceType="m7i.large"))
    )
    assert {g.inputs["amiType"] for g in evaluation.of_type(NODE_GROUP)} == {"BOTTLEROCKET_x86_64"}


# --- database --------------------------------------------------------------------------------------


def test_postgres_is_private_encrypted_tls_only_and_backed_up(example: Evaluation) -> None:
    instance = example.one(RDS)
    inputs = instance.inputs
    assert inputs["engine"] == "postgres" and inputs["engineVersion"] == "17"
    assert int(inputs["engineVersion"]) >= 15
    assert inputs["publiclyAccessible"] is False
    assert inputs["storageEncrypted"] is True
    assert inputs["backupRetentionPeriod"] >= 7
    assert inputs["autoMinorVersionUpgrade"] is True
    assert instance.is_secret("password")
    parameters = example.one(PARAMETER_GROUP).inputs
    assert parameters["family"] == "postgres17"
    assert {"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"} in parameters["parameters"]
    assert inputs["parameterGroupName"] == example.one(PARAMETER_GROUP).state["name"]
    subnets = example.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]
    assert subnets and all("-private-" in subnet for subnet in subnets)


def test_postgres_admits_5432_from_the_node_security_group_only(example: Evaluation) -> None:
    database_group = ending(example, SECURITY_GROUP, "-database-security-group")
    [rule] = example.of_type(INGRESS_RULE)
    nodes = ending(example, SECURITY_GROUP, "-network-nodes")
    assert rule.inputs["securityGroupId"] == mock_id(database_group)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 5432, 5432)
    assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    assert rule.inputs["referencedSecurityGroupId"] == mock_id(nodes)
    assert not database_group.inputs.get("ingress")
    # Every node carries that group.
    for template in example.of_type(LAUNCH_TEMPLATE):
        assert rule.inputs["referencedSecurityGroupId"] in template.inputs["vpcSecurityGroupIds"]


def test_data_is_protected_by_default(example: Evaluation) -> None:
    instance = example.one(RDS)
    assert instance.protect
    assert instance.inputs["deletionProtection"] is True
    assert instance.inputs["skipFinalSnapshot"] is False
    assert instance.inputs["finalSnapshotIdentifier"].startswith("materialize-metadata-final-")
    bucket = example.one(BUCKET)
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    for password in example.of_type(RANDOM_PASSWORD):
        if password.name.startswith("aws-"):
            assert password.protect, password.name


def test_throwaway_stacks_protect_nothing() -> None:
    evaluation = evaluate(aws_stack(protectData=False, aws=aws_settings(bucketEncryption="sse-kms")))
    assert not [r.name for r in evaluation.registered if r.protect]
    instance = evaluation.one(RDS).inputs
    assert instance["deletionProtection"] is False
    assert evaluation.one(CLUSTER).inputs["deletionProtection"] is False
    assert evaluation.one(BUCKET).inputs["forceDestroy"] is True


def test_each_instance_gets_its_own_database_from_an_idempotent_job(two: Evaluation) -> None:
    master = named(two, SECRET, "rds-master")
    assert master.is_secret("stringData.password")
    rds = two.one(RDS)
    for instance in ("main", "analytics"):
        job = named(two, JOB, f"metadata-db-{instance}")
        container = job.inputs["spec"]["template"]["spec"]["containers"][0]
        # Every variable is a plain value: the credentials come as files of Secret volumes.
        env = {v["name"]: v["value"] for v in container["env"]}
        assert env["PGSSLMODE"] == "require"
        assert "\\gexec" in env["SETUP_SQL"] and "NOT EXISTS" in env["SETUP_SQL"]
        volumes = {v["name"]: v for v in job.inputs["spec"]["template"]["spec"]["volumes"]}
        assert volumes["master"]["secret"] == {"secretName": "rds-master", "defaultMode": 0o440}
        assert volumes["credentials"]["secret"] == {"secretName": f"metadata-db-{instance}", "defaultMode": 0o440}
        assert volumes["scratch"]["emptyDir"]["medium"] == "Memory"
        assert container["image"].startswith("docker.io/library/postgres:")
        assert job.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
        assert job.options["deleteBeforeReplace"] is True
        assert rds.urn in upstream(two, job)
        assert job.inputs["spec"]["template"]["spec"]["nodeSelector"] == {"workload": "system"}


def test_metadata_urls_are_secret_per_instance_and_require_tls(two: Evaluation) -> None:
    address = two.one(RDS).state["address"]
    seen = {}
    for instance in ("main", "analytics"):
        backend = named(two, SECRET, f"{instance}-materialize-backend")
        assert backend.is_secret("stringData.metadata_backend_url")
        url = parse_metadata_url(backend.inputs["stringData"]["metadata_backend_url"])
        assert (url.host, url.port, url.sslmode) == (address, 5432, "require")
        assert url.database == url.user == f"materialize_{instance}"
        assert "options" not in backend.inputs["stringData"]["metadata_backend_url"]
        credentials = named(two, SECRET, f"metadata-db-{instance}").inputs["stringData"]
        assert url.password == credentials["password"]
        seen[instance] = url.password
    assert seen["main"] != seen["analytics"]


# --- bucket and per-instance identity --------------------------------------------------------------


def test_bucket_is_private_encrypted_tls_only_and_expires_old_versions(example: Evaluation) -> None:
    block = example.one(PUBLIC_ACCESS).inputs
    for switch in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[switch] is True, switch
    assert example.one(OWNERSHIP).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    [rule] = example.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    statement = policy(example.one(BUCKET_POLICY))["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    arn = example.one(BUCKET).state["arn"]
    assert statement["Resource"] == [arn, f"{arn}/*"]
    assert example.one(VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}
    rules = {r["id"]: r for r in example.one(LIFECYCLE).inputs["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_unversioned_bucket_has_no_version_rule_and_kms_encryption_is_optional() -> None:
    evaluation = evaluate(aws_stack(aws=aws_settings(bucketVersioning=False, bucketEncryption="sse-kms")))
    assert not evaluation.of_type(VERSIONING)
    assert {r["id"] for r in evaluation.one(LIFECYCLE).inputs["rules"]} == {"abort-incomplete-uploads"}
    key = ending(evaluation, KMS_KEY, "-persist-key")
    assert key.protect
    [rule] = evaluation.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    permissions = policy(ending(evaluation, ROLE_POLICY, "-main-role-persist"))["Statement"]
    assert {
        "Sid": "BucketKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key.state["arn"],
    } in permissions


def test_each_instance_role_trusts_exactly_its_service_account(two: Evaluation) -> None:
    oidc = two.one(OIDC)
    issuer = oidc.inputs["url"].removeprefix("https://")
    for instance, namespace in (("main", "materialize-main"), ("analytics", "analytics")):
        role = ending(two, ROLE, f"-{instance}-role-role")
        [statement] = policy(role, "assumeRolePolicy")["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": oidc.state["arn"]}
        assert statement["Condition"] == {
            "StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{instance}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        }
        assert "*" not in json.dumps(statement)


def test_each_instance_role_reaches_only_its_prefix(two: Evaluation) -> None:
    arn = two.one(BUCKET).state["arn"]
    for instance in ("main", "analytics"):
        statements = {s["Sid"]: s for s in policy(ending(two, ROLE_POLICY, f"-{instance}-role-persist"))["Statement"]}
        assert set(statements) == {"OwnObjects", "ListOwnPrefix"}
        assert statements["OwnObjects"]["Resource"] == f"{arn}/{instance}/*"
        assert set(statements["OwnObjects"]["Action"]) == {
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
        }
        assert statements["ListOwnPrefix"]["Resource"] == arn
        assert statements["ListOwnPrefix"]["Condition"] == {"StringLike": {"s3:prefix": [instance, f"{instance}/*"]}}


def test_instances_carry_their_role_and_a_credential_free_url_under_their_prefix(two: Evaluation) -> None:
    bucket = two.one(BUCKET).state["bucket"]
    for instance in ("main", "analytics"):
        resource = named(two, MATERIALIZE, instance)
        role = ending(two, ROLE, f"-{instance}-role-role")
        assert resource.inputs["spec"]["serviceAccountAnnotations"] == {"eks.amazonaws.com/role-arn": role.state["arn"]}
        url = parse_persist_url(
            named(two, SECRET, f"{instance}-materialize-backend").inputs["stringData"]["persist_backend_url"]
        )
        assert (url.bucket, url.prefix, url.region) == (bucket, instance, "us-east-1")
        assert not url.has_secret and url.endpoint is None


# --- ordering --------------------------------------------------------------------------------------


def test_instances_wait_only_for_what_they_read(two: Evaluation) -> None:
    for instance, other in (("main", "analytics"), ("analytics", "main")):
        resource = named(two, MATERIALIZE, instance)
        waits = set(resource.dependencies)
        assert named(two, JOB, f"metadata-db-{instance}").urn in waits
        assert named(two, JOB, f"metadata-db-{other}").urn not in waits
        assert ending(two, ROLE, f"-{instance}-role-role").urn in waits
        assert ending(two, ROLE, f"-{other}-role-role").urn not in waits
        assert {two.one(BUCKET_POLICY).urn, two.one(ENCRYPTION).urn} <= waits


def test_the_database_never_waits_for_the_cluster(example: Evaluation) -> None:
    cluster = example.one(CLUSTER).urn
    for token in (RDS, BUCKET, BUCKET_POLICY):
        assert cluster not in upstream(example, example.one(token)), token
    assert example.one(VPC).urn in upstream(example, example.one(RDS))


def test_load_balancers_are_deleted_before_the_network_and_in_cluster_objects_go_with_the_cluster(
    example: Evaluation,
) -> None:
    controller = release(example, "aws-load-balancer-controller")
    subnets = {s.urn for s in example.of_type(SUBNET)}
    nat_routes = {r.urn for r in example.of_type("aws:ec2/route:Route") if r.name.endswith("-nat")}
    for service in example.of_type(SERVICE):
        waits = upstream(example, service)
        # Deleted while the controller still runs, and before subnets, NAT and VPC.
        assert controller.urn in waits, service.name
        assert subnets <= waits and nat_routes <= waits and example.one(VPC).urn in waits
    cluster = example.one(CLUSTER).urn
    ours = [
        r for r in example.registered if r.type.startswith("kubernetes:") and r.parent.split("::")[-1].startswith("aws")
    ]
    assert ours
    for resource in ours:
        assert resource.options["deletedWith"] == cluster, resource.name


# --- exposure --------------------------------------------------------------------------------------


def test_services_get_internal_nlbs_with_per_app_health_checks(example: Evaluation) -> None:
    health = {"balancerd": ("http", "8080", "/api/readyz"), "console": ("https", "traffic-port", "/")}
    for app, (protocol, port, path) in health.items():
        service = named(example, SERVICE, f"main-{app}-lb")
        annotations = service.inputs["metadata"]["annotations"]
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol"] == protocol
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-port"] == port
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-healthcheck-path"] == path
        assert service.inputs["spec"]["type"] == "LoadBalancer"
        assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/16"]


def test_public_exposure_is_internet_facing_and_keeps_its_allowlist() -> None:
    evaluation = evaluate(
        aws_stack(instances=[{"name": "main", "exposure": {"type": "public", "allowedCidrs": ["198.51.100.0/24"]}}])
    )
    for app in ("balancerd", "console"):
        service = named(evaluation, SERVICE, f"main-{app}-lb")
        assert (
            service.inputs["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"]
            == "internet-facing"
        )
        assert service.inputs["spec"]["loadBalancerSourceRanges"] == ["198.51.100.0/24"]


def test_load_balancer_controller_runs_with_its_own_irsa_role(example: Evaluation) -> None:
    controller = release(example, "aws-load-balancer-controller")
    assert controller.inputs["version"] == "3.5.0"
    assert controller.inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    values = controller.inputs["values"]
    role = ending(example, ROLE, "-lb-controller-role")
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role.state["arn"]}
    assert values["clusterName"] == "materialize-dev" and values["region"] == "us-east-1"
    condition = policy(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:kube-system:aws-load-balancer-controller" in condition.values()
    document = policy(ending(example, "aws:iam/policy:Policy", "-lb-controller-policy"))
    assert any("elasticloadbalancing:CreateLoadBalancer" in s["Action"] for s in document["Statement"])


def test_load_balancer_controller_values_exist_in_its_chart_and_its_service_webhook_is_off(
    example: Evaluation,
) -> None:
    values = release(example, "aws-load-balancer-controller").inputs["values"]
    # The webhook would intercept every Service create and fail closed; ours name the controller anyway.
    assert values["enableServiceMutatorWebhook"] is False
    for service in example.of_type(SERVICE):
        annotations = service.inputs["metadata"]["annotations"]
        assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external", service.name
    defaults = chart_defaults("aws-load-balancer-controller")
    assert defaults["enableServiceMutatorWebhook"] is True
    # defaultTags is a map the chart defaults to empty: any tags go.
    assert unknown_keys(values, defaults, set()) == []


# --- secrets, schemas, determinism ----------------------------------------------------------------


def test_generated_passwords_appear_only_as_secrets(two: Evaluation) -> None:
    passwords = [r.state["result"] for r in two.of_type(RANDOM_PASSWORD)]
    # RDS master, one role per instance, mz_system per instance, Grafana's admin (monitoring)
    assert len(passwords) == 1 + 2 + 2 + 1
    holding = paths_holding(two, passwords)
    for resource, path in holding:
        assert resource.is_secret(path), f"{resource.name}: {path} holds a password in plain text"
    assert len(holding) >= 6


def test_every_plain_kubernetes_object_passes_strict_validation(two: Evaluation) -> None:
    plain = [r for r in two.registered if is_plain_object(r)]
    assert {JOB, SECRET, SERVICE} <= {r.type for r in plain}
    for resource in plain:
        validate_strict(resource)


def test_evaluating_twice_gives_identical_inputs() -> None:
    config = aws_stack(instances=[{"name": "main"}, {"name": "analytics"}])
    assert evaluate(config).desired_state() == evaluate(config).desired_state()


# --- refused configurations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aws": aws_settings(apiAllowedCidrs=[])}, r"materialize:aws\.apiAllowedCidrs: the public EKS API"),
        (
            {"aws": aws_settings(materializeInstanceType="r7g.2xlarge")},
            r"materialize:aws\.materializeInstanceType: 'r7g\.2xlarge' has no local NVMe",
        ),
        (
            {"instances": [{"name": "aws", "namespace": "materialize-aws"}]},
            r"instances\[0\]: namespace materialize-aws",
        ),
        ({"aws": aws_settings(zoneCount=5, availabilityZones=None)}, None),
        (
            {"aws": aws_settings(zoneCount=6, availabilityZones=None)},
            r"materialize:aws\.zoneCount: 6 is more than the 5 zones of region us-east-1 that offer m7g\.large and "
            r"r7gd\.2xlarge",
        ),
        ({"aws": aws_settings(kubernetesVersion="1.29")}, r"materialize:aws\.kubernetesVersion"),
        ({"aws": aws_settings(postgresBackupRetentionDays=3)}, r"materialize:aws\.postgresBackupRetentionDays"),
        ({"aws": aws_settings(vpcCidr="10.0.0.0/24")}, r"aws\.vpcCidr: 10\.0\.0\.0/24 must be a /16 to /20"),
        ({"aws": aws_settings(existingVpcId="vpc-0123456789abcdef0")}, r"aws\.existingPrivateSubnetIds"),
        (
            {"aws": aws_settings(adminPrincipalArns=["arn:aws:sts::123456789012:assumed-role/x/y"])},
            r"aws\.adminPrincipalArns",
        ),
    ],
)
def test_bad_aws_configuration_is_refused_cleanly(overrides: dict[str, object], message: str | None) -> None:
    if message is None:
        # Five zones is allowed; five of the mocked region's six offer the types.
        evaluate(aws_stack(**overrides))
        return
    with pytest.raises(pulumi.RunError, match=message):
        evaluate(aws_stack(**overrides))


def test_longest_instance_name_fits_every_derived_name() -> None:
    name = "a" * 40
    evaluation = evaluate(aws_stack(instances=[{"name": name}]))
    assert len(named(evaluation, JOB, f"metadata-db-{name}").inputs["metadata"]["name"]) <= 63
    role = ending(evaluation, ROLE, f"-{name}-role-role")
    # IAM role names (auto-named: the logical name and an 8-character suffix) stop at 64.
    assert len(role.state["name"]) <= 64


def test_evaluating_the_aws_stack_loads_no_other_cloud_sdk() -> None:
    code = (
        "import sys; from tools import plan; assert plan.main(['--stack', 'aws']) == 0; "
        "print(sorted(m for m in sys.modules if m in ('pulumi_gcp', 'pulumi_azure_native')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("region", "hint"), [("us-est-1", "did you mean us-west-1 or us-east-1"), ("mars-north-1", "known: af-south-1")]
)
def test_an_unknown_region_is_refused_offline_before_anything_is_registered(region: str, hint: str) -> None:
    monitor = RecordingMonitor(RealisticMocks())
    with pytest.raises(pulumi.RunError) as raised:
        evaluate(aws_stack(region=region), monitor=monitor)
    # Only the upgrade guard's read of the deployed state comes first; no resource, not even the component.
    assert [r.type for r in monitor.registered if not r.read] == []
    message = str(raised.value)
    assert f"materialize:region: {region!r} is not an AWS region" in message and hint in message


def test_the_region_list_is_the_providers_own() -> None:
    # pulumi_aws/_enums.py `class Region`: the regions the pinned provider can target.
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= known_regions()
    assert region_problem("us-east-1") is None
