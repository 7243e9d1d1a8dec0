"""Pinned versions and version arithmetic.

Materialize publishes the operator chart, the operator (orchestratord) image and
the environmentd image under one version string since v26, so a single knob
(`version` in the stack config) drives all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Newest self-managed release whose chart is confirmed: Materialize's own
# Terraform modules install helm-chart v26.37.0 (materialize-terraform-self-managed
# aws/modules/operator/variables.tf, "Bump to helm-chart v26.37.0", a1c84a3,
# 2026-08-14, still the pin at 187f61a88393ab2110df08bfa82b435cd0b98eb2), and the
# chart's values on main already carried v26.36.0 before it (reference data
# operator-values.7aa0d202.yaml). The published release table
# (materialize.com/docs/self-managed-deployments/release-versions) and the
# stored compatibility file stop earlier (v26.22.0, v26.14.1), so nothing newer
# is confirmed. The v1 CRD this project defaults to needs >= FIRST_V1_CRD_VERSION.
DEFAULT_MATERIALIZE_VERSION = "v26.37.0"
# Oldest release the installer supports: v26 made the license key mandatory and
# turned swap on by default, both of which this project assumes.
MINIMUM_MATERIALIZE_MAJOR = 26
# The `materialize.cloud/v1` CRD version (and the chart's installV1CRD switch)
# first shipped in this release; older operators only serve v1alpha1.
FIRST_V1_CRD_VERSION = "v26.30.0"

OPERATOR_CHART_REPO = "https://materializeinc.github.io/materialize"
OPERATOR_CHART_NAME = "materialize-operator"
ENVIRONMENTD_IMAGE = "docker.io/materialize/environmentd"

CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io"
CERT_MANAGER_CHART_NAME = "cert-manager"
# Newest cert-manager release confirmed; only long-stable chart keys are set.
CERT_MANAGER_VERSION = "v1.21.2"

_VERSION = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a version of the form vMAJOR.MINOR.PATCH (for example v26.37.0)")
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


def environmentd_image_ref(version: str) -> str:
    return f"{ENVIRONMENTD_IMAGE}:{version}"
