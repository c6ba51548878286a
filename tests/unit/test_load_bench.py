"""The load benchmark's request mix and its checks of what was written (the bench itself prints figures)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bench.load import Answer, Planned, Written, checks, main, plan_requests


def test_the_mix_has_the_asked_shares_and_every_repeat_follows_its_original() -> None:
    planned = plan_requests(1000, 0.10, 0.03, "run", seed=1)
    kinds = Counter(p.kind for p in planned)
    assert kinds == {"new": 870, "retry": 100, "conflict": 30}
    first_seen: dict[str, int] = {}
    for position, request in enumerate(planned):
        if request.kind == "new":
            assert request.key not in first_seen
            first_seen[request.key] = position
        else:
            assert first_seen[request.key] < position
    originals = {p.key: p.body for p in planned if p.kind == "new"}
    assert all(p.body == originals[p.key] for p in planned if p.kind == "retry")
    assert all(p.body != originals[p.key] for p in planned if p.kind == "conflict")
    assert all(json.loads(p.body)["customer_id"] == "cus_Loadrun" for p in planned)


def test_shares_that_leave_no_new_payment_are_refused() -> None:
    with pytest.raises(SystemExit, match="must leave room for new payments"):
        plan_requests(10, 0.6, 0.4, "run", seed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests", "0"], "--requests must be at least 1"),
        (["--retries", "1.5"], "--retries is a share"),
        (["--target", "lambda"], "argument --target: invalid choice: 'lambda' (choose from"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _run() -> tuple[list[Answer], Written]:
    a = Planned("new", "k1", '{"amount": "1.00"}')
    b = Planned("new", "k2", '{"amount": "2.00"}')
    answers = [
        Answer(a, 201, "pay_1", False, 0.1),
        Answer(Planned("retry", "k1", a.body), 201, "pay_1", True, 0.1),
        Answer(Planned("conflict", "k1", '{"amount": "9.00"}'), 409, None, False, 0.1),
        Answer(b, 201, "pay_2", False, 0.1),
    ]
    done: dict[str, Any] = {step: {"S": "done"} for step in ("audit_status", "event_status", "ledger_status")}
    found = Written(
        {"pay_1": dict(done), "pay_2": dict(done)},
        Counter(pay_1=1, pay_2=1),
        Counter(pay_1=1, pay_2=1),
        {"pay_1": (2, 1), "pay_2": (2, 1)},
        0,
    )
    return answers, found


def failed(answers: list[Answer], found: Written) -> list[str]:
    return [what for what, held, _ in checks(answers, found) if not held]


def test_a_clean_run_passes_every_check() -> None:
    assert failed(*_run()) == []


def test_each_kind_of_damage_fails_its_check() -> None:
    answers, found = _run()
    found.events["pay_2"] = 2
    assert failed(answers, found) == ["events == payments, each sent once"]

    answers, found = _run()
    del found.audit_writes["pay_1"]
    assert failed(answers, found) == ["audit objects == payments, each written once"]

    answers, found = _run()
    found.items["pay_1"]["_copies"] = 2
    assert failed(answers, found) == ["no payment stored twice"]

    answers, found = _run()
    found.items["pay_3"] = dict(found.items["pay_1"])
    assert "payments in table == accepted keys" in failed(answers, found)

    answers, found = _run()
    answers[2] = Answer(answers[2].planned, 500, None, False, 0.1)
    assert failed(answers, found) == ["no answer outside 201/409", "every other body answered 409"]

    answers, found = _run()
    answers[2] = Answer(answers[2].planned, 201, "pay_1", False, 0.1)
    assert failed(answers, found) == ["one body accepted per key"]

    answers, found = _run()
    found.items["pay_2"]["event_status"] = {"S": "retry_queued"}
    assert failed(answers, found) == ["audit, event and ledger steps done on every item"]

    ledger = "ledger payments == payments, each once, balanced"
    answers, found = _run()
    del found.ledger["pay_2"]
    assert failed(answers, found) == [ledger]
    answers, found = _run()
    found.ledger["pay_2"] = (4, 2)
    assert failed(answers, found) == [ledger]
    answers, found = _run()
    found.unbalanced = 1
    assert failed(answers, found) == [ledger]
