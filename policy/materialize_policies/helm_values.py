"""No secret in Helm values: they are stored in plain text in the release's
Secret in the cluster and in Pulumi state, where `--show-secrets` is not
needed to read them. Credentials belong in Kubernetes Secrets that the
chart references by name.

What the rule can see: the policy SDK hands a resource's inputs over with
Pulumi's secret marking removed, so a value cannot be recognized as a Pulumi
secret; it is judged by its key and by its shape instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .fields import HELM_CHART_V4, HELM_RELEASE, field

VALUES = {token: field(token, "values") for token in (HELM_RELEASE, HELM_CHART_V4)}

# Key names (lower case, without separators) that hold a credential.
SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "licensekey",
    "privatekey",
    "apikey",
    "credential",
    "connectionstring",
)
# ...unless the key names where a credential lives rather than holding it:
# `tls.secretName`, `passwordSecretRef`, `existingSecret`, `tokenPath`.
REFERENCE_SUFFIXES = ("name", "names", "ref", "namespace", "path", "file")
REFERENCE_PREFIXES = ("existing",)

# A URL with a password in it: postgres://user:pw@host, s3://KEY:SECRET@bucket.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.\-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def secret_key(key: str) -> bool:
    normalized = re.sub(r"[^a-z0-9]", "", key.lower())
    if normalized.endswith(REFERENCE_SUFFIXES) or normalized.startswith(REFERENCE_PREFIXES):
        return False
    return any(word in normalized for word in SECRET_WORDS)


def _leaves(value: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every scalar in a values tree; key is the nearest mapping key."""
    if isinstance(value, Mapping):
        for child_key, child in value.items():
            yield from _leaves(child, f"{path}.{child_key}" if path else str(child_key), str(child_key))
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, child in enumerate(value):
            yield from _leaves(child, f"{path}[{index}]", key)
    else:
        yield path, key, value


def secrets_in_values(values: Any) -> list[str]:
    """Where a values tree holds something secret, and why; never the value itself."""
    found: list[str] = []
    for path, key, value in _leaves(values, "", ""):
        credential_like = isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""
        if credential_like and secret_key(key):
            found.append(f"{path} (its key names a credential)")
        elif isinstance(value, str) and URL_WITH_PASSWORD.search(value):
            found.append(f"{path} (a URL with a password)")
        elif isinstance(value, str) and PRIVATE_KEY.search(value):
            found.append(f"{path} (a private key)")
    return found


def validate_no_secrets_in_helm_values(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    values_field = VALUES.get(args.resource_type)
    if values_field is None:
        return
    for place in secrets_in_values(values_field.get(args.props)):
        report_violation(f"values.{place}: put it in a Kubernetes Secret and reference that from the chart.", None)


NO_SECRETS_IN_HELM_VALUES = ResourceValidationPolicy(
    name="no-secrets-in-helm-values",
    description=(
        "Helm values hold no credentials: no password, token, secret, license key or private key, "
        "and no URL with a password."
    ),
    validate=validate_no_secrets_in_helm_values,
    enforcement_level=EnforcementLevel.MANDATORY,
)
