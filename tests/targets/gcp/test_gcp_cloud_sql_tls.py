"""Cloud SQL TLS: encrypted-only by default; client-certificate-only as an option, the certificate inline in the URL."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from components.metadata_url import parse_metadata_url, postgres_url
from tests.harness.graph import waits_for
from tests.harness.stack import Evaluation, backend, evaluate, named, paths_holding
from tests.targets.gcp.stack import MATERIALIZE, SECRET, SQL_INSTANCE, gcp_stack, with_gcp

SSL_CERT = "gcp:sql/sslCert:SslCert"
TWO_INSTANCES = [{"name": "main"}, {"name": "ad-hoc"}]


@pytest.fixture(scope="module")
def certificates() -> Evaluation:
    return evaluate(with_gcp(postgresClientCertificates=True) | {"instances": TWO_INSTANCES})


def test_by_default_connections_are_encrypted_only_without_client_certificates() -> None:
    evaluation = evaluate(gcp_stack())
    assert evaluation.one(SQL_INSTANCE).inputs["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert evaluation.of_type(SSL_CERT) == []
    url = parse_metadata_url(backend(evaluation, "main")["metadata_backend_url"])
    assert url.sslmode == "require"
    assert url.params == ()


def test_the_option_requires_trusted_client_certificates_on_the_server(certificates: Evaluation) -> None:
    ip = certificates.one(SQL_INSTANCE).inputs["settings"]["ipConfiguration"]
    assert ip["sslMode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


def test_each_instance_gets_its_own_certificate_and_its_url_carries_it_inline(certificates: Evaluation) -> None:
    server = certificates.one(SQL_INSTANCE)
    by_name = {r.inputs["commonName"]: r for r in certificates.of_type(SSL_CERT)}
    assert sorted(by_name) == ["materialize_ad_hoc", "materialize_main"]
    for instance, role in (("main", "materialize_main"), ("ad-hoc", "materialize_ad_hoc")):
        certificate = by_name[role]
        assert certificate.inputs["instance"] == server.state["name"]
        url = parse_metadata_url(backend(certificates, instance)["metadata_backend_url"])
        # The server's CA is given, so its certificate is checked (not its name:
        # Cloud SQL's certificate names the instance, the URL its private address).
        assert url.sslmode == "verify-ca"
        assert url.param("sslcert_inline") == certificate.state["cert"]
        assert url.param("sslkey_inline") == certificate.state["privateKey"]
        assert url.param("sslrootcert_inline") == certificate.state["serverCaCert"]
        assert str(url.param("sslcert_inline")).startswith("-----BEGIN CERTIFICATE-----\n")
        assert (url.host, url.user, url.database) == (server.state["privateIpAddress"], role, role)
        assert url.has_password
        # The instance starts only once its certificate exists.
        materialize = next(r for r in certificates.of_type(MATERIALIZE) if r.inputs["metadata"]["name"] == instance)
        assert waits_for(certificates, materialize, certificate)


def test_the_key_is_a_secret_wherever_it_goes_and_never_in_chart_values(certificates: Evaluation) -> None:
    keys = [r.state["privateKey"] for r in certificates.of_type(SSL_CERT)]
    # As the URL carries it (percent-encoded), and as the PEM text itself.
    holders = paths_holding(certificates, [quote(key, safe="") for key in keys] + keys)
    assert holders, "the client keys reach nothing"
    for resource, path in holders:
        # Only the instances' backend Secrets, and only as Pulumi secrets.
        assert resource.type == SECRET, (resource.type, path)
        assert resource.is_secret(path), (resource.name, path)
    for certificate in certificates.of_type(SSL_CERT):
        # The SDK's own secret outputs: the state keeps them encrypted.
        assert {"cert", "privateKey", "serverCaCert"} <= set(certificate.options["additionalSecretOutputs"])
    for instance in ("main", "ad-hoc"):
        assert named(certificates, SECRET, f"{instance}-materialize-backend").is_secret("stringData")
    redacted = parse_metadata_url(backend(certificates, "main")["metadata_backend_url"]).redacted()
    assert keys[0] not in redacted and "sslkey_inline=****" in redacted


@pytest.mark.parametrize("key", ["options", "sslmode", "password", "sslcert_file"])
def test_postgres_url_adds_only_parameters_materialize_reads_and_that_it_does_not_set_itself(key: str) -> None:
    with pytest.raises(ValueError, match=f"'{key}' is not a query parameter postgres_url adds"):
        postgres_url("10.60.0.3", 5432, "db", "user", "secret", sslmode="require", params=((key, "x"),))
