"""What API Gateway decided before it invoked a function, for a request that reached the server.

The API's routes are the payment processor's own (`payment_processor.api.ROUTES`, API key required) and
`GET /health` (no key), all under the base path (`/v1/...`, the custom domain's base path mapping); the target
group's health check path (`/health`) is the server's own. Refusals are API Gateway's answers: a path outside the
base path 403 `Forbidden`, no such resource or method 403 `Missing Authentication Token`, and a missing or unknown
key 403 `Forbidden` (checked in `server`, after the route, as API Gateway orders them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from ..payment_processor.api import ROUTES

HEALTH_RESOURCE = "/health"  # the API's route: GET /v1/health through the custom domain
FORBIDDEN = "Forbidden"
MISSING_TOKEN = "Missing Authentication Token"


class Refusal(Exception):  # not an error of the server's: the answer API Gateway gives
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Route:
    resource: str  # the API's template, `/payments/{id}`
    methods: frozenset[str]
    api_key_required: bool
    health: bool = False


@dataclass(frozen=True)
class Routed:
    route: Route
    path_parameters: Mapping[str, str] = field(default_factory=dict)


HEALTH_ROUTE = Route(HEALTH_RESOURCE, frozenset({"GET"}), api_key_required=False, health=True)
API_ROUTES: tuple[Route, ...] = (
    *(Route(resource, frozenset(methods), api_key_required=True) for resource, methods in ROUTES.items()),
    HEALTH_ROUTE,
)


def _matches(template: str, path: str) -> dict[str, str] | None:
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    parameters: dict[str, str] = {}
    for part, value in zip(want, got, strict=True):
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = unquote(value)
        elif part != value:
            return None
    return parameters


def route(method: str, path: str, *, base_path: str, health_path: str) -> Routed:
    """The route of `method path` (the URL's path, undecoded); Refusal when API Gateway would not invoke one."""
    if path == health_path:
        found: list[tuple[Route, dict[str, str]]] = [(HEALTH_ROUTE, {})]
    else:
        first, _, inner = path.lstrip("/").partition("/")
        if first != base_path:
            raise Refusal(403, FORBIDDEN)
        found = [(r, p) for r in API_ROUTES if (p := _matches(r.resource, "/" + inner)) is not None]
    if not found:
        raise Refusal(403, MISSING_TOKEN)
    chosen, parameters = min(found, key=lambda pair: len(pair[1]))  # literal segments win, as API Gateway picks
    if method not in chosen.methods:
        raise Refusal(403, MISSING_TOKEN)
    return Routed(chosen, parameters)
