"""ops/ledger: what reconcile, db-status and db-migrate conclude from what they read (no AWS, no emulator)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from config import load_settings
from ops.ledger import admin_function, migrations, reconcile, status
from tests.conftest import AWS_ZONE

AWS = {
    "PAYMENTS_TARGET": "aws",
    "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
    "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
    "PAYMENTS_DOTENV": "none",
}


def _found(**ids: set[str]) -> reconcile.Found:
    found = reconcile.Found()
    for source, values in ids.items():
        found.ids[source] = set(values)
    found.region_of = {"pay_a": "us-east-1", "pay_b": "eu-west-1", "pay_c": "eu-west-1"}
    return found


def test_every_source_holding_every_payment_is_reconciled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = {"pay_a", "pay_b", "pay_c"}
    found = _found(dynamodb=everything, ledger=everything, audit=everything, events=everything)
    assert reconcile.mismatches(found) == []
    assert reconcile.counts(found, ["us-east-1", "eu-west-1"]) == [
        ("us-east-1", "1", "1", "1", "1"),
        ("eu-west-1", "2", "2", "2", "2"),
        ("total", "3", "3", "3", "3"),
    ]
    monkeypatch.setattr(reconcile, "collect", lambda settings: found)
    assert reconcile.run(load_settings(environ={"PAYMENTS_DOTENV": "none"})) == 0
    assert "reconciled: 3 payment(s), every one in all 4 sources" in capsys.readouterr().out


def test_a_payment_missing_from_a_source_is_a_row_of_the_mismatch_table_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = {"pay_a", "pay_b", "pay_c"}
    found = _found(dynamodb=everything, ledger={"pay_a", "pay_c"}, audit=everything, events={"pay_a", "pay_b"})
    found.ledger_problems.append("1 unbalanced payment(s) in the ledger")
    assert reconcile.mismatches(found) == [
        reconcile.Mismatch("pay_b", "eu-west-1", ("ledger",)),
        reconcile.Mismatch("pay_c", "eu-west-1", ("events",)),
    ]
    monkeypatch.setattr(reconcile, "collect", lambda settings: found)
    assert reconcile.run(load_settings(environ={"PAYMENTS_DOTENV": "none"})) == reconcile.MISMATCH_EXIT
    out = capsys.readouterr().out
    assert "MISMATCH: 1 unbalanced payment(s) in the ledger" in out
    assert "MISMATCH: 2 payment(s) missing from a source:" in out
    assert "  pay_b       eu-west-1  ledger" in out
    assert "total      3         2       3      2" in out


def test_reconciling_only_some_payments_ignores_the_others_and_misses_none_of_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drill reconciles its own payments on a deployment other tests broke payments of on purpose."""
    everything = {"pay_a", "pay_b", "pay_c"}
    found = _found(dynamodb=everything, ledger={"pay_a", "pay_c"}, audit=everything, events=everything)
    monkeypatch.setattr(reconcile, "collect", lambda settings: found)
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})

    assert reconcile.run(settings, only={"pay_a", "pay_c"}) == 0
    assert "reconciled: 2 payment(s), every one in all 4 sources" in capsys.readouterr().out
    assert reconcile.run(settings, only={"pay_a", "pay_b"}) == reconcile.MISMATCH_EXIT
    assert "  pay_b       eu-west-1  ledger" in capsys.readouterr().out
    assert reconcile.run(settings, only={"pay_a", "pay_z"}) == reconcile.MISMATCH_EXIT  # in no source at all
    assert "  pay_z       ?       dynamodb, ledger, audit, events" in capsys.readouterr().out


def test_migrate_says_what_it_applied_or_that_nothing_was_due() -> None:
    assert migrations.describe({"applied": [1, 2], "last": 2}) == "ledger: applied 2 migration(s): 1, 2; schema at 2"
    assert migrations.describe({"applied": [], "last": 2}) == "ledger: schema current at 2 (nothing to apply)"


def test_db_status_table_and_the_single_writer() -> None:
    rows = [
        status.RegionStatus("primary", "us-east-1", "127.0.0.1:4567", "writer", "-", "1"),
        status.RegionStatus("secondary", "eu-west-1", "127.0.0.1:4568", "standby", "0 bytes, 0.4 ms (streaming)", "1"),
    ]
    assert status.table(rows)[1] == "us-east-1  primary    127.0.0.1:4567  writer   -                            1"
    assert status.writer_of(rows) == "primary"
    assert status.writer_of([rows[0], status.RegionStatus(**{**rows[1].__dict__, "state": "writer"})]) is None


class _Lambda:
    def __init__(self, payload: Any, error: str | None = None) -> None:
        self.payload, self.error, self.calls = payload, error, []

    def invoke(self, **call: Any) -> dict[str, Any]:
        self.calls.append(call)
        response: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(self.payload).encode())}
        if self.error:
            response["FunctionError"] = self.error
        return response


def test_on_aws_the_function_is_invoked_and_its_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(environ=AWS)
    monkeypatch.setattr(admin_function, "function_name", lambda settings, role: "payments-dev-primary-ledger-admin")
    ok = _Lambda({"applied": [], "last": 1})
    monkeypatch.setattr(admin_function, "client", lambda *args: ok)
    assert admin_function.invoke(settings, "primary", "summary", after="pay_1") == {"applied": [], "last": 1}
    assert json.loads(ok.calls[0]["Payload"]) == {"action": "summary", "after": "pay_1"}
    assert ok.calls[0]["InvocationType"] == "RequestResponse"

    failing = _Lambda(
        {"errorMessage": "no writer among 1 candidate(s)\ntraceback...", "errorType": "WriterNotFound"}, "Unhandled"
    )
    monkeypatch.setattr(admin_function, "client", lambda *args: failing)
    with pytest.raises(admin_function.LedgerAdminError) as raised:
        admin_function.invoke(settings, "primary", "migrate")
    assert str(raised.value) == (
        "payments-dev-primary-ledger-admin (us-east-1) failed to migrate: no writer among 1 candidate(s)"
    )


def test_both_regions_outputs_of_a_layer_or_one_line_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.core.errors import NotDeployedError  # noqa: PLC0415
    from ops.deploy import outputs  # noqa: PLC0415

    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    deployed = {"data-primary": {"table_name": "t"}, "data-secondary": {"table_name": "t"}}
    monkeypatch.setattr(outputs, "outputs_with", lambda settings, stacks: deployed)
    assert outputs.layer_outputs(settings, "data", "x") == {
        "primary": {"table_name": "t"},
        "secondary": {"table_name": "t"},
    }
    del deployed["data-secondary"]
    with pytest.raises(NotDeployedError, match=r"^data-secondary not deployed: reconcile reads both regions$"):
        outputs.layer_outputs(settings, "data", "reconcile reads both regions")
