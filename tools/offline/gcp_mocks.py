"""Provider-computed outputs for the GCP target, as the real providers return them.

Per type token, what the engine hands back after a create: the inputs, plus
what Google (or the Kubernetes API server) fills in: self links, numeric ids,
endpoints, generated keys and names, status. Values are derived from
resource names (never random), so two evaluations agree. Resource ids come
from the shared mocks (tools/offline/mocks.py), which choose them for every
type alike.

The Kubernetes kinds of the disk-setup DaemonSet (components/targets/disk_setup.py)
are here too; the Azure target reuses that component and these entries.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from tools.offline.mocks import _k8s_object
from tools.offline.stable import stable_hex

_COMPUTE = "https://www.googleapis.com/compute/v1"
_CREATED = "2026-01-01T00:00:00.000-08:00"
# GKE's default patch of the REGULAR channel's 1.35 line when these mocks were written.
_GKE_VERSION = "1.35.8-gke.1036000"


def _digits(*parts: str, length: int) -> str:
    return str(int(stable_hex(*parts, length=16), 16))[:length]


def _project(args: pulumi_mocks.MockResourceArgs) -> str:
    return str(args.inputs.get("project") or "example-project")


def _name(args: pulumi_mocks.MockResourceArgs) -> str:
    return str(args.inputs.get("name") or f"{args.name}-{stable_hex(args.name, length=7)}")


def _last(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _provider(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return dict(args.inputs)


def _network(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name = _project(args), _name(args)
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"{_COMPUTE}/projects/{project}/global/networks/{name}",
        "networkId": _digits(name, "network", length=19),
        "numericId": _digits(name, "network", length=19),
        "mtu": 1460,
    }


def _subnetwork(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, region = _project(args), _name(args), str(args.inputs["region"])
    primary = ipaddress.ip_network(str(args.inputs["ipCidrRange"]))
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"{_COMPUTE}/projects/{project}/regions/{region}/subnetworks/{name}",
        "gatewayAddress": str(primary.network_address + 1),
        "fingerprint": stable_hex(name, "fingerprint", length=11) + "=",
        "creationTimestamp": _CREATED,
        "subnetworkId": int(_digits(name, "subnetwork", length=18)),
        "stackType": "IPV4_ONLY",
        "state": "READY",
    }


def _router(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, region = _project(args), _name(args), str(args.inputs["region"])
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"{_COMPUTE}/projects/{project}/regions/{region}/routers/{name}",
        "creationTimestamp": _CREATED,
    }


def _router_nat(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return {
        **args.inputs,
        "minPortsPerVm": 64,
        "udpIdleTimeoutSec": 30,
        "icmpIdleTimeoutSec": 30,
        "tcpEstablishedIdleTimeoutSec": 1200,
        "tcpTransitoryIdleTimeoutSec": 30,
        "tcpTimeWaitTimeoutSec": 120,
        "endpointTypes": ["ENDPOINT_TYPE_VM"],
    }


def _global_address(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name = _project(args), _name(args)
    labels = dict(args.inputs.get("labels") or {})
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"{_COMPUTE}/projects/{project}/global/addresses/{name}",
        "creationTimestamp": _CREATED,
        "labelFingerprint": stable_hex(name, "labels", length=11) + "=",
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "ipVersion": "IPV4",
    }


def _service_networking_connection(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return {
        **args.inputs,
        "peering": "servicenetworking-googleapis-com",
    }


def _firewall(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name = _project(args), _name(args)
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"{_COMPUTE}/projects/{project}/global/firewalls/{name}",
        "creationTimestamp": _CREATED,
        "priority": args.inputs.get("priority", 1000),
    }


def _service_account(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project = _project(args)
    email = f"{args.inputs['accountId']}@{project}.iam.gserviceaccount.com"
    return {
        **args.inputs,
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{project}/serviceAccounts/{email}",
        "uniqueId": "1" + _digits(email, length=20),
        "disabled": False,
    }


def _iam_member(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return {
        **args.inputs,
        "etag": "BwY" + stable_hex(args.name, "etag", length=9),
    }


def _ca_certificate(name: str) -> str:
    body = base64.standard_b64encode(hashlib.sha512(f"ca/{name}".encode()).digest() * 8).decode()
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return base64.standard_b64encode(f"{pem}\n-----END CERTIFICATE-----\n".encode()).decode()


def _cluster(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, location = _project(args), _name(args), str(args.inputs["location"])
    endpoint_octets = bytes.fromhex(stable_hex(name, "endpoint", length=6))
    labels = dict(args.inputs.get("resourceLabels") or {})
    private = dict(args.inputs.get("privateClusterConfig") or {})
    # Private Service Connect clusters get their private endpoint from the node subnet.
    private["privateEndpoint"] = "10.0.0.2"
    private["publicEndpoint"] = f"34.{endpoint_octets[0]}.{endpoint_octets[1]}.{endpoint_octets[2]}"
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
        "endpoint": private["publicEndpoint"],
        "masterVersion": _GKE_VERSION,
        "masterAuth": {
            "clusterCaCertificate": _ca_certificate(name),
            "clientCertificate": "",
            "clientKey": "",
            "clientCertificateConfig": {"issueClientCertificate": False},
        },
        "privateClusterConfig": private,
        "labelFingerprint": stable_hex(name, "labels", length=8),
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "operation": None,
    }


def _node_pool(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, location = _project(args), _name(args), str(args.inputs["location"])
    cluster = _last(str(args.inputs["cluster"]))
    zones = [f"{location}-{zone}" for zone in ("a", "b", "c")]
    groups = [
        f"{_COMPUTE}/projects/{project}/zones/{zone}/instanceGroupManagers/gke-{cluster[:14]}-{name[:14]}-"
        + stable_hex(name, zone, length=8)
        for zone in zones
    ]
    return {
        **args.inputs,
        "name": name,
        "version": args.inputs.get("version") or _GKE_VERSION,
        "nodeLocations": zones,
        "managedInstanceGroupUrls": groups,
        "instanceGroupUrls": [url.replace("instanceGroupManagers", "instanceGroups") for url in groups],
        "operation": None,
    }


def _sql_instance(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, region = _project(args), _name(args), str(args.inputs["region"])
    # The first address of the reserved private services range goes to Google's
    # side of the peering; instances get the next ones.
    private_ip = f"10.60.0.{int(stable_hex(name, 'ip', length=2), 16) % 200 + 3}"
    settings = dict(args.inputs.get("settings") or {})
    settings["version"] = 1
    settings["effectiveAvailabilityType"] = settings.get("availabilityType", "ZONAL")
    return {
        **args.inputs,
        "name": name,
        "settings": settings,
        "connectionName": f"{project}:{region}:{name}",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}",
        "privateIpAddress": private_ip,
        "publicIpAddress": "",
        "firstIpAddress": private_ip,
        "ipAddresses": [{"ipAddress": private_ip, "type": "PRIVATE", "timeToRetire": ""}],
        "dnsName": f"{stable_hex(name, 'dns', length=12)}.{region}.sql.goog.",
        "serviceAccountEmailAddress": f"p{_digits(project, length=12)}-{stable_hex(name, length=6)}"
        "@gcp-sa-cloud-sql.iam.gserviceaccount.com",
        "serverCaCerts": [
            {
                "cert": base64.b64decode(_ca_certificate(name)).decode(),
                "commonName": f"C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier={stable_hex(name)}",
                "createTime": "2026-01-01T08:00:00.000Z",
                "expirationTime": "2036-01-01T08:00:00.000Z",
                "sha1Fingerprint": stable_hex(name, "sha1", length=40),
            }
        ],
        "availableMaintenanceVersions": [],
        "maintenanceVersion": f"POSTGRES_{args.inputs['databaseVersion'].split('_')[1]}_5.R20260101.01_00",
    }


def _sql_database(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, instance = _project(args), _name(args), str(args.inputs["instance"])
    return {
        **args.inputs,
        "name": name,
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{instance}/databases/{name}",
        "charset": "UTF8",
        "collation": "en_US.UTF8",
    }


def _sql_user(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return {**args.inputs, "sqlServerUserDetails": []}


def _pem(kind: str, seed: str) -> str:
    body = base64.standard_b64encode(hashlib.sha512(f"{kind}/{seed}".encode()).digest() * 6).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def _sql_ssl_cert(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    # A client certificate Cloud SQL issues: PEM certificate and RSA key, and
    # the instance's server CA (the SDK marks all three secret outputs).
    instance, common_name = str(args.inputs["instance"]), str(args.inputs["commonName"])
    return {
        **args.inputs,
        "cert": _pem("CERTIFICATE", f"client/{instance}/{common_name}"),
        "privateKey": _pem("RSA PRIVATE KEY", f"client/{instance}/{common_name}"),
        "serverCaCert": base64.b64decode(_ca_certificate(instance)).decode(),
        "certSerialNumber": _digits(instance, common_name, length=10),
        "sha1Fingerprint": stable_hex(instance, common_name, "sha1", length=40),
        "createTime": "2026-01-01T08:00:00.000Z",
        "expirationTime": "2036-01-01T08:00:00.000Z",
    }


def _bucket(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    name = _name(args)
    labels = dict(args.inputs.get("labels") or {})
    return {
        **args.inputs,
        "name": name,
        "location": str(args.inputs["location"]).upper(),
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "url": f"gs://{name}",
        "projectNumber": int(_digits(_project(args), length=12)),
        "timeCreated": "2026-01-01T08:00:00.000Z",
        "updated": "2026-01-01T08:00:00.000Z",
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "softDeletePolicy": {"retentionDurationSeconds": 604800, "effectiveTime": "2026-01-01T08:00:00.000Z"},
    }


def hmac_secret(seed: str) -> str:
    """A 40-character base64 secret, the form GCS issues."""
    return base64.standard_b64encode(hashlib.sha256(f"hmac/{seed}".encode()).digest()[:30]).decode()


def _hmac_key(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    email = str(args.inputs["serviceAccountEmail"])
    # Service-account HMAC access ids: GOOG1E followed by 55 upper-case letters and digits.
    access_id = "GOOG1E" + (stable_hex(email, "access", length=64) * 2).upper()[:55]
    return {
        **args.inputs,
        "accessId": access_id,
        "secret": hmac_secret(email),
        "state": args.inputs.get("state") or "ACTIVE",
        "timeCreated": "2026-01-01T08:00:00.000Z",
        "updated": "2026-01-01T08:00:00.000Z",
    }


def _project_service(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    return {**args.inputs, "project": _project(args)}


def _pubsub_topic(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name = _project(args), _name(args)
    labels = dict(args.inputs.get("labels") or {})
    return {
        **args.inputs,
        "name": name,
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "messageStoragePolicy": {"allowedPersistenceRegions": [], "enforceInTransit": False},
        "project": project,
    }


def _pubsub_subscription(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    labels = dict(args.inputs.get("labels") or {})
    return {
        **args.inputs,
        "name": _name(args),
        "ackDeadlineSeconds": 10,
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "retainAckedMessages": False,
        "project": _project(args),
    }


def _address(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    project, name, region = _project(args), _name(args), str(args.inputs["region"])
    octets = bytes.fromhex(stable_hex(name, "address", length=6))
    labels = dict(args.inputs.get("labels") or {})
    return {
        **args.inputs,
        "name": name,
        "address": f"34.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}",
        "selfLink": f"{_COMPUTE}/projects/{project}/regions/{region}/addresses/{name}",
        "creationTimestamp": _CREATED,
        "status": "RESERVED",
        "purpose": "NAT_AUTO",
        "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
        "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
    }


def _daemon_set(args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
    # Rolled out on three nodes, each pod past its init container and ready.
    nodes = 3
    return _k8s_object(
        args,
        {
            "status": {
                "observedGeneration": 1,
                "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes,
                "updatedNumberScheduled": nodes,
                "numberReady": nodes,
                "numberAvailable": nodes,
                "numberMisscheduled": 0,
            }
        },
    )


OUTPUTS: dict[str, Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any]]] = {
    "pulumi:providers:gcp": _provider,
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:compute/router:Router": _router,
    "gcp:compute/routerNat:RouterNat": _router_nat,
    "gcp:compute/globalAddress:GlobalAddress": _global_address,
    "gcp:servicenetworking/connection:Connection": _service_networking_connection,
    "gcp:compute/firewall:Firewall": _firewall,
    "gcp:compute/address:Address": _address,
    "gcp:projects/service:Service": _project_service,
    "gcp:pubsub/topic:Topic": _pubsub_topic,
    "gcp:pubsub/subscription:Subscription": _pubsub_subscription,
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": _iam_member,
    "gcp:serviceaccount/iAMMember:IAMMember": _iam_member,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:projects/iAMMember:IAMMember": _iam_member,
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
    "gcp:sql/databaseInstance:DatabaseInstance": _sql_instance,
    "gcp:sql/database:Database": _sql_database,
    "gcp:sql/user:User": _sql_user,
    "gcp:sql/sslCert:SslCert": _sql_ssl_cert,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:storage/bucketIAMMember:BucketIAMMember": _iam_member,
    "gcp:storage/hmacKey:HmacKey": _hmac_key,
    "kubernetes:apps/v1:DaemonSet": _daemon_set,
    "kubernetes:core/v1:ServiceAccount": _k8s_object,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": _k8s_object,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _k8s_object,
}

# GKE's server configuration for a region (projects.locations.getServerConfig), in
# its shape: versions in descending order, each channel with its own valid
# versions and a default. The versions are made up but follow GKE's pattern:
# RAPID has the newest minors, STABLE and EXTENDED the oldest.
GKE_CHANNEL_VERSIONS: dict[str, tuple[str, ...]] = {
    "RAPID": ("1.36.2-gke.1045000", "1.35.9-gke.1101000", "1.35.8-gke.1036000"),
    "REGULAR": (_GKE_VERSION, "1.35.6-gke.1020000", "1.34.4-gke.1130000", "1.33.7-gke.1060000"),
    "STABLE": ("1.34.4-gke.1130000", "1.34.2-gke.1085000", "1.33.7-gke.1060000", "1.32.11-gke.1030000"),
    "EXTENDED": ("1.34.4-gke.1130000", "1.33.7-gke.1060000", "1.32.11-gke.1030000", "1.31.14-gke.1020000"),
}
GKE_CHANNEL_DEFAULTS = {
    "RAPID": "1.35.9-gke.1101000",
    "REGULAR": "1.35.6-gke.1020000",
    "STABLE": "1.34.2-gke.1085000",
    "EXTENDED": "1.33.7-gke.1060000",
}


def _engine_versions(args: Mapping[str, Any]) -> dict[str, Any]:
    """gcp.container.getEngineVersions as the provider computes it from the server config
    (terraform-provider-google data_source_google_container_engine_versions.go at
    d8e588783d12bc5376840744a34a1219d78c7db7): every list filtered by the prefix,
    per channel its first (newest) matching valid version, channels without one left out."""
    prefix = str(args.get("versionPrefix") or "")
    every = sorted(
        {v for versions in GKE_CHANNEL_VERSIONS.values() for v in versions},
        key=lambda v: tuple(int(part) for part in v.replace("-gke.", ".").split(".")),
        reverse=True,
    )
    matching = [version for version in every if version.startswith(prefix)]
    latest = {
        channel: next(v for v in versions if v.startswith(prefix))
        for channel, versions in GKE_CHANNEL_VERSIONS.items()
        if any(v.startswith(prefix) for v in versions)
    }
    return {
        "id": f"{args.get('project')}/{args.get('location')}",
        "location": args.get("location"),
        "project": args.get("project"),
        "versionPrefix": prefix or None,
        "defaultClusterVersion": GKE_CHANNEL_DEFAULTS["REGULAR"],
        "validMasterVersions": matching,
        "validNodeVersions": matching,
        "latestMasterVersion": matching[0] if matching else None,
        "latestNodeVersion": matching[0] if matching else None,
        "releaseChannelDefaultVersion": dict(GKE_CHANNEL_DEFAULTS),
        "releaseChannelLatestVersion": latest,
        "releaseChannelUpgradeTargetVersion": dict(GKE_CHANNEL_DEFAULTS),
    }


# The GCP target's one invoke: the GKE versions its release channel offers.
INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "gcp:container/getEngineVersions:getEngineVersions": _engine_versions,
}
