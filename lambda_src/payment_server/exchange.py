"""One HTTP request in, one answer out: the route and key checks, then the domain's own code.

The request becomes the `ApiRequest` the Lambda adapter builds from an event (`payment_processor.request`) and
goes to the same `payment_processor.app.answer`; the health routes go to `health.app.check`. The answers are the
functions' proxy responses (`statusCode`, `headers`, `body`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..common.responses import JSON_CONTENT_TYPE, internal_error
from ..health import app as health_app
from ..payment_processor import app as payment_app
from ..payment_processor.logging_setup import get_logger, log_context
from ..payment_processor.request import ApiRequest, Headers
from .api_keys import ApiKeys
from .routes import FORBIDDEN, Refusal, Routed, route
from .settings import ServerSettings

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class Incoming:
    """An HTTP request as the server read it: `target` is the request line's (path and query, undecoded)."""

    method: str
    target: str
    headers: Message
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of(cls, response: Mapping[str, Any]) -> Reply:
        """A function's proxy response."""
        text = response.get("body") or ""
        body = base64.b64decode(text) if response.get("isBase64Encoded") else text.encode()
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        return cls(int(response["statusCode"]), headers, body)

    @classmethod
    def refused(cls, refusal: Refusal, request_id: str) -> Reply:
        """API Gateway's own answer: `{"message": ...}`."""
        body = json.dumps({"message": refusal.message}).encode()
        return cls(refusal.status, {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id}, body)


def headers_of(message: Message) -> Headers:
    merged: dict[str, list[str]] = {}
    for name, value in message.items():
        merged.setdefault(name.lower(), []).append(value)
    return Headers({name: tuple(dict.fromkeys(values)) for name, values in merged.items()})


def api_request(incoming: Incoming, routed: Routed, request_id: str) -> ApiRequest:
    """What API Gateway put in the event: no body is null, a body that is not UTF-8 travels base64-encoded."""
    text: str | None = None
    encoded = False
    if incoming.body:
        try:
            text = incoming.body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(incoming.body).decode("ascii"), True
    return ApiRequest(
        method=incoming.method,
        path=unquote(incoming.path),
        resource=routed.route.resource,
        path_parameters=dict(routed.path_parameters),
        query=dict(parse_qsl(incoming.query, keep_blank_values=True)),
        headers=headers_of(incoming.headers),
        body=text,
        is_base64_encoded=encoded,
        request_id=request_id,
    )


def _check_key(keys: ApiKeys, message: Message) -> None:
    sent = message.get(API_KEY_HEADER)
    if not sent or not keys.accepts(sent):
        raise Refusal(403, FORBIDDEN)


def respond(settings: ServerSettings, keys: ApiKeys, incoming: Incoming, request_id: str) -> Reply:
    method, path = incoming.method, incoming.path
    with log_context(request_id=request_id, region=settings.region, route=f"{method} {path[:128]}"):
        try:
            routed = route(method, path, base_path=settings.base_path, health_path=settings.health_path)
            if routed.route.api_key_required:
                _check_key(keys, incoming.headers)
        except Refusal as refusal:
            get_logger().info("request refused", extra={"status": refusal.status, "reason": refusal.message})
            return Reply.refused(refusal, request_id)
        except Exception:  # the key secret unreadable: the server's failure, never the caller's
            get_logger().exception("API key check failed", extra={"status": 500})
            return Reply.of(internal_error(request_id))
    if routed.route.health:
        return Reply.of(health_app.check(request_id))
    return Reply.of(payment_app.answer(request_id, lambda: api_request(incoming, routed, request_id)))
