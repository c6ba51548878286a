"""Does a certificate cover a host name? ACM's rule: a name matches exactly, or a wildcard `*.<parent>` matches one
label in its place (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html: the asterisk protects
only one subdomain level; `*.example.com` covers `a.example.com`, not `example.com` nor `a.b.example.com`)."""

from __future__ import annotations

from collections.abc import Iterable


def covers(names: Iterable[str], host: str) -> bool:
    host = host.rstrip(".").lower()
    for name in (n.rstrip(".").lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False
