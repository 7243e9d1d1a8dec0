"""Service annotations that choose an internal or a public cloud load balancer.

Each cloud spells "internal" differently; targets put the right spelling into
their `Platform` so the data plane can stay cloud-agnostic.
"""

from __future__ import annotations

from collections.abc import Mapping

INTERNAL: Mapping[str, Mapping[str, str]] = {
    # Understood by both the in-tree AWS cloud provider (a Network Load
    # Balancer) and the AWS Load Balancer Controller when its webhook takes
    # over LoadBalancer Services (it reads the scheme; the legacy "internal"
    # flag is for the in-tree provider).
    "aws": {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    },
    "gcp": {"networking.gke.io/load-balancer-type": "Internal"},
    "azure": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
}

PUBLIC: Mapping[str, Mapping[str, str]] = {
    "aws": {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    },
    # A backend service-based passthrough load balancer, not GKE's legacy
    # target-pool one (needs the HttpLoadBalancing add-on, on by default).
    "gcp": {"cloud.google.com/l4-rbs": "enabled"},
    "azure": {},
}

# What GKE's service and NEG controllers record on a LoadBalancer Service.
GKE_CONTROLLER_ANNOTATIONS: tuple[str, ...] = (
    "cloud.google.com/neg",
    "cloud.google.com/neg-status",
    "service.kubernetes.io/backend-service",
    "service.kubernetes.io/healthcheck",
    "service.kubernetes.io/firewall-rule",
    "service.kubernetes.io/firewall-rule-for-hc",
    "service.kubernetes.io/tcp-forwarding-rule",
    "service.kubernetes.io/firewall-rule-ipv6",
    "service.kubernetes.io/firewall-rule-for-hc-ipv6",
    "service.kubernetes.io/tcp-forwarding-rule-ipv6",
)
