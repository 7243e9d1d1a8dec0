"""Every resource property the rules read, declared once as a `Field`.

A misspelt property name makes a rule that silently never fires, so rules
never index `props` by hand: they read through a `Field`, and every Field
is registered in `FIELDS`, which a test checks against the provider SDKs'
own schemas (type token, camelCase name, input or output, nesting).

Props arrive from the policy SDK as read-only mappings and sequences that
raise `UnknownValueError` when a value is not known yet (during preview).
That error is left to propagate: the SDK turns it into an advisory "cannot
run during preview" note and the rule runs again, with known values, when
the resource is really created.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Side = Literal["inputs", "outputs"]

# Type tokens, as the engine sends them, of the resources the rules look at.
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
IAM_ROLE = "aws:iam/role:Role"
CLOUD_SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
CLOUD_SQL_DATABASE = "gcp:sql/database:Database"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
GCS_BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
GCP_PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
GCP_PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
GCP_SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
GCP_SERVICE_ACCOUNT_IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
AZURE_POSTGRES_SERVER = "azure-native:dbforpostgresql:Server"
AZURE_POSTGRES_DATABASE = "azure-native:dbforpostgresql:Database"
AZURE_POSTGRES_CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
AZURE_STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
AZURE_BLOB_CONTAINER = "azure-native:storage:BlobContainer"
AZURE_FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
# The operator's custom resource: its schema is Materialize's CRD, not a provider SDK.
MATERIALIZE_V1 = "kubernetes:materialize.cloud/v1:Materialize"
MATERIALIZE_V1ALPHA1 = "kubernetes:materialize.cloud/v1alpha1:Materialize"

EACH = "[]"


@dataclass(frozen=True)
class Field:
    """One property of one resource type.

    `path` is dotted camelCase as the engine sends it; a segment ending in
    `[]` is a list, and the rest of the path is read from each element.
    `side` says whether the property is read from the resource's inputs
    (resource policies, before it is created) or outputs (stack policies).
    """

    token: str
    path: str
    side: Side

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    def get(self, props: Mapping[str, Any]) -> Any:
        """The value at a path without lists, or None when any part is absent."""
        if EACH in self.path:
            raise ValueError(f"{self.path} steps through a list: read it with each()")
        found = list(_walk(props, self.segments))
        return found[0] if found else None

    def each(self, props: Mapping[str, Any]) -> list[Any]:
        """Every value at the path (one per list element); absent parts give none."""
        return list(_walk(props, self.segments))


def _walk(node: Any, segments: tuple[str, ...]) -> Iterator[Any]:
    if not segments:
        if node is not None:
            yield node
        return
    if not isinstance(node, Mapping):
        return
    head, rest = segments[0], segments[1:]
    name = head.removesuffix(EACH)
    value = node.get(name)
    if head.endswith(EACH):
        for element in as_list(value):
            yield from _walk(element, rest)
    else:
        yield from _walk(value, rest)


def as_list(value: Any) -> list[Any]:
    """A list value as a list; a scalar or absent value as nothing."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


FIELDS: list[Field] = []


def field(token: str, path: str, side: Side = "inputs") -> Field:
    declared = Field(token, path, side)
    if declared not in FIELDS:
        FIELDS.append(declared)
    return declared


# The key that S3 companions (encryption configuration, public-access block, bucket policy) name a bucket by.
S3_BUCKET_NAME = field(S3_BUCKET, "bucket", "outputs")


def is_true(value: Any) -> bool:
    """True for a boolean true (or its string form, which some providers echo back)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def rows(props: Mapping[str, Any], *columns: Field) -> list[tuple[Any, ...]]:
    """One tuple per element of the list the columns share: e.g. each parameter's (name, value).

    Reading the columns one by one with each() would lose which name goes
    with which value when an element leaves one of them out.
    """
    splits = [column.path.rsplit(EACH + ".", 1) for column in columns]
    prefixes = {split[0] for split in splits}
    if len(prefixes) != 1 or any(len(split) != 2 for split in splits):
        raise ValueError(f"columns {[c.path for c in columns]} do not share one list")
    elements = _walk(props, tuple(f"{prefixes.pop()}{EACH}".split(".")))
    return [tuple(next(_walk(element, tuple(rest.split("."))), None) for _, rest in splits) for element in elements]
