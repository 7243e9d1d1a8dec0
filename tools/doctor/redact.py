"""Redaction of credentials in URLs before they are printed."""

from __future__ import annotations

from urllib.parse import unquote

REDACTED = "****"

# Query parameters that carry credentials in the URLs this project handles
# (libpq/tokio-postgres, Azure SAS tokens, presigned S3 URLs).
SECRET_QUERY_PARAMETERS = frozenset(
    {
        "password",
        "sslpassword",
        "sslkey_inline",
        "sig",
        "x-amz-signature",
        "x-amz-security-token",
        "secret",
        "token",
        "access_token",
    }
)


def redact_url(url: str) -> str:
    """`url` with its password and secret query values replaced by ****.

    Errs towards hiding too much: everything between the first `:` of the
    user information and the *last* `@` is hidden, because a password with an
    unencoded `@`, `/` or `?` confuses the usual split. Text that does not
    look like a URL is not shown at all.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.replace("+", "").replace(".", "").replace("-", "").isalnum():
        return "(not a URL; not shown)"
    userinfo, at, tail = rest.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}:{REDACTED}@{tail}" if colon else f"{userinfo}@{tail}"
    if "#" in rest:
        # A fragment only appears by accident, typically from a raw '#' in a
        # secret; hide it rather than risk showing part of one.
        rest = rest.split("#", 1)[0] + "#" + REDACTED
    base, question, query = rest.partition("?")
    if question:
        base += "?" + _redact_query(query)
    return f"{scheme}://{base}"


def _redact_query(query: str) -> str:
    items = []
    for item in query.split("&"):
        key, eq, _ = item.partition("=")
        if eq and _decoded_name(key) in SECRET_QUERY_PARAMETERS:
            items.append(f"{key}={REDACTED}")
        else:
            items.append(item)
    return "&".join(items)


def _decoded_name(key: str) -> str:
    return unquote(key).lower()
