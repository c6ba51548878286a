"""Does a certificate cover a host name? ACM's rule: a name matches exactly, or a wildcard `*.<parent>` matches one
label in its place (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html: the asterisk protects
only one subdomain level; `*.example.com` covers `a.example.com`, not `example.com` nor `a.b.example.com`)."""

from __future__ import annotations

from collections.abc import Iterable

from config.settings import Settings
from ops.client.aws import client
from ops.client.resolve import ResolveError


def covers(names: Iterable[str], host: str) -> bool:
    host = host.rstrip(".").lower()
    for name in (n.rstrip(".").lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def check_issued_for(settings: Settings, region: str, arn: str, host: str) -> None:
    """TLS: the certificate a front door serves must be ISSUED and cover the Host (else the client refuses it)."""
    certificate = client(settings, "acm", region).describe_certificate(CertificateArn=arn)["Certificate"]
    names = [certificate["DomainName"], *certificate.get("SubjectAlternativeNames", [])]
    if certificate["Status"] != "ISSUED":
        raise ResolveError(f"{host}: certificate {arn} is {certificate['Status']}, not ISSUED")
    if not covers(names, host):
        raise ResolveError(f"{host}: certificate {arn} covers {', '.join(sorted(set(names)))}, not {host}")
