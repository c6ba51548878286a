"""The aws target's last hop: HTTPS to the resolved regional domain, verified for the name the client called.

A local TLS server stands in for API Gateway's regional endpoint, with a certificate from a throwaway CA: the
client connects to the address it resolved but sends SNI and Host for `api.<zone>`, so a certificate that does not
cover that name is refused (what a browser or curl following the alias does).
"""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.platform import free_port
from ops.client.transport import Outgoing, over_https

HOST = "api.payments.example.com"


def _certificate(
    name: str, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey, key: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = f"{self.headers['Host']}|{self.headers['x-api-key'] is not None}|{body.decode()}".encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


def _serve(tmp: Path, name: str) -> Iterator[tuple[int, ssl.SSLContext]]:
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _certificate("test CA", ca_name, ca_key, ca_key, ca=True)
    leaf = _certificate(name, ca_name, ca_key, key, ca=False)
    (tmp / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tmp / "leaf.pem", tmp / "key.pem")
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _Echo)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trust = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    try:
        yield port, trust
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint_for_host(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    yield from _serve(tmp_path, HOST)


@pytest.fixture
def endpoint_for_other_name(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    yield from _serve(tmp_path, "d-abc123.execute-api.us-east-1.amazonaws.com")


def test_the_request_reaches_the_resolved_address_with_the_called_host(
    endpoint_for_host: tuple[int, ssl.SSLContext],
) -> None:
    port, trust = endpoint_for_host
    request = Outgoing("POST", "/v1/payments", {"Host": HOST, "x-api-key": "k" * 40}, '{"n": 1}')
    answer = over_https(HOST, "127.0.0.1", request, port=port, context=trust)
    assert (answer.status, answer.body) == (201, f'{HOST}|True|{{"n": 1}}')


def test_a_certificate_that_does_not_cover_the_called_host_is_refused(
    endpoint_for_other_name: tuple[int, ssl.SSLContext],
) -> None:
    """The regional endpoint's own certificate (`*.execute-api...`) does not cover `api.<zone>`: the TLS handshake
    fails, which is why the platform needs the custom domain and its ACM certificate (issue 15)."""
    port, trust = endpoint_for_other_name
    with pytest.raises(ssl.SSLCertVerificationError, match=r"Hostname mismatch|doesn't match"):
        over_https(HOST, "127.0.0.1", Outgoing("POST", "/v1/payments", {"Host": HOST}, "{}"), port=port, context=trust)
