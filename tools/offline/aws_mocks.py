"""Provider-computed outputs for the AWS target, as the AWS provider returns them.

Per type token, what the engine hands back after a create: the inputs plus
what AWS fills in (ids and ARNs in AWS's own formats, auto-generated names,
endpoints, the EKS OIDC issuer, launch template versions, ...), and the
answers to the invokes the target makes. Values derive from resource names,
never from randomness, so two evaluations agree.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from tools.offline.stable import stable_hex

ACCOUNT_ID = "123456789012"
# The principal the mocks run as: an SSO role session, as in most real setups.
CALLER_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
CALLER_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{CALLER_ROLE}/deployer@example.com"
CALLER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-reserved/sso.amazonaws.com/{CALLER_ROLE}"
ZONES = ("a", "b", "c", "d", "e", "f")
# Each account sees the zone ids behind its zone names in its own order; this
# one's, for us-east-1. use1-az3 is the constrained zone that offers none of
# the current instance types (Graviton included).
ZONE_IDS = {"a": "use1-az4", "b": "use1-az6", "c": "use1-az1", "d": "use1-az2", "e": "use1-az3", "f": "use1-az5"}
ZONE_WITHOUT_CURRENT_TYPES = "use1-az3"
ADDON_VERSIONS = {
    "vpc-cni": "v1.20.4-eksbuild.2",
    "kube-proxy": "v1.35.0-eksbuild.2",
    "coredns": "v1.12.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.53.0-eksbuild.1",
}

Args = pulumi_mocks.MockResourceArgs


# Region of each explicit provider, by its logical name: resources only carry
# a reference to their provider, and their ARNs and endpoints name its region.
_PROVIDER_REGIONS: dict[str, str] = {}


def _provider(args: Args) -> dict[str, Any]:
    _PROVIDER_REGIONS[args.name] = str(args.inputs.get("region") or "")
    return dict(args.inputs)


def _region(args: Args) -> str:
    if args.inputs.get("region"):
        return str(args.inputs["region"])
    # A provider reference is "<urn>::<id>", the URN ending "pulumi:providers:aws::<name>".
    name = (args.provider or "").rsplit("::", 1)[0].rsplit("::", 1)[-1]
    region = _PROVIDER_REGIONS.get(name)
    if not region:
        raise AssertionError(f"{args.typ} {args.name} has no explicit AWS provider with a region")
    return region


def _uuid(args: Args) -> str:
    return "-".join(
        (
            _hex(args, "a", 8),
            _hex(args, "b", 4),
            "4" + _hex(args, "c", 3),
            "8" + _hex(args, "d", 3),
            _hex(args, "e", 12),
        )
    )


def _hex(args: Args, kind: str, length: int = 17) -> str:
    return stable_hex(args.typ, args.name, kind, length=length)


def _with(args: Args, **computed: Any) -> dict[str, Any]:
    state = copy.deepcopy(dict(args.inputs))
    state.update(computed)
    state["tagsAll"] = dict(state.get("tags") or {})
    return state


def _auto_name(args: Args, key: str = "name") -> str:
    """Pulumi's auto-naming: the logical name and a 7-character suffix."""
    return str(args.inputs.get(key) or f"{args.name}-{_hex(args, 'name', 7)}")


def _ec2(prefix: str, **extra: Callable[[Args], Any]) -> Callable[[Args], dict[str, Any]]:
    def build(args: Args) -> dict[str, Any]:
        identifier = f"{prefix}-{_hex(args, 'id')}"
        computed = {key: make(args) for key, make in extra.items()}
        return _with(
            args,
            id=identifier,
            arn=f"arn:aws:ec2:{_region(args)}:{ACCOUNT_ID}:{_ARN_KIND.get(prefix, prefix)}/{identifier}",
            ownerId=ACCOUNT_ID,
            **computed,
        )

    return build


_ARN_KIND = {
    "vpc": "vpc",
    "subnet": "subnet",
    "igw": "internet-gateway",
    "rtb": "route-table",
    "sg": "security-group",
    "nat": "natgateway",
    "vpce": "vpc-endpoint",
    "fl": "vpc-flow-log",
}


def _eip(args: Args) -> dict[str, Any]:
    octets = [int(stable_hex(args.name, str(i), length=2), 16) for i in range(2)]
    return _with(
        args,
        allocationId=f"eipalloc-{_hex(args, 'id')}",
        publicIp=f"54.{80 + octets[0] % 40}.{octets[1]}.{10 + octets[0] % 200}",
        domain="vpc",
    )


def _security_group_rule(args: Args) -> dict[str, Any]:
    identifier = f"sgr-{_hex(args, 'id')}"
    return _with(
        args,
        securityGroupRuleId=identifier,
        arn=f"arn:aws:ec2:{_region(args)}:{ACCOUNT_ID}:security-group-rule/{identifier}",
    )


def _launch_template(args: Args) -> dict[str, Any]:
    identifier = f"lt-{_hex(args, 'id')}"
    return _with(
        args,
        id=identifier,
        arn=f"arn:aws:ec2:{_region(args)}:{ACCOUNT_ID}:launch-template/{identifier}",
        name=_auto_name(args),
        latestVersion=1,
        defaultVersion=1,
    )


def _kms_key(args: Args) -> dict[str, Any]:
    key_id = _uuid(args)
    return _with(
        args,
        keyId=key_id,
        arn=f"arn:aws:kms:{_region(args)}:{ACCOUNT_ID}:key/{key_id}",
        keyUsage="ENCRYPT_DECRYPT",
        customerMasterKeySpec="SYMMETRIC_DEFAULT",
        isEnabled=True,
    )


def _kms_alias(args: Args) -> dict[str, Any]:
    name = str(args.inputs["name"])
    return _with(
        args,
        arn=f"arn:aws:kms:{_region(args)}:{ACCOUNT_ID}:{name}",
        targetKeyArn=f"arn:aws:kms:{_region(args)}:{ACCOUNT_ID}:key/{args.inputs.get('targetKeyId')}",
    )


def _iam(kind: str) -> Callable[[Args], dict[str, Any]]:
    def build(args: Args) -> dict[str, Any]:
        name = _auto_name(args)
        path = str(args.inputs.get("path") or "/")
        return _with(
            args,
            name=name,
            arn=f"arn:aws:iam::{ACCOUNT_ID}:{kind}{path}{name}",
            uniqueId=f"AROA{_hex(args, 'unique', 17).upper()}",
            createDate="2026-01-01T00:00:00Z",
        )

    return build


def _role_policy(args: Args) -> dict[str, Any]:
    return _with(args, name=_auto_name(args))


def _oidc_provider(args: Args) -> dict[str, Any]:
    host = str(args.inputs["url"]).removeprefix("https://")
    return _with(args, arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}", thumbprintLists=[])


def _log_group(args: Args) -> dict[str, Any]:
    name = str(args.inputs["name"])
    return _with(args, arn=f"arn:aws:logs:{_region(args)}:{ACCOUNT_ID}:log-group:{name}")


def _cluster(args: Args) -> dict[str, Any]:
    name = str(args.inputs["name"])
    region = _region(args)
    issuer_id = stable_hex(name, "oidc", length=32).upper()
    certificate = base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{name}\n-----END CERTIFICATE-----\n".encode())
    vpc_config = dict(args.inputs.get("vpcConfig") or {})
    vpc_config["clusterSecurityGroupId"] = f"sg-{_hex(args, 'cluster-sg')}"
    vpc_config["vpcId"] = f"vpc-{_hex(args, 'vpc')}"
    return _with(
        args,
        arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{name}",
        endpoint=f"https://{issuer_id}.gr7.{region}.eks.amazonaws.com",
        certificateAuthority={"data": certificate.decode()},
        identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}]}],
        vpcConfig=vpc_config,
        platformVersion="eks.5",
        status="ACTIVE",
        clusterId=_uuid(args),
        createdAt="2026-01-01T00:00:00Z",
        kubernetesNetworkConfig={"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"},
    )


def _eks_child(kind: str, key: str) -> Callable[[Args], dict[str, Any]]:
    def build(args: Args) -> dict[str, Any]:
        path = f"{args.inputs.get('clusterName')}/{args.inputs.get(key)}/{_hex(args, 'id', 8)}"
        return _with(
            args,
            arn=f"arn:aws:eks:{_region(args)}:{ACCOUNT_ID}:{kind}/{path}",
            createdAt="2026-01-01T00:00:00Z",
            modifiedAt="2026-01-01T00:00:00Z",
        )

    return build


def _node_group(args: Args) -> dict[str, Any]:
    name = _auto_name(args, "nodeGroupName")
    cluster = str(args.inputs.get("clusterName"))
    return _with(
        args,
        nodeGroupName=name,
        arn=f"arn:aws:eks:{_region(args)}:{ACCOUNT_ID}:nodegroup/{cluster}/{name}/{_hex(args, 'id', 8)}",
        status="ACTIVE",
        releaseVersion="1.50.0-2c8f1d5e",
        resources=[
            {"autoscalingGroups": [{"name": f"eks-{name}-{_hex(args, 'asg', 8)}"}], "remoteAccessSecurityGroupId": ""}
        ],
    )


def _rds_instance(args: Args) -> dict[str, Any]:
    identifier = _auto_name(args, "identifier")
    region = _region(args)
    address = f"{identifier}.c{_hex(args, 'host', 11)}.{region}.rds.amazonaws.com"
    port = int(args.inputs.get("port") or 5432)
    return _with(
        args,
        identifier=identifier,
        address=address,
        endpoint=f"{address}:{port}",
        arn=f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{identifier}",
        resourceId=f"db-{_hex(args, 'resource', 26).upper()}",
        engineVersionActual=f"{args.inputs.get('engineVersion')}.6",
        hostedZoneId="Z2R2ITUGPM61AM",
        status="available",
        caCertIdentifier="rds-ca-rsa2048-g1",
    )


def _rds_named(kind: str) -> Callable[[Args], dict[str, Any]]:
    def build(args: Args) -> dict[str, Any]:
        name = _auto_name(args)
        return _with(args, name=name, arn=f"arn:aws:rds:{_region(args)}:{ACCOUNT_ID}:{kind}:{name}")

    return build


def _bucket(args: Args) -> dict[str, Any]:
    name = _auto_name(args, "bucket")
    region = _region(args)
    return _with(
        args,
        bucket=name,
        arn=f"arn:aws:s3:::{name}",
        bucketDomainName=f"{name}.s3.amazonaws.com",
        bucketRegionalDomainName=f"{name}.s3.{region}.amazonaws.com",
        bucketRegion=region,
        region=region,
        hostedZoneId="Z3AQBSTGFYJSTF",
    )


def _random_id(args: Args) -> dict[str, Any]:
    length = int(args.inputs.get("byteLength", 4))
    value = stable_hex(args.name, "random-id", length=2 * length)
    raw = bytes.fromhex(value)
    return {
        **args.inputs,
        "hex": value,
        "dec": str(int(value, 16)),
        "b64Std": base64.b64encode(raw).decode(),
        "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


def _plain(args: Args) -> dict[str, Any]:
    return _with(args)


OUTPUTS: dict[str, Callable[[Args], dict[str, Any]]] = {
    "pulumi:providers:aws": _provider,
    "aws:ec2/vpc:Vpc": _ec2(
        "vpc",
        mainRouteTableId=lambda a: f"rtb-{_hex(a, 'main')}",
        defaultSecurityGroupId=lambda a: f"sg-{_hex(a, 'default')}",
        defaultNetworkAclId=lambda a: f"acl-{_hex(a, 'acl')}",
    ),
    "aws:ec2/subnet:Subnet": _ec2("subnet", availabilityZoneId=lambda a: f"use1-az{1 + int(_hex(a, 'az', 1), 16) % 6}"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _ec2(
        "nat",
        networkInterfaceId=lambda a: f"eni-{_hex(a, 'eni')}",
        privateIp=lambda a: f"10.0.{224 + int(_hex(a, 'ip', 1), 16)}.{10 + int(_hex(a, 'ip2', 2), 16) % 200}",
        connectivityType=lambda a: "public",
    ),
    "aws:ec2/routeTable:RouteTable": _ec2("rtb"),
    "aws:ec2/route:Route": lambda a: _with(
        a, id=f"r-{a.inputs.get('routeTableId')}1080289494", state="active", origin="CreateRoute"
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda a: _with(a, id=f"rtbassoc-{_hex(a, 'id')}"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", name=_auto_name, ingress=lambda a: [], egress=lambda a: []),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _security_group_rule,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _plain,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:eks/cluster:Cluster": _cluster,
    "aws:eks/accessEntry:AccessEntry": _eks_child("access-entry", "principalArn"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda a: _with(a, associatedAt="2026-01-01T00:00:00Z"),
    "aws:eks/addon:Addon": _eks_child("addon", "addonName"),
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _rds_named("subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _rds_named("pg"),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _plain,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _plain,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _plain,
    "aws:s3/bucketVersioning:BucketVersioning": _plain,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _plain,
    "aws:s3/bucketPolicy:BucketPolicy": _plain,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2(
        "vpce",
        state=lambda a: "available",
        prefixListId=lambda a: "pl-63a5400a",
        cidrBlocks=lambda a: [],
        networkInterfaceIds=lambda a: [],
        dnsEntries=lambda a: [],
        requesterManaged=lambda a: False,
    ),
    "aws:ec2/flowLog:FlowLog": _ec2("fl"),
    # A delete-only command: creating it runs nothing and captures nothing.
    "command:local:Command": lambda a: {**a.inputs, "stdout": "", "stderr": ""},
    # The one RandomId model, for every target (the aws database's snapshot
    # suffix, the gcp bucket and Cloud SQL name suffixes).
    "random:index/randomId:RandomId": _random_id,
}


def _caller_identity(_: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": CALLER_ARN,
        "userId": f"AROA{stable_hex('caller', length=17).upper()}:deployer@example.com",
        "id": ACCOUNT_ID,
    }


def _session_context(args: Mapping[str, Any]) -> dict[str, Any]:
    arn = str(args["arn"])
    role = arn.split("/")[1]
    return {
        "arn": arn,
        "id": arn,
        "issuerArn": CALLER_ROLE_ARN if role == CALLER_ROLE else f"arn:aws:iam::{ACCOUNT_ID}:role/{role}",
        "issuerId": f"AROA{stable_hex(role, length=17).upper()}",
        "issuerName": role,
        "sessionName": arn.split("/")[-1],
    }


def _availability_zones(args: Mapping[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or "us-east-1")
    names = [f"{region}{zone}" for zone in ZONES]
    return {
        "id": region,
        "names": names,
        "zoneIds": [ZONE_IDS[zone] for zone in ZONES],
        "groupNames": [region] * len(names),
        "state": args.get("state"),
        "filters": args.get("filters"),
    }


def _instance_type_offerings(args: Mapping[str, Any]) -> dict[str, Any]:
    """One entry per (type, zone id) pair that is offered, in three parallel lists, as EC2 returns them."""
    if args.get("locationType") != "availability-zone-id":
        raise AssertionError(f"instance type offerings are modelled by zone id only, not {args.get('locationType')}")
    wanted = [value for f in args.get("filters") or [] if f["name"] == "instance-type" for value in f["values"]]
    pairs = [
        (instance_type, zone_id)
        for zone_id in sorted(ZONE_IDS.values())
        if zone_id != ZONE_WITHOUT_CURRENT_TYPES
        for instance_type in wanted
    ]
    return {
        "id": "us-east-1",
        "filters": args.get("filters"),
        "locationType": args.get("locationType"),
        "instanceTypes": [instance_type for instance_type, _ in pairs],
        "locations": [zone_id for _, zone_id in pairs],
        "locationTypes": ["availability-zone-id"] * len(pairs),
    }


def _log_groups(args: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh account: no group under the prefix (tests that need one answer differently)."""
    return {"id": "us-east-1", "logGroupNamePrefix": args.get("logGroupNamePrefix"), "arns": [], "logGroupNames": []}


def _addon_version(args: Mapping[str, Any]) -> dict[str, Any]:
    addon = str(args["addonName"])
    return {
        "id": addon,
        "addonName": addon,
        "kubernetesVersion": args["kubernetesVersion"],
        "mostRecent": args.get("mostRecent", False),
        "version": ADDON_VERSIONS[addon],
    }


def _vpc(args: Mapping[str, Any]) -> dict[str, Any]:
    vpc_id = str(args["id"])
    # A /16 of 10.0.0.0/8 that follows from the id, as an existing VPC's range would.
    second = int(stable_hex(vpc_id, "cidr", length=2), 16)
    return {"id": vpc_id, "cidrBlock": f"10.{second}.0.0/16", "state": "available", "default": False}


INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:iam/getSessionContext:getSessionContext": _session_context,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:eks/getAddonVersion:getAddonVersion": _addon_version,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _instance_type_offerings,
    "aws:cloudwatch/getLogGroups:getLogGroups": _log_groups,
    "aws:ec2/getVpc:getVpc": _vpc,
}
