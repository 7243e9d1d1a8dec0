"""persist_url: Materialize's persist URL rules, built and parsed."""

from __future__ import annotations

import pytest

from components.persist_url import (
    S3_QUERY_PARAMETERS,
    PersistUrl,
    azure_persist_url,
    parse_persist_url,
    s3_persist_url,
)

ODD_SECRETS = [
    "plain",
    "with/slash",
    "with+plus",
    "with=equals",
    "with@at",
    "with:colon",
    "all/+=@:of them",
    "percent%2Fliteral%",
    "hash#question?amp&",
    "unicodé ✓",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]


@pytest.mark.parametrize("secret", ODD_SECRETS)
def test_secrets_round_trip(secret: str) -> None:
    url = s3_persist_url("my-bucket", "mz/main", "us-east-1", access_key_id="AKIA/KEY+1", secret_access_key=secret)
    parsed = parse_persist_url(url)
    assert parsed.secret_access_key == secret
    assert parsed.access_key_id == "AKIA/KEY+1"
    assert parsed.has_secret
    assert (parsed.bucket, parsed.prefix, parsed.region) == ("my-bucket", "mz/main", "us-east-1")


def test_endpoint_round_trips_and_forces_path_style() -> None:
    endpoint = "https://minio.example.com:9000/base?x=1&y=a+b"
    parsed = parse_persist_url(s3_persist_url("bkt", "p", "us-east-1", endpoint=endpoint))
    assert parsed.endpoint == endpoint
    assert parsed.path_style


def test_without_endpoint_virtual_hosted_style() -> None:
    assert not parse_persist_url("s3://bkt/p?region=eu-west-1").path_style


def test_role_arn_round_trips() -> None:
    role = "arn:aws:iam::123456789012:role/mz"
    assert parse_persist_url(s3_persist_url("bkt", "p", None, role_arn=role)).role_arn == role


def test_no_credentials_means_default_chain() -> None:
    parsed = parse_persist_url("s3://bkt/materialize/main?region=us-east-1")
    assert parsed.access_key_id is None
    assert not parsed.has_secret


def test_repr_never_shows_the_secret() -> None:
    parsed = parse_persist_url(s3_persist_url("bkt", "p", "r", access_key_id="AK", secret_access_key="s3cr3t-value"))
    assert "s3cr3t-value" not in repr(parsed)
    assert parsed.secret_access_key == "s3cr3t-value"


def test_redacted_hides_the_secret_and_keeps_the_rest() -> None:
    url = s3_persist_url("bkt", "p", "us-east-1", "http://127.0.0.1:9000", "AK", "s3cr3t/value")
    shown = parse_persist_url(url).redacted()
    assert "s3cr3t" not in shown
    assert shown.startswith("s3://AK:****@bkt/p?")
    assert "endpoint=http%3A%2F%2F127.0.0.1%3A9000" in shown


def test_query_is_form_decoded_like_materialize() -> None:
    # Materialize decodes query pairs as application/x-www-form-urlencoded.
    assert parse_persist_url("s3://bkt/p?region=us+east").region == "us east"
    assert parse_persist_url("s3://bkt/p?region=us%2Beast").region == "us+east"


def test_later_duplicate_parameter_wins() -> None:
    assert parse_persist_url("s3://bkt/p?region=a&region=b").region == "b"


def test_prefix_is_taken_as_serialized() -> None:
    # The Rust url crate escapes these in the path and Materialize never decodes it.
    assert parse_persist_url("s3://bkt/a<b>{c}").prefix == "a%3Cb%3E%7Bc%7D"
    assert parse_persist_url("s3://bkt/caf\u00e9").prefix == "caf%C3%A9"
    assert parse_persist_url("s3://bkt/a%2Fb").prefix == "a%2Fb"


def test_object_keys_follow_materialize() -> None:
    assert parse_persist_url("s3://bkt/mz/main").object_key("k") == "mz/main/k"
    assert parse_persist_url("s3://bkt").object_key("k") == "/k"
    assert parse_persist_url("s3://bkt/").object_key("k") == "/k"


def test_instance_placeholder_survives_building() -> None:
    url = s3_persist_url("bkt", "materialize/{instance}", "us-east-1")
    assert "/materialize/{instance}?" in url
    assert parse_persist_url(url.replace("{instance}", "main")).prefix == "materialize/main"


def test_unknown_parameter_is_named_with_the_allowed_list() -> None:
    url = s3_persist_url("bkt", "p", "r", access_key_id="AK", secret_access_key="TOPSECRET") + "&aws_role_arn=x"
    with pytest.raises(ValueError, match="aws_role_arn") as error:
        parse_persist_url(url)
    message = str(error.value)
    assert all(name in message for name in S3_QUERY_PARAMETERS)
    assert "TOPSECRET" not in message


def test_encryption_parameters_are_explained() -> None:
    with pytest.raises(ValueError, match=r"kms_key_id.*envelope encryption"):
        parse_persist_url("s3://bkt/p?kms_key_id=abc")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("s3://AKIAONLY@bkt/p", "no secret"),
        ("s3://AKIA:@bkt/p", "no secret"),
        ("s3://:Zq9secret@bkt/p", "empty access key id"),
        ("s3://bkt:9000/p", "port"),
        ("s3://AK:Zq9#secret@bkt/p", "'#'"),
        ("s3://AK:Zq9/secret@bkt/p", "percent-encode"),
        ("s3://AK:Zq9?secret@bkt/p", "percent-encode"),
        ("s3://AK:se/Zq9:x@bkt/p", "percent-encode"),
        ("s3://AK:Zq9/rest-of-secret", "port"),
        ("s3:///p", "missing the bucket"),
        ("s3://bkt/p?region=", "empty"),
        ("s3://bkt/p?endpoint=minio:9000", "http"),
        ("s3:bkt/p", "s3://"),
        ("s3://bkt/p with\ttab", "whitespace"),
    ],
)
def test_silent_mistakes_are_refused_without_echoing_secrets(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        parse_persist_url(url)
    assert "Zq9" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("file:///tmp/blob", "development"),
        ("mem://", "tests"),
        ("gs://bucket/p", "'gs'"),
        ("bucket/prefix", "scheme"),
    ],
)
def test_unsupported_schemes(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_persist_url(url)


def test_azure_round_trip() -> None:
    url = azure_persist_url("mzstorage01", "materialize-main")
    assert url == "https://mzstorage01.blob.core.windows.net/materialize-main"
    parsed = parse_persist_url(url)
    assert parsed == PersistUrl(scheme="azure", bucket="materialize-main", account="mzstorage01")
    assert parsed.container == "materialize-main"
    assert parsed.prefix == ""
    assert parsed.redacted() == url


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("https://mzstorage01.blob.core.windows.net/ctr/prefix", "no prefix"),
        ("https://mzstorage01.blob.core.windows.net/ctr?sv=2022&sig=TOPSECRET", "SAS"),
        ("https://mzstorage01.blob.core.windows.net/", "missing the container"),
        ("https://mzstorage01.blob.core.windows.net", "missing the container"),
        ("https://devstoreaccount1.blob.core.windows.net/ctr", "emulator"),
        ("https://mzstorage01.example.com/ctr", "unsupported"),
        ("https://mzstorage01.blob.core.windows.net:8443/ctr", "port"),
        ("https://user:TOPSECRET@mzstorage01.blob.core.windows.net/ctr", "credentials"),
        ("https://Bad_Account.blob.core.windows.net/ctr", "account"),
        ("https://mzstorage01.blob.core.windows.net/Bad--Name", "container"),
    ],
)
def test_azure_mistakes(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        parse_persist_url(url)
    assert "TOPSECRET" not in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"access_key_id": "AK"}, "both"),
        ({"secret_access_key": "S"}, "both"),
        ({"access_key_id": "", "secret_access_key": "S"}, "empty"),
        ({"endpoint": "minio:9000"}, "http"),
        ({"endpoint": ""}, "empty"),
    ],
)
def test_builder_refuses_incomplete_settings(arguments: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        s3_persist_url("bkt", "p", "us-east-1", **arguments)


@pytest.mark.parametrize("prefix", ["has space", "has?question", "has#hash", "/leading", "per%cent", "brace{x}"])
def test_builder_refuses_prefixes_that_url_serialization_would_change(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        s3_persist_url("bkt", prefix, "us-east-1")


def test_builder_keeps_colons_in_prefixes() -> None:
    # Materialize's own Terraform uses prefixes like name:serviceaccount:namespace:name.
    prefix = "mz:serviceaccount:materialize-environment:main"
    assert parse_persist_url(s3_persist_url("bkt", prefix, "us-east-1")).prefix == prefix


def test_azure_builder_validates_names() -> None:
    with pytest.raises(ValueError, match="account"):
        azure_persist_url("Not-Valid", "ctr")
    with pytest.raises(ValueError, match="container"):
        azure_persist_url("mzstorage01", "x")
