"""metadata_url: Postgres URLs as Materialize's Postgres client reads them."""

from __future__ import annotations

import pytest

from components.metadata_url import MetadataUrl, parse_metadata_url, postgres_url

ODD_PASSWORDS = ["plain", "p@ss:w/rd", "a+b=c&d?e#f%g", "space and ✓", "@@::"]


@pytest.mark.parametrize("password", ODD_PASSWORDS)
def test_round_trip_with_odd_passwords(password: str) -> None:
    url = postgres_url("db.example.com", 6432, "mz db/1", "mz@user", password, "require")
    assert parse_metadata_url(url) == MetadataUrl(
        host="db.example.com",
        port=6432,
        database="mz db/1",
        user="mz@user",
        password=password,
        sslmode="require",
    )


def test_plus_stays_a_plus() -> None:
    # Unlike form decoding, the Postgres URL parser leaves '+' alone.
    parsed = parse_metadata_url("postgres://u:a+b@h/d?application_name=x+y")
    assert parsed.password == "a+b"
    assert parsed.param("application_name") == "x+y"


def test_ipv6_host_round_trips() -> None:
    parsed = parse_metadata_url(postgres_url("::1", 5432, "db", "u"))
    assert (parsed.host, parsed.port) == ("::1", 5432)


def test_defaults() -> None:
    parsed = parse_metadata_url("postgresql://materialize@db.internal")
    assert (parsed.port, parsed.database, parsed.password, parsed.sslmode) == (5432, None, None, None)


def test_instance_placeholder_survives_building() -> None:
    url = postgres_url("h", 5432, "materialize_{instance}", "u", "p")
    assert url.endswith("/materialize_{instance}")
    assert parse_metadata_url(url.replace("{instance}", "main")).database == "materialize_main"


def test_query_parameters_override_and_are_kept() -> None:
    parsed = parse_metadata_url(
        "postgres://u@h/db?password=pw%26x&dbname=other&sslmode=verify-full&sslrootcert_inline=PEM&connect_timeout=5"
    )
    assert (parsed.password, parsed.database, parsed.sslmode) == ("pw&x", "other", "verify-full")
    assert parsed.param("sslrootcert_inline") == "PEM"
    assert parsed.param("connect_timeout") == "5"


def test_password_never_in_repr_or_redacted_form() -> None:
    parsed = parse_metadata_url("postgres://u:Zq9pw@h/db?sslkey_inline=Zq9key&sslrootcert_inline=PEM")
    assert "Zq9" not in repr(parsed)
    shown = parsed.redacted()
    assert "Zq9" not in shown
    assert shown == "postgres://u:****@h:5432/db?sslkey_inline=****&sslrootcert_inline=..."


@pytest.mark.parametrize(
    "options",
    [
        "--search_path=consensus",
        "-c%20search_path%3Dfoo",
        "-csearch_path=foo",
        "-c%20SEARCH_PATH%3Dfoo",
        "-c%20statement_timeout%3D5s%20-c%20search_path%3Dx",
        "-c%20statement_timeout%3D5s",
    ],
)
def test_options_are_refused_because_environmentd_replaces_them(options: str) -> None:
    with pytest.raises(ValueError, match=r"sets options.*silently ignored.*ALTER ROLE") as error:
        parse_metadata_url(f"postgres://u:Zq9pw@h/db?options={options}")
    assert "Zq9" not in str(error.value)


def test_the_statement_timeout_materializes_terraform_passes_is_refused_with_what_works_instead() -> None:
    # materialize-terraform-self-managed aws/examples/simple/main.tf (187f61a8).
    with pytest.raises(ValueError, match="statement_timeout = '15min'"):
        parse_metadata_url("postgres://u@h/db?sslmode=require&options=-c%20statement_timeout%3D15min")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://u:Zq9pw@h/db", "postgres://"),
        ("https://u:Zq9pw@h/db", "postgres://"),
        ("POSTGRES://u:Zq9pw@h/db", "lowercase"),
        ("host=h user=u password=Zq9pw", "postgres://"),
        ("postgres://u:Zq9pw@h/db?foo=1", "unknown .*'foo'"),
        ("postgres://u:Zq9pw@h/db?sslmode=allow", "sslmode"),
        ("postgres://u:Zq9pw@h/db?host=other", "one host"),
        ("postgres://u:Zq9pw@h/db?port=5433", "one host"),
        ("postgres://u:Zq9pw@h1,h2/db", "several hosts"),
        ("postgres://u:Zq9pw@%2Fvar%2Frun%2Fpostgresql/db", "Unix socket"),
        ("postgres://u:Zq9pw@/db", "no host"),
        ("postgres://u:Zq9pw@h:99999/db", "port"),
        ("postgres://u:Zq9pw@h:abc/db", "port"),
        ("postgres://h/db", "no user"),
        ("postgres://u:Zq9pw@h/db?sslmode", "without '='"),
        ("postgres://u:Zq9pw@h/%FF", "UTF-8"),
        ("postgres://u:Zq9 pw@h/db", "whitespace"),
        ("postgres://u:Zq9pw@h/db\n", "whitespace"),
    ],
)
def test_rejections_never_show_the_password(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        parse_metadata_url(url)
    assert "Zq9" not in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"host": ""}, "host"),
        ({"host": "/var/run/postgresql"}, "socket"),
        ({"port": 0}, "port"),
        ({"user": ""}, "user"),
        ({"database": ""}, "database"),
        ({"sslmode": "allow"}, "sslmode"),
    ],
)
def test_builder_refuses_bad_values(arguments: dict[str, object], match: str) -> None:
    values: dict[str, object] = {"host": "h", "port": 5432, "database": "db", "user": "u", **arguments}
    with pytest.raises(ValueError, match=match):
        postgres_url(**values)  # type: ignore[arg-type]
