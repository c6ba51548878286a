"""API Gateway events as the handlers receive them, for tests and the load benchmark that call handlers in-process."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from typing import Any


def api_event(
    method: str,
    path: str,
    *,
    body: str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (payload v1)."""
    if isinstance(body, bytes):
        body, base64_encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": resource if resource is not None else path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) if headers is not None else None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} if headers is not None else None,
        "queryStringParameters": None,
        "pathParameters": dict(path_parameters) if path_parameters is not None else None,
        "stageVariables": None,
        "requestContext": {"requestId": f"req-{uuid.uuid4()}", "stage": "v1", "httpMethod": method},
        "body": body,
        "isBase64Encoded": base64_encoded,
    }
