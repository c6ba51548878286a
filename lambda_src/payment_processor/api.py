"""Routes of the payments API: POST /payments, GET /payments?customer_id= and GET /payments/{id}."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import post_write, repository, responses, write_home
from .config import get_settings
from .listing import encode_token, validate_list
from .logging_setup import bind, get_logger, mask_payment_method
from .payments import new_item, payment_id_for, public_view, utc_now
from .request import ApiRequest
from .validation import ValidationFailed, is_payment_id, validate_create

COLLECTION = "/payments"
ITEM = "/payments/{id}"
_COLLECTION_PATH = re.compile(r"/payments/?")
_ITEM_PATH = re.compile(r"/payments/([^/]+)/?")
REPLAYED_HEADER = "Idempotent-Replayed"

Route = Callable[[ApiRequest], dict[str, Any]]


def create_payment(request: ApiRequest) -> dict[str, Any]:
    refused = _not_the_write_home(request)
    if refused is not None:
        return refused
    settings = get_settings()
    log = get_logger()
    try:
        payment = validate_create(request, settings)
    except ValidationFailed as invalid:
        log.info("validation failed", extra={"invalid_fields": [field for field, _ in invalid.fields]})
        return responses.validation_failed(invalid.fields, request.request_id)

    payment_id = payment_id_for(payment.idempotency_key)
    bind(payment_id=payment_id)
    item = new_item(payment, region=settings.region, request_id=request.request_id, created_at=utc_now())
    try:
        repository.insert(item)
    except repository.AlreadyExists:
        return _replay(item, request)
    outcome = post_write.complete(item)
    log.info(
        "payment created",
        extra={
            "currency": payment.currency,
            "payment_method_prefix": mask_payment_method(payment.payment_method),
            "steps": outcome,
        },
    )
    return responses.json_response(201, public_view(item), request.request_id)


def _not_the_write_home(request: ApiRequest) -> dict[str, Any] | None:
    """None when this region takes writes; else the 307 to the write home or the 503 of a switch (no side effect)."""
    home = write_home.load()
    if home is None:
        return None
    decision = write_home.decide(home)
    if decision.accept:
        return None
    if decision.location is not None:
        get_logger().info("redirected to the write home", extra={"write_home": decision.home})
        return responses.redirect(decision.location, decision.home or "", request.request_id)
    get_logger().info("write home switching: write refused")
    return responses.write_home_switching(write_home.RETRY_AFTER_SECONDS, request.request_id)


def _replay(attempted: dict[str, Any], request: ApiRequest) -> dict[str, Any]:
    """The key was used before: same request -> the original 201, different request -> 409."""
    existing = repository.get(attempted["payment_id"])
    if existing is None:
        raise RuntimeError("conditional write failed but the payment cannot be read")
    if existing.get("request_hash") != attempted["request_hash"]:
        get_logger().info("idempotency key reused with a different request")
        return responses.error_response(
            409,
            "idempotency_conflict",
            "Idempotency-Key was already used with a different request",
            request.request_id,
        )
    get_logger().info("idempotent replay")
    return responses.json_response(201, public_view(existing), request.request_id, {REPLAYED_HEADER: "true"})


def get_payment(request: ApiRequest) -> dict[str, Any]:
    payment_id = request.path_parameters.get("id")
    if payment_id is None:
        match = _ITEM_PATH.fullmatch(request.path)
        payment_id = match.group(1) if match else ""
    if not is_payment_id(payment_id):
        return responses.validation_failed([("id", "must be pay_ followed by 32 hex characters")], request.request_id)
    bind(payment_id=payment_id)
    item = repository.get(payment_id)
    if item is None:
        return responses.not_found("payment not found", request.request_id)
    return responses.json_response(200, public_view(item), request.request_id)


def list_payments(request: ApiRequest) -> dict[str, Any]:
    """One customer's payments, newest first; ``next_token`` is set when more remain."""
    try:
        query = validate_list(request)
    except ValidationFailed as invalid:
        get_logger().info("validation failed", extra={"invalid_fields": [field for field, _ in invalid.fields]})
        return responses.validation_failed(invalid.fields, request.request_id)
    items, position = repository.by_customer(query.customer_id, query.limit, query.start_after)
    body = {
        "payments": [public_view(item) for item in items],
        "next_token": encode_token(position) if position is not None else None,
    }
    return responses.json_response(200, body, request.request_id)


ROUTES: dict[str, dict[str, Route]] = {
    COLLECTION: {"POST": create_payment, "GET": list_payments},
    ITEM: {"GET": get_payment},
}


def resolve(request: ApiRequest) -> str | None:
    """The route template of a request: API Gateway's ``resource``, else matched from ``path``."""
    if request.resource in ROUTES:
        return request.resource
    if _COLLECTION_PATH.fullmatch(request.path):
        return COLLECTION
    if _ITEM_PATH.fullmatch(request.path):
        return ITEM
    return None


def dispatch(request: ApiRequest) -> dict[str, Any]:
    template = resolve(request)
    if template is None:
        return responses.not_found("no such route", request.request_id)
    methods = ROUTES[template]
    route = methods.get(request.method)
    if route is None:
        return responses.method_not_allowed(sorted(methods), request.request_id)
    return route(request)
