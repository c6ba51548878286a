"""API Gateway REST proxy events (payload v1) as a handler receives them: the client's last hop on the local target,
and the tests and load benchmark that call handlers in-process (`harness.api_events` re-exports this)."""

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
    stage: str = "v1",
    domain_name: str | None = None,
    api_key_id: str | None = None,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (payload v1). Through a custom domain `path` keeps the base path mapping's
    prefix (`/v1/payments`) while `resource` is the API's template (`/payments`), as API Gateway sends them."""
    if isinstance(body, bytes):
        body, base64_encoded = base64.b64encode(body).decode("ascii"), True
    context: dict[str, Any] = {"requestId": f"req-{uuid.uuid4()}", "stage": stage, "httpMethod": method}
    if domain_name is not None:
        context.update(domainName=domain_name, path=path, resourcePath=resource if resource is not None else path)
    if api_key_id is not None:
        context["identity"] = {"apiKeyId": api_key_id}  # the value itself travels only in its x-api-key header
    return {
        "resource": resource if resource is not None else path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) if headers is not None else None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} if headers is not None else None,
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters is not None else None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": base64_encoded,
    }
