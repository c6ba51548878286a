"""Property: malformed bodies and headers are always a 400 and never write anything."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = ("amount", "currency", "customer_id", "payment_method", "description")
REQUIRED = FIELDS[:4]
AMOUNT_SHAPE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]{1,2})?")
KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{8,64}")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
not_a_scalar = st.lists(json_values, max_size=2) | st.dictionaries(st.text(max_size=5), json_values, max_size=2)
near_valid_fields = st.fixed_dictionaries(
    {
        "amount": st.sampled_from(["12.50", "0.01", "100000.00"]) | st.decimals(0, 100000, places=2).map(str),
        "currency": st.sampled_from(["USD", "EUR", "GBP"]) | st.text(max_size=4),
        "customer_id": st.from_regex(r"cus_[A-Za-z0-9]{4,32}", fullmatch=True) | st.text(max_size=10),
        "payment_method": st.from_regex(r"pm_[A-Za-z0-9]{4,32}", fullmatch=True) | st.text(max_size=10),
        "description": st.none() | st.text(max_size=30),
    }
)


@st.composite
def corrupted_payment(draw: st.DrawFn) -> str:
    """A plausible payment with at least one defect that makes it invalid."""
    body: dict[str, Any] = draw(near_valid_fields)
    defect = draw(st.sampled_from(["drop", "extra", "shape", "amount", "description"]))
    if defect == "drop":
        del body[draw(st.sampled_from(REQUIRED))]
    elif defect == "extra":
        body[draw(st.text(max_size=12).filter(lambda name: name not in FIELDS))] = draw(json_values)
    elif defect == "shape":
        body[draw(st.sampled_from(REQUIRED))] = draw(not_a_scalar | st.booleans() | st.none())
    elif defect == "amount":
        body["amount"] = draw(
            st.text(max_size=12).filter(lambda text: not AMOUNT_SHAPE.fullmatch(text))
            | st.sampled_from(["0", "0.00", "100000.01", "1.001"])
        )
    else:
        body["description"] = draw(st.text(min_size=201, max_size=240) | st.just("bad\u0007bell"))
    return json.dumps(body)


bodies = st.one_of(
    st.none().map(lambda _: (None, False)),
    st.text(max_size=200).map(lambda text: (text, False)),
    st.text(max_size=60).map(lambda text: (text, True)),
    st.binary(max_size=200).map(lambda raw: (base64.b64encode(raw).decode(), True)),
    json_values.map(lambda value: (json.dumps(value), False)),
    corrupted_payment().map(lambda text: (text, False)),
    corrupted_payment().map(lambda text: (base64.b64encode(text.encode()).decode(), True)),
)
random_headers = st.dictionaries(st.text(max_size=20), st.text(max_size=70), max_size=4)
headers = st.one_of(
    st.none(),
    random_headers,
    st.tuples(random_headers, st.from_regex(KEY_SHAPE, fullmatch=True)).map(
        lambda pair: {**pair[0], "Idempotency-Key": pair[1]}
    ),
)


def test_malformed_requests_are_400_and_never_write(
    api: Any, observer: Any, payment_modules: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = payment_modules["repository"]
    writes: list[str] = []
    insert = repository.insert

    def spy(item: dict[str, Any]) -> None:
        writes.append(item["payment_id"])
        insert(item)

    monkeypatch.setattr(repository, "insert", spy)
    before = observer.snapshot()

    @settings(
        max_examples=250,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies, headers=headers)
    def check(body: tuple[str | None, bool], headers: dict[str, str] | None) -> None:
        text, encoded = body
        response = api.invoke(api.event("POST", "/payments", body=text, headers=headers, base64_encoded=encoded))
        assert response.status == 400, response.body
        assert response.body["error"] == "validation_failed"
        assert response.field_names
        assert writes == []

    check()
    assert observer.snapshot() == before
