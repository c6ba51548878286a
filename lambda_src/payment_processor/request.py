"""The parts of an API Gateway REST proxy event (payload v1) the API uses, read defensively."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 16 * 1024


class BodyError(ValueError):
    """The body cannot be turned into text (missing, too large, bad base64, not UTF-8)."""


@dataclass(frozen=True)
class Headers:
    """Case-insensitive header lookup over ``headers`` and ``multiValueHeaders`` (either may be null)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Headers:
        merged: dict[str, list[str]] = {}
        multi = event.get("multiValueHeaders")
        if isinstance(multi, Mapping):
            for name, values in multi.items():
                if isinstance(name, str) and isinstance(values, list):
                    merged.setdefault(name.lower(), []).extend(v for v in values if isinstance(v, str))
        single = event.get("headers")
        if isinstance(single, Mapping):
            for name, value in single.items():
                if isinstance(name, str) and isinstance(value, str):
                    merged.setdefault(name.lower(), []).append(value)
        return cls({name: tuple(dict.fromkeys(values)) for name, values in merged.items()})

    def get_all(self, name: str) -> tuple[str, ...]:
        """Distinct values sent for ``name`` (API Gateway repeats a header in both maps)."""
        return self.values.get(name.lower(), ())

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[-1] if values else None


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    resource: str
    path_parameters: Mapping[str, str]
    query: Mapping[str, str]
    headers: Headers
    body: Any
    is_base64_encoded: bool
    request_id: str

    def text_body(self) -> str:
        """The body as text: base64-decoded if flagged, strictly UTF-8, at most MAX_BODY_BYTES."""
        if self.body is None or self.body == "":
            raise BodyError("is required")
        if not isinstance(self.body, str):
            raise BodyError("must be a JSON object")
        if self.is_base64_encoded:
            if len(self.body) > (MAX_BODY_BYTES * 4) // 3 + 4:
                raise BodyError(f"must not exceed {MAX_BODY_BYTES} bytes")
            try:
                raw = base64.b64decode(self.body, validate=True)
            except (binascii.Error, ValueError):
                raise BodyError("is not valid base64") from None
        else:
            try:
                raw = self.body.encode("utf-8")
            except UnicodeEncodeError:
                raise BodyError("is not valid UTF-8") from None
        if len(raw) > MAX_BODY_BYTES:
            raise BodyError(f"must not exceed {MAX_BODY_BYTES} bytes")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError("is not valid UTF-8") from None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(raw: Any) -> dict[str, str]:
    """A map of strings from the event (API Gateway sends null when there is none)."""
    if not isinstance(raw, Mapping):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


def parse_event(event: Any, request_id: str) -> ApiRequest:
    if not isinstance(event, Mapping):
        event = {}
    return ApiRequest(
        method=_str(event.get("httpMethod")).upper(),
        path=_str(event.get("path")),
        resource=_str(event.get("resource")),
        path_parameters=_strings(event.get("pathParameters")),
        query=_strings(event.get("queryStringParameters")),
        headers=Headers.from_event(event),
        body=event.get("body"),
        is_base64_encoded=event.get("isBase64Encoded") is True,
        request_id=request_id,
    )
