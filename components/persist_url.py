"""Materialize persist (blob storage) URLs: build them and parse them.

The rules mirror how environmentd turns `persist_backend_url` into a blob
store (MaterializeInc/materialize: src/persist/src/cfg.rs
`BlobConfig::try_from`, src/persist/src/s3.rs `S3BlobConfig::new`,
src/aws-util/src/s3.rs `new_client`, src/persist/src/azure.rs):

S3 (and S3-compatible stores)::

    s3://[ACCESS_KEY_ID:SECRET@]bucket[/prefix][?endpoint=..&region=..&role_arn=..]

- the bucket is the URL host; the prefix is the URL path without its first
  `/`, taken *as serialized* (Materialize never percent-decodes it);
- objects are stored at `<prefix>/<key>`, so an empty prefix gives keys with
  a leading `/` and a trailing `/` in the prefix gives `//`;
- the query is decoded as application/x-www-form-urlencoded (`+` means a
  space), so the endpoint must be percent-encoded;
- a given endpoint switches the client to path-style addressing;
- the key id and secret are percent-decoded; without a password component
  the user name is silently ignored and the default credential chain is used;
- static credentials win over `role_arn`;
- any other query parameter makes Materialize refuse to start.

Azure Blob Storage::

    https://<account>.blob.core.windows.net/<container>

- only the first path segment (the container) is used; there is no prefix;
- a query string is taken as a SAS token. This project authenticates with
  workload identity only, so we refuse any query (a SAS token is a secret that
  would otherwise sit in plain config and expire silently).

This module is stricter than Materialize wherever Materialize would silently
ignore part of the URL (a port on the bucket, a fragment, a key id without a
secret, extra Azure path segments): those are always configuration mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

# Query parameters Materialize's S3 blob understands in release builds.
S3_QUERY_PARAMETERS: tuple[str, ...] = ("endpoint", "region", "role_arn")

# Envelope-encryption parameters exist only in recent Materialize development
# builds (src/persist/src/crypto.rs). They are named in errors so a user on an
# older release learns why they are refused rather than seeing a bare
# "unknown parameter".
S3_ENCRYPTION_QUERY_PARAMETERS: tuple[str, ...] = (
    "kms_key_id",
    "kms_region",
    "dek_rotation_interval_secs",
    "customer_kms_key_id",
    "customer_kms_region",
    "customer_kms_endpoint",
    "customer_kms_role_arn",
)

AZURE_BLOB_SUFFIX = "blob.core.windows.net"

# Placeholder a URL (persist or metadata) may carry so one URL serves several
# instances; it is replaced by each instance's name.
INSTANCE_PLACEHOLDER = "{instance}"

# Characters the Rust `url` crate percent-encodes in the path of a URL with a
# non-special scheme such as `s3:`. Materialize uses the serialized path as
# the prefix, so these end up escaped inside object keys.
_PATH_ESCAPED = frozenset(' "<>`{}')

# Characters that pass through URL serialization untouched, so a prefix made
# of them is stored byte for byte as written.
_SAFE_PREFIX = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:/-]*")

_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,254}")
_AZURE_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")
_AZURE_CONTAINER = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class PersistUrl:
    """A parsed persist URL. The secret is kept but never shown by repr()."""

    scheme: Literal["s3", "azure"]
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    account: str | None = None

    @property
    def has_secret(self) -> bool:
        return self.secret_access_key is not None

    @property
    def container(self) -> str:
        """The Azure container (the same field as the S3 bucket)."""
        return self.bucket

    @property
    def path_style(self) -> bool:
        """Whether Materialize addresses the bucket path-style."""
        return self.endpoint is not None

    def object_key(self, name: str) -> str:
        """The object key Materialize uses for blob `name`."""
        return f"{self.prefix}/{name}"

    def redacted(self) -> str:
        """The URL with the secret replaced, safe to print."""
        if self.scheme == "azure":
            return azure_persist_url(self.account or "", self.bucket)
        return _s3_url(
            self.bucket,
            self.prefix,
            region=self.region,
            endpoint=self.endpoint,
            access_key_id=self.access_key_id,
            secret=REDACTED if self.has_secret else None,
            role_arn=self.role_arn,
        )


REDACTED = "****"


def s3_persist_url(
    bucket: str,
    prefix: str,
    region: str | None,
    endpoint: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    role_arn: str | None = None,
) -> str:
    """Build an S3 persist URL that Materialize decodes back to these values.

    The key id, secret, region, endpoint and role are percent-encoded in
    full, so any byte survives. The prefix is written as is and therefore
    limited to characters URL serialization leaves alone; `{instance}` is
    allowed so templates can be built here and substituted later.
    """
    _check_bucket(bucket)
    _check_prefix(prefix.replace(INSTANCE_PLACEHOLDER, "x"))
    if (access_key_id is None) != (secret_access_key is None):
        raise ValueError(
            "give both access_key_id and secret_access_key, or neither (Materialize ignores a key id without a secret)"
        )
    if access_key_id == "" or secret_access_key == "":
        raise ValueError("access_key_id and secret_access_key must not be empty")
    for name, value in (("region", region), ("endpoint", endpoint), ("role_arn", role_arn)):
        if value is not None and value == "":
            raise ValueError(f"{name} must not be empty; pass None to leave it out")
    if endpoint is not None:
        _check_endpoint(endpoint)
    return _s3_url(
        bucket,
        prefix,
        region=region,
        endpoint=endpoint,
        access_key_id=access_key_id,
        secret=secret_access_key,
        role_arn=role_arn,
    )


def azure_persist_url(account: str, container: str) -> str:
    """Build an Azure Blob Storage persist URL (workload identity, no SAS)."""
    _check_azure_account(account)
    _check_azure_container(container)
    return f"https://{account}.{AZURE_BLOB_SUFFIX}/{container}"


def parse_persist_url(url: str) -> PersistUrl:
    """Parse a persist URL the way Materialize does, refusing silent mistakes.

    Raises ValueError with a message that never contains the secret.
    """
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        # Materialize's URL parser strips some of these and drops others
        # silently; a clean URL avoids guessing which part changed.
        raise ValueError("persist URL contains whitespace or control characters; percent-encode spaces as %20")
    scheme, sep, _ = url.partition(":")
    if not sep:
        raise ValueError("persist URL has no scheme; expected s3:// or https://")
    scheme = scheme.lower()
    if scheme == "s3":
        return _parse_s3(url)
    if scheme in ("http", "https"):
        return _parse_azure(url)
    if scheme == "file":
        raise ValueError(
            "file:// persist URLs are a single-machine development backend; "
            "use s3:// (or an S3-compatible store) or Azure Blob Storage"
        )
    if scheme == "mem":
        raise ValueError("mem:// persist URLs exist only for Materialize's own tests")
    shown = repr(scheme) if re.fullmatch(r"[a-z][a-z0-9+.-]{0,15}", scheme) else "(unreadable)"
    raise ValueError(
        f"unknown persist URL scheme {shown}; expected s3:// or https://<account>.{AZURE_BLOB_SUFFIX}/<container>"
    )


def _s3_url(
    bucket: str,
    prefix: str,
    *,
    region: str | None,
    endpoint: str | None,
    access_key_id: str | None,
    secret: str | None,
    role_arn: str | None,
) -> str:
    userinfo = ""
    if access_key_id is not None and secret is not None:
        # The redaction marker is left readable; real secrets are encoded.
        encoded_secret = secret if secret == REDACTED else quote(secret, safe="")
        userinfo = f"{quote(access_key_id, safe='')}:{encoded_secret}@"
    path = f"/{prefix}" if prefix else ""
    params = [
        (name, value)
        for name, value in (("region", region), ("endpoint", endpoint), ("role_arn", role_arn))
        if value is not None
    ]
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    return f"s3://{userinfo}{bucket}{path}" + (f"?{query}" if query else "")


def _parse_s3(url: str) -> PersistUrl:
    rest = url[len("s3:") :]
    if not rest.startswith("//"):
        raise ValueError("S3 persist URL must start with s3://")
    rest = rest[2:]
    if "#" in rest:
        raise ValueError(
            "persist URL contains '#', which starts a fragment Materialize "
            "ignores; percent-encode '#' inside credentials as %23"
        )
    authority_end = _first_index(rest, "/?")
    authority, rest = rest[:authority_end], rest[authority_end:]
    path, _, query = rest.partition("?")

    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        userinfo, hostport = "", authority
    bucket, colon, _ = hostport.partition(":")
    if "@" in rest and not at:
        # A raw '/', '?' or '#' in a secret ends the authority early; say so
        # without echoing any of the pieces, which may be parts of the secret.
        raise ValueError(
            "persist URL has '@' after the bucket: percent-encode '/', '?', "
            "'#' and '@' inside the access key id and secret"
        )
    if colon:
        # The port is not echoed: a mangled URL can put secret text here.
        raise ValueError(
            "persist URL has a port after the bucket, which Materialize "
            "ignores; give the store's address as ?endpoint=<url-encoded URL>"
        )
    if not bucket:
        raise ValueError("S3 persist URL is missing the bucket: s3://<bucket>/<prefix>")
    _check_bucket(bucket)

    access_key_id, secret = _parse_userinfo(userinfo) if at else (None, None)

    params = _parse_query(query)
    unknown = sorted(set(params) - set(S3_QUERY_PARAMETERS))
    if unknown:
        raise ValueError(_unknown_params_message(unknown))
    for name, value in params.items():
        if value == "":
            raise ValueError(f"persist URL parameter {name!r} is empty")
    endpoint = params.get("endpoint")
    if endpoint is not None:
        _check_endpoint(endpoint)

    return PersistUrl(
        scheme="s3",
        bucket=bucket,
        prefix=_serialize_path(path).removeprefix("/"),
        region=params.get("region"),
        endpoint=endpoint,
        access_key_id=access_key_id,
        secret_access_key=secret,
        role_arn=params.get("role_arn"),
    )


def _parse_userinfo(userinfo: str) -> tuple[str, str]:
    user, colon, password = userinfo.partition(":")
    if not colon or password == "":
        # Materialize only uses credentials when a non-empty password is
        # present; a lone key id would silently fall back to the ambient
        # credentials, which is never what the author of the URL meant.
        raise ValueError(
            "persist URL has an access key id but no secret; Materialize "
            "would ignore it. Use s3://KEY_ID:SECRET@bucket/prefix with both "
            "percent-encoded, or no credentials at all"
        )
    if user == "":
        raise ValueError("persist URL has a secret but an empty access key id")
    return unquote(user, errors="replace"), unquote(password, errors="replace")


def _parse_query(query: str) -> dict[str, str]:
    # Later duplicates win, as in Materialize's map of query pairs.
    return dict(parse_qsl(query, keep_blank_values=True, errors="replace"))


def _unknown_params_message(unknown: list[str]) -> str:
    names = ", ".join(unknown)
    allowed = ", ".join(S3_QUERY_PARAMETERS)
    message = (
        f"unknown persist URL query parameter(s): {names}. Materialize refuses to start with them; allowed: {allowed}"
    )
    encryption = [name for name in unknown if name in S3_ENCRYPTION_QUERY_PARAMETERS]
    if encryption:
        message += (
            f" ({', '.join(encryption)} belong to persist envelope encryption, "
            "which only recent Materialize development builds understand)"
        )
    return message


def _parse_azure(url: str) -> PersistUrl:
    parts = urlsplit(url)
    if parts.query:
        raise ValueError(
            "Azure persist URL has a query string; Materialize would take it "
            "as a SAS token, but this installer uses workload identity. "
            f"Use https://<account>.{AZURE_BLOB_SUFFIX}/<container> with nothing after it"
        )
    if parts.fragment or url.endswith("#"):
        raise ValueError("Azure persist URL must not contain '#'")
    if "@" in parts.netloc:
        raise ValueError("Azure persist URL must not contain credentials")
    if ":" in parts.netloc.rpartition("]")[2]:
        raise ValueError("Azure persist URL must not contain a port")
    host = (parts.hostname or "").lower()
    account, dot, root = host.partition(".")
    if account == "devstoreaccount1":
        raise ValueError(
            "devstoreaccount1 is the Azurite emulator account, which Materialize only uses in its own tests"
        )
    if not dot or root != AZURE_BLOB_SUFFIX:
        raise ValueError(
            f"unsupported persist URL host {host!r}: Materialize accepts only "
            f"https://<account>.{AZURE_BLOB_SUFFIX}/<container> for Azure"
        )
    _check_azure_account(account)
    segments = parts.path.split("/")[1:]
    container = segments[0] if segments else ""
    if not container:
        raise ValueError(
            f"Azure persist URL is missing the container: https://{account}.{AZURE_BLOB_SUFFIX}/<container>"
        )
    if any(segments[1:]):
        raise ValueError(
            "Azure persist URLs take no prefix: Materialize uses only the "
            "container and ignores the rest of the path, so give each "
            "instance its own container"
        )
    _check_azure_container(container)
    return PersistUrl(scheme="azure", bucket=container, account=account)


def _first_index(text: str, chars: str) -> int:
    positions = [i for i in (text.find(c) for c in chars) if i >= 0]
    return min(positions) if positions else len(text)


def _serialize_path(path: str) -> str:
    out = []
    for char in path:
        if char in _PATH_ESCAPED or ord(char) > 0x7E:
            out.append(quote(char, safe=""))
        else:
            out.append(char)
    return "".join(out)


def _check_bucket(bucket: str) -> None:
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(
            f"invalid bucket name {bucket!r}: use letters, digits, '.', '-' and '_' "
            "(3-255 characters, starting with a letter or digit)"
        )


def _check_prefix(prefix: str) -> None:
    if not _SAFE_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"prefix {prefix!r} contains characters that URL serialization "
            "would escape (Materialize then stores the escapes literally); "
            "use letters, digits and -._~!$&'()*+,;=:/"
        )
    if prefix.startswith("/"):
        raise ValueError("prefix must not start with '/'")


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "persist URL endpoint must be an http:// or https:// URL with a host "
            "(percent-encode it inside the persist URL)"
        )


def _check_azure_account(account: str) -> None:
    if not _AZURE_ACCOUNT.fullmatch(account):
        raise ValueError(f"invalid Azure storage account name {account!r}: 3-24 lowercase letters and digits")


def _check_azure_container(container: str) -> None:
    if not _AZURE_CONTAINER.fullmatch(container):
        raise ValueError(
            f"invalid Azure container name {container!r}: 3-63 lowercase letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
