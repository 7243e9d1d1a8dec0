"""Checks of the blob (persist) store: the URL, then a real round trip.

The URL is parsed with the same rules Materialize applies. For S3 the doctor
then writes, reads, lists and deletes one object under the instance's prefix
with the endpoint, region, addressing style and credentials Materialize would
use, and removes the object even when a step fails.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from components.persist_url import PersistUrl, parse_persist_url
from tools.doctor.redact import redact_url
from tools.doctor.report import Check, Status

_CREDENTIAL_ERRORS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "InvalidClientTokenId",
        "TokenRefreshRequired",
        "AuthFailure",
    }
)
_REGION_ERRORS = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"})
_PERMISSIONS_FIX = (
    "grant s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::{bucket}/{prefix}* "
    "and s3:ListBucket on arn:aws:s3:::{bucket}"
)


class _StepFailed(Exception):
    def __init__(self, check: Check) -> None:
        super().__init__(check.message)
        self.check = check


def check_blob(url: str, subject: str, timeout: float) -> Iterator[Check]:
    """All blob-store checks for one instance's persist URL, in order."""
    try:
        persist = parse_persist_url(url)
    except ValueError as error:
        yield Check(
            Status.FAIL,
            subject,
            f"persist URL {redact_url(url)} rejected: {error}",
            "fix materialize:persistBackendUrl",
        )
        return
    style = ", path-style addressing" if persist.path_style else ""
    yield Check(Status.OK, subject, f"persist URL {persist.redacted()} parses as Materialize reads it{style}")
    yield from url_warnings(persist, subject)
    if persist.scheme == "azure":
        yield Check(
            Status.WARN,
            subject,
            f"Azure container {persist.container!r} in account {persist.account!r}: the write/read round trip "
            "is not implemented for Azure, so access was not verified",
            "give the instance's workload identity the Storage Blob Data Contributor role on the container",
        )
        return
    try:
        client, credential_note = _s3_client(persist, timeout, subject)
    except _StepFailed as failed:
        yield failed.check
        return
    if credential_note:
        yield Check(Status.WARN, subject, credential_note)
    yield from s3_round_trip(client, persist, subject)


def url_warnings(persist: PersistUrl, subject: str) -> Iterator[Check]:
    """Legal persist URLs that are still likely mistakes."""
    if persist.scheme != "s3":
        return
    if persist.prefix == "":
        yield Check(
            Status.WARN,
            subject,
            "the persist URL has no prefix: objects go to the bucket root (keys start with '/')",
            "give every instance its own prefix, e.g. s3://bucket/materialize/{instance}",
        )
    elif persist.prefix.endswith("/"):
        yield Check(
            Status.WARN,
            subject,
            "the prefix ends with '/': Materialize adds its own '/', so keys will contain '//'",
            "drop the trailing '/'",
        )
    if "%" in persist.prefix:
        yield Check(
            Status.WARN,
            subject,
            "the prefix contains %-escapes; Materialize does not decode them, so keys contain them literally",
        )
    if persist.endpoint is not None and persist.region is None:
        yield Check(
            Status.WARN,
            subject,
            "an endpoint is set but no region; request signing then depends on AWS_REGION in the pod",
            "add region=<region> (us-east-1 for most S3-compatible stores)",
        )
    if persist.role_arn is not None and persist.has_secret:
        yield Check(
            Status.WARN,
            subject,
            "role_arn is ignored: static credentials in the URL take precedence in Materialize",
            "drop either the credentials or role_arn",
        )


def s3_round_trip(client: Any, persist: PersistUrl, subject: str) -> Iterator[Check]:
    """Put, get, list and delete one object under the prefix; always clean up."""
    key = persist.object_key(f"mz-doctor-{uuid.uuid4().hex}")
    payload = secrets.token_bytes(1024)
    written = False
    deleted = False
    try:
        _step(client.put_object, "write", persist, key, subject, Bucket=persist.bucket, Key=key, Body=payload)
        written = True
        body = _step(client.get_object, "read", persist, key, subject, Bucket=persist.bucket, Key=key)["Body"].read()
        if body != payload:
            raise _StepFailed(Check(Status.FAIL, subject, f"reading s3://{persist.bucket}/{key} returned other bytes"))
        listing = _step(client.list_objects_v2, "list", persist, key, subject, Bucket=persist.bucket, Prefix=key)
        if key not in [item.get("Key") for item in listing.get("Contents", [])]:
            raise _StepFailed(
                Check(
                    Status.FAIL,
                    subject,
                    "listing the prefix did not show the object just written",
                    "check for a ListBucket condition that excludes the prefix",
                )
            )
        _step(client.delete_object, "delete", persist, key, subject, Bucket=persist.bucket, Key=key)
        deleted = True
    except _StepFailed as failed:
        yield failed.check
    else:
        yield Check(
            Status.OK,
            subject,
            f"write, read, list and delete under s3://{persist.bucket}/{persist.prefix} succeeded",
        )
    finally:
        if written and not deleted:
            try:
                client.delete_object(Bucket=persist.bucket, Key=key)
            except (ClientError, BotoCoreError):
                yield Check(
                    Status.WARN,
                    subject,
                    f"could not remove the test object s3://{persist.bucket}/{key}",
                    "delete it by hand",
                )


def classify_s3_error(error: Exception, action: str, persist: PersistUrl, key: str, subject: str) -> Check:
    """One distinct, actionable line per way an S3 request fails."""
    where = f"s3://{persist.bucket}/{key}"
    endpoint = persist.endpoint or "AWS S3"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return Check(
            Status.FAIL,
            subject,
            "no AWS credentials: the URL carries none and the default credential chain found none here",
            "put KEY:SECRET@ in the URL, or export AWS credentials for the doctor to use",
        )
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return Check(
            Status.FAIL,
            subject,
            f"cannot reach {endpoint}",
            "check the endpoint URL, DNS, proxy and firewall; run the doctor from a network like the cluster's",
        )
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return Check(
                Status.FAIL,
                subject,
                f"bucket {persist.bucket!r} does not exist at {endpoint}",
                "create the bucket, or correct the bucket name, endpoint or region in persistBackendUrl",
            )
        if code in _CREDENTIAL_ERRORS:
            return Check(
                Status.FAIL,
                subject,
                f"the credentials were rejected ({code})",
                "correct the access key id and secret in persistBackendUrl (percent-encoded), or refresh them",
            )
        if code in _REGION_ERRORS or status == 301:
            return Check(
                Status.FAIL,
                subject,
                f"bucket {persist.bucket!r} is not in region {persist.region or '(default)'} ({code or status})",
                "set region=<the bucket's region> in persistBackendUrl",
            )
        if code in ("AccessDenied", "AllAccessDisabled", "Forbidden") or status == 403:
            return Check(
                Status.FAIL,
                subject,
                f"access denied: cannot {action} {where}",
                _PERMISSIONS_FIX.format(bucket=persist.bucket, prefix=persist.prefix),
            )
        return Check(Status.FAIL, subject, f"cannot {action} {where}: {code or status}")
    return Check(Status.FAIL, subject, f"cannot {action} {where}: {type(error).__name__}")


def _step(call: Any, action: str, persist: PersistUrl, key: str, subject: str, **arguments: Any) -> Any:
    try:
        return call(**arguments)
    except (ClientError, BotoCoreError) as error:
        raise _StepFailed(classify_s3_error(error, action, persist, key, subject)) from None


def _s3_client(persist: PersistUrl, timeout: float, subject: str) -> tuple[Any, str | None]:
    """An S3 client configured as Materialize configures its own."""
    note = None
    if persist.has_secret:
        session = boto3.Session(
            aws_access_key_id=persist.access_key_id,
            aws_secret_access_key=persist.secret_access_key,
            region_name=persist.region,
        )
    else:
        session = boto3.Session(region_name=persist.region)
        credentials = session.get_credentials()
        if credentials is None:
            raise _StepFailed(
                Check(
                    Status.FAIL,
                    subject,
                    "the URL carries no credentials and this machine has none either, so access cannot be "
                    "verified (Materialize itself would use its pod's identity, e.g. IRSA)",
                    "export AWS credentials equivalent to the instance's role, or put KEY:SECRET@ in the URL",
                )
            )
        note = (
            "the URL carries no credentials: Materialize will use its pod's identity "
            f"(IRSA, workload identity); the doctor used this machine's ({credentials.method}) instead"
        )
        if persist.role_arn is not None:
            session = _assume_role(session, persist, timeout, subject)
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        # Materialize switches to path-style whenever an endpoint is given.
        s3={"addressing_style": "path"} if persist.path_style else {},
    )
    return session.client("s3", endpoint_url=persist.endpoint, config=config), note


def _assume_role(session: Any, persist: PersistUrl, timeout: float, subject: str) -> Any:
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2})
    try:
        response = session.client("sts", config=config).assume_role(
            RoleArn=persist.role_arn, RoleSessionName="materialize-doctor"
        )
    except (ClientError, BotoCoreError) as error:
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        raise _StepFailed(
            Check(
                Status.FAIL,
                subject,
                f"cannot assume role {persist.role_arn} ({code or type(error).__name__})",
                "allow this identity to sts:AssumeRole on the role, or check the role ARN",
            )
        ) from None
    credentials = response["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=persist.region,
    )
