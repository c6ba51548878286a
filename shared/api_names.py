"""The names of the payments API that clients, records, certificates and health checks share.

    api.<zone>                 the entry: what clients call (`https://api.<zone>/v1/payments`)
    <role>.api.<zone>          a leg: the failover pair the entry's weighted record for `role` leads to
    origin-<role>.api.<zone>   a region's own name: always that region, never failed over; its health
                               check probes it and the write home's redirects point at it

Every route sits under the base path `v1` (the custom domains' base path mapping to the API stage).
"""

from __future__ import annotations

from config.settings import Dns, Role

API_BASE_PATH = "v1"
# The header a client sends its API key in (API Gateway's name for it); the WAF log redacts it.
API_KEY_HEADER = "x-api-key"


def entry_name(dns: Dns) -> str:
    return f"{dns.api_record}.{dns.zone_name}"


def leg_name(dns: Dns, leg: Role) -> str:
    return f"{leg}.{dns.api_record}.{dns.zone_name}"


def origin_name(dns: Dns, role: Role) -> str:
    return f"origin-{role}.{dns.api_record}.{dns.zone_name}"


def base_url(host: str) -> str:
    """`https://<host>/v1`: where a route's path is appended."""
    return f"https://{host}/{API_BASE_PATH}"
