"""cert-manager and the issuer chain Materialize's certificates come from.

The chain is self-signed: a SelfSigned issuer signs one CA certificate, and a
CA issuer built on it signs every balancerd, console and internal certificate.
Clients that want to verify TLS trust the CA in the `<name>-root-ca` secret.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.contract import Platform
from components.helm_releases import RELEASE_POLICY
from components.versions import CERT_MANAGER_CHART_NAME, CERT_MANAGER_CHART_REPO, CERT_MANAGER_VERSION

CERT_MANAGER_NAMESPACE = "cert-manager"
_CERT_MANAGER_API = "cert-manager.io/v1"
# Instances must not start before the CA can sign their certificates.
_WAIT_READY = {"pulumi.com/waitFor": "condition=Ready"}


@dataclass(frozen=True)
class CertManagerArgs:
    platform: Platform
    install: bool


class CertManager(pulumi.ComponentResource):
    issuer_name: str

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("materialize:dataplane:CertManager", name, None, opts)
        platform = args.platform
        child = pulumi.ResourceOptions(parent=self, provider=platform.provider, depends_on=list(platform.system_ready))

        chart_ready: list[pulumi.Resource] = list(platform.system_ready)
        if args.install:
            namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata={"name": CERT_MANAGER_NAMESPACE},
                opts=child,
            )
            system = platform.system_nodes.helm_values()
            release = k8s.helm.v3.Release(
                f"{name}-release",
                name="cert-manager",
                chart=CERT_MANAGER_CHART_NAME,
                version=CERT_MANAGER_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CERT_MANAGER_CHART_REPO),
                namespace=namespace.metadata["name"],
                values={
                    "crds": {"enabled": True, "keep": True},
                    **system,
                    "webhook": system,
                    "cainjector": system,
                    "startupapicheck": system,
                },
                **RELEASE_POLICY,
                opts=child,
            )
            chart_ready = [release]

        after_chart = pulumi.ResourceOptions(parent=self, provider=platform.provider, depends_on=chart_ready)
        self_signed = k8s.apiextensions.CustomResource(
            f"{name}-self-signed-issuer",
            api_version=_CERT_MANAGER_API,
            kind="ClusterIssuer",
            metadata={"name": f"{name}-self-signed"},
            spec={"selfSigned": {}},
            opts=after_chart,
        )
        ca_secret = f"{name}-root-ca"
        ca_certificate = k8s.apiextensions.CustomResource(
            f"{name}-root-ca-certificate",
            api_version=_CERT_MANAGER_API,
            kind="Certificate",
            metadata={"name": ca_secret, "namespace": CERT_MANAGER_NAMESPACE, "annotations": _WAIT_READY},
            spec={
                "isCA": True,
                "commonName": ca_secret,
                "secretName": ca_secret,
                "duration": "87600h",
                "renewBefore": "2160h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {"name": f"{name}-self-signed", "kind": "ClusterIssuer", "group": "cert-manager.io"},
            },
            opts=pulumi.ResourceOptions.merge(after_chart, pulumi.ResourceOptions(depends_on=[self_signed])),
        )
        self.issuer_name = ca_secret
        self.issuer = k8s.apiextensions.CustomResource(
            f"{name}-root-ca-issuer",
            api_version=_CERT_MANAGER_API,
            kind="ClusterIssuer",
            metadata={"name": self.issuer_name, "annotations": _WAIT_READY},
            spec={"ca": {"secretName": ca_secret}},
            opts=pulumi.ResourceOptions.merge(after_chart, pulumi.ResourceOptions(depends_on=[ca_certificate])),
        )
        self.register_outputs({"issuerName": self.issuer_name})
