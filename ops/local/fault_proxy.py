"""The fault proxy's rules and state (the process: `ops.local.fault_proxy_server`): which request a region outage
fails, how, and how many it failed. Pure: no sockets here.

A request belongs to the region its SigV4 credential scope names -- `Credential=AKID/date/REGION/SERVICE/aws4_request`
in the Authorization header, or the `X-Amz-Credential` query parameter of a presigned URL -- because that is the
region the caller addressed, whatever host or port it used (every local client calls the one emulator endpoint).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import parse_qs

Mode = Literal["refuse", "timeout", "503"]
MODES: tuple[Mode, ...] = get_args(Mode)
TIMEOUT_HOLD_SECONDS = 120.0  # `timeout`: longest a request is held unanswered (clients give up long before)

# Services whose credential scope is us-east-1 because they are global, not because they live there: Route 53's
# data plane (DNS answers, health checks, failover records) runs in every region and edge location, and IAM's
# data plane is in every region; only their control planes sit in us-east-1 (AWS whitepaper "AWS Fault Isolation
# Boundaries", Global services). An outage of us-east-1 is an outage of its regional services, not of these.
GLOBAL_SERVICES: tuple[str, ...] = ("route53", "iam")

CONTROL_PATH = "/_fault"
# Who sent a faulted request, from the User-Agent's extra token: the client (`ops.client.aws`), the local
# replication process, or else the ops tooling. The drill proves the failover sent the lost region nothing while the
# client and the replication go on trying it, as they would on the real day.
CLIENT_AGENT = "payments-client"
REPLICATION_AGENT = "payments-replication"
OPS_CALLER = "ops"
_SCOPE = re.compile(r"^[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/aws4_request$")
_HEADER_CREDENTIAL = re.compile(r"Credential=(?P<credential>[^,\s]+)")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


@dataclass(frozen=True)
class Scope:
    region: str
    service: str

    @property
    def key(self) -> str:
        return f"{self.region}/{self.service}"


@dataclass(frozen=True)
class Fault:
    region: str
    mode: Mode

    def as_json(self) -> dict[str, str]:
        return {"region": self.region, "mode": self.mode}


class BadFault(ValueError):
    """A control request the proxy refuses; `str()` is the one line it answers with (HTTP 400)."""


def credential_scope(authorization: str | None, query: str) -> Scope | None:
    """The region and service a SigV4 request is signed for: the Authorization header's, else a presigned URL's."""
    credential = None
    if authorization and authorization.startswith("AWS4-HMAC-SHA256"):
        found = _HEADER_CREDENTIAL.search(authorization)
        credential = found["credential"] if found else None
    if credential is None:
        credential = next(iter(parse_qs(query).get("X-Amz-Credential", [])), None)  # parse_qs decodes %2F
    matched = _SCOPE.match(credential) if credential else None
    return Scope(matched["region"], matched["service"]) if matched else None


def caller_of(user_agent: str | None) -> str:
    """`client`, `replication` or `ops`: the part of the platform a request came from (see CLIENT_AGENT)."""
    agent = user_agent or ""
    if CLIENT_AGENT in agent:
        return "client"
    if REPLICATION_AGENT in agent:
        return "replication"
    return OPS_CALLER


def faulted(scope: Scope | None, fault: Fault | None) -> bool:
    """Whether a request with this scope is failed by this fault (unsigned requests never are)."""
    if fault is None or scope is None:
        return False
    return scope.region == fault.region and scope.service not in GLOBAL_SERVICES


def parse_fault(body: bytes) -> Fault:
    """`{"region": "us-east-1", "mode": "refuse"}` -> Fault; anything else -> BadFault naming the field."""
    try:
        document = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadFault(f'body is not JSON ({error}); send {{"region": "us-east-1", "mode": "refuse"}}') from None
    if not isinstance(document, dict):
        raise BadFault('body must be a JSON object such as {"region": "us-east-1", "mode": "refuse"}')
    region, mode = document.get("region"), document.get("mode")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise BadFault(f"region={region!r} is invalid: use an AWS region name such as us-east-1")
    if mode not in MODES:
        raise BadFault(f"mode={mode!r} is invalid: use one of {', '.join(MODES)}")
    return Fault(region, mode)


def _is_json_protocol(headers: dict[str, str]) -> bool:
    return "x-amz-target" in headers or "json" in headers.get("content-type", "")


def service_unavailable(headers: dict[str, str], scope: Scope) -> tuple[dict[str, str], bytes]:
    """An AWS-style 503 ServiceUnavailable in the request's protocol: JSON for the JSON protocols (an
    X-Amz-Target header or a JSON body), else the XML error document the query and REST-XML protocols share."""
    message = f"the fault proxy fails {scope.region} (a region outage injected by `make outage`)"
    if _is_json_protocol(headers):
        body = json.dumps({"__type": "ServiceUnavailable", "message": message}).encode()
        return {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": "ServiceUnavailable"}, body
    body = (
        "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
        f"<Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    ).encode()
    return {"Content-Type": "text/xml"}, body


class FaultState:
    """The fault in force (one at a time) and the count of failed requests per region/service; thread-safe.

    `wait_for_change` lets `timeout` requests hold until the fault is cleared or replaced.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._fault: Fault | None = None
        self._generation = 0
        self._counts: Counter[str] = Counter()

    @property
    def fault(self) -> Fault | None:
        return self._fault

    def set(self, fault: Fault) -> None:
        """Put `fault` in force; the counts start again from zero."""
        with self._changed:
            self._fault = fault
            self._counts.clear()
            self._generation += 1
            self._changed.notify_all()

    def clear(self) -> None:
        """Lift the fault; the counts stay readable."""
        with self._changed:
            self._fault = None
            self._generation += 1
            self._changed.notify_all()

    def decide(self, scope: Scope | None, caller: str = OPS_CALLER) -> Fault | None:
        """The fault that fails this request (counted under `region/service/caller`), or None: forward it."""
        with self._changed:
            fault = self._fault
            if not faulted(scope, fault):
                return None
            assert scope is not None  # faulted() is False without a scope
            self._counts[f"{scope.key}/{caller}"] += 1
            return fault

    def wait_for_change(self, timeout: float = TIMEOUT_HOLD_SECONDS) -> bool:
        """Block until the fault is cleared or replaced (True) or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            generation = self._generation
            while self._generation == generation:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def report(self) -> dict[str, object]:
        """What `GET /_fault` answers: {"fault": {"region", "mode"} | null, "faulted": {"region/service/caller": n}}."""
        with self._changed:
            fault = self._fault.as_json() if self._fault else None
            return {"fault": fault, "faulted": dict(sorted(self._counts.items()))}
