"""GET /payments?customer_id=: a customer's payments from the customer index, newest first, page by page."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest


def new_customer() -> str:
    return f"cus_{uuid.uuid4().hex[:16]}"


def create(api: Any, customer_id: str, count: int) -> list[dict[str, Any]]:
    created = [api.post(api.valid_body(customer_id=customer_id, amount=f"{n + 1}.00")) for n in range(count)]
    assert [response.status for response in created] == [201] * count
    return [response.body for response in created]


def test_lists_only_the_customers_payments_newest_first(api: Any) -> None:
    customer, other = new_customer(), new_customer()
    created = create(api, customer, 3)
    create(api, other, 1)
    response = api.list(customer_id=customer)
    assert response.status == 200
    payments = response.body["payments"]
    assert sorted(p["payment_id"] for p in payments) == sorted(p["payment_id"] for p in created)
    assert all(p["customer_id"] == customer for p in payments)
    assert [p["created_at"] for p in payments] == sorted((p["created_at"] for p in payments), reverse=True)
    assert {p["payment_id"]: p for p in payments} == {p["payment_id"]: p for p in created}  # the public view
    assert response.body["next_token"] is None


def test_pages_cover_every_payment_once(api: Any) -> None:
    customer = new_customer()
    created = {p["payment_id"] for p in create(api, customer, 5)}
    seen: list[str] = []
    query = {"customer_id": customer, "limit": "2"}
    for _ in range(5):  # 5 payments, 2 a page: at most 3 pages (and an empty one when the last was full)
        page = api.list(**query)
        assert page.status == 200
        assert len(page.body["payments"]) <= 2
        seen += [p["payment_id"] for p in page.body["payments"]]
        if page.body["next_token"] is None:
            break
        query["next_token"] = page.body["next_token"]
    assert sorted(seen) == sorted(created)


def test_a_customer_without_payments_gets_an_empty_list(api: Any) -> None:
    response = api.list(customer_id=new_customer())
    assert response.status == 200
    assert response.body == {"payments": [], "next_token": None}


def token(position: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, ["customer_id"]),
        ({"customer_id": "bob"}, ["customer_id"]),
        ({"customer_id": "cus_Test1234", "limit": "0"}, ["limit"]),
        ({"customer_id": "cus_Test1234", "limit": "101"}, ["limit"]),
        ({"customer_id": "cus_Test1234", "limit": "ten"}, ["limit"]),
        ({"customer_id": "cus_Test1234", "next_token": "not base64 !"}, ["next_token"]),
        (
            {
                "customer_id": "cus_Test1234",
                "next_token": token(
                    {
                        "customer_id": "cus_Other999",
                        "created_at": "2026-01-01T00:00:00.000Z",
                        "payment_id": "pay_" + "0" * 32,
                    }
                ),
            },
            ["next_token"],
        ),
        ({"customer_id": "x", "limit": "-1"}, ["customer_id", "limit"]),
    ],
)
def test_a_bad_query_is_400_naming_each_parameter(api: Any, query: dict[str, str], fields: list[str]) -> None:
    response = api.list(**query)
    assert response.status == 400
    assert response.body["error"] == "validation_failed"
    assert response.field_names == fields


def test_without_the_index_setting_the_list_fails_as_a_deployment_error(api: Any) -> None:
    api.configure(CUSTOMER_INDEX=None)
    response = api.list(customer_id=new_customer())
    assert response.status == 500
    assert response.body["error"] == "internal_error"
