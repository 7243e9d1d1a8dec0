"""The rules of the Materialize policy pack: the security defaults every target promises.

Importable without the Pulumi CLI (tests call each rule's `validate`);
`policy/__main__.py` only assembles `POLICIES` into the pack. Imports inside
this package are relative, so it loads both as `policy.materialize_policies`
(from the repository root) and as `materialize_policies` (the CLI runs the
pack with `policy/` first on the path).

Violations are reported as `report_violation(message, None)`: pulumi-policy
declares its callback with two positional parameters (the message, and the
URN of another resource; None means the resource being validated).
"""

from __future__ import annotations

from pulumi_policy import Policy

from .availability import RDS_MULTI_AZ_IN_PRODUCTION
from .encryption import DATABASE_ENCRYPTED_AT_REST, S3_BUCKET_ENCRYPTED
from .endpoints import NO_PUBLIC_DATABASE_ENDPOINT
from .helm_values import NO_SECRETS_IN_HELM_VALUES
from .identity import WORKLOAD_IDENTITY_EXACT_SUBJECT
from .protection import PROTECT_STATEFUL_RESOURCES
from .public_access import BUCKET_PUBLIC_ACCESS_BLOCKED, S3_BUCKET_PUBLIC_ACCESS_BLOCKED
from .rbac import RBAC_ON_IN_PRODUCTION
from .transport import AZURE_POSTGRES_SECURE_TRANSPORT, RDS_FORCE_SSL, S3_BUCKET_TLS_ONLY, TLS_REQUIRED

PACK_NAME = "materialize-security"

POLICIES: list[Policy] = [
    NO_PUBLIC_DATABASE_ENDPOINT,
    DATABASE_ENCRYPTED_AT_REST,
    S3_BUCKET_ENCRYPTED,
    BUCKET_PUBLIC_ACCESS_BLOCKED,
    S3_BUCKET_PUBLIC_ACCESS_BLOCKED,
    TLS_REQUIRED,
    RDS_FORCE_SSL,
    AZURE_POSTGRES_SECURE_TRANSPORT,
    S3_BUCKET_TLS_ONLY,
    WORKLOAD_IDENTITY_EXACT_SUBJECT,
    NO_SECRETS_IN_HELM_VALUES,
    PROTECT_STATEFUL_RESOURCES,
    RBAC_ON_IN_PRODUCTION,
    RDS_MULTI_AZ_IN_PRODUCTION,
]

__all__ = ["PACK_NAME", "POLICIES"]
