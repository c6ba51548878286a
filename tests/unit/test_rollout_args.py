"""Rollout, failover and rollback inputs are checked before anything is applied; the split math; release picking."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops.build import fingerprint
from ops.core.tool_env import clean_environ
from ops.deploy import releases, rollback
from ops.deploy.releases import Release
from ops.deploy.rollback import RollbackError
from ops.state import traffic_split
from ops.state.traffic_split import Split, TrafficState
from ops.traffic import rollout
from ops.traffic.rollout import ArgumentError, Signal, Watch
from tests.support import ROOT

# -- arguments ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10,25,50,100", [10, 25, 50, 100]), ("100", [100]), (" 1, 2 ,100 ", [1, 2, 100]), ("", [10, 25, 50, 100])],
)
def test_valid_steps(value: str, expected: list[int]) -> None:
    assert rollout.parse_steps(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("10,25,50", "the last step must be 100"),
        ("10,5,100", "strictly increasing"),
        ("10,10,100", "strictly increasing"),
        ("0,100", "from 1 to 100"),
        ("10,150", "from 1 to 100"),
        ("10,,100", "comma-separated list of whole percents"),
        ("ten,100", "comma-separated list of whole percents"),
        ("12.5,100", "comma-separated list of whole percents"),
        ("-10,100", "comma-separated list of whole percents"),
    ],
)
def test_invalid_steps_name_the_argument(value: str, problem: str) -> None:
    with pytest.raises(ArgumentError) as error:
        rollout.parse_steps(value)
    message = str(error.value)
    assert message.startswith(f"rollout: STEPS={value!r} is invalid: ")
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(("value", "expected"), [("primary", "primary"), ("secondary", "secondary")])
def test_valid_to(value: str, expected: str) -> None:
    assert rollout.parse_to(value) == expected


@pytest.mark.parametrize("value", ["", "  ", "Secondary", "eu-west-1", "both"])
def test_invalid_to(value: str) -> None:
    with pytest.raises(ArgumentError, match=r"^rollout: TO"):
        rollout.parse_to(value)


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("300", 300), ("", rollout.DEFAULT_BAKE_SECONDS)])
def test_valid_bake(value: str, expected: int) -> None:
    assert rollout.parse_bake(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "5m", "abc"])
def test_invalid_bake(value: str) -> None:
    with pytest.raises(
        ArgumentError, match=rf"^rollout: BAKE={value!r} is invalid: use a whole number of seconds >= 0"
    ):
        rollout.parse_bake(value)


def ops(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a closed port: anything that got past validation would fail to reach an emulator."""
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", PAYMENTS_LOCAL_PORT="9"),
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (("rollout", "--to", "middle"), "rollout: TO='middle' is invalid"),
        (("rollout", "--to", "secondary", "--steps", "50,25"), "rollout: STEPS='50,25' is invalid"),
        (("rollout", "--to", "secondary", "--bake", "soon"), "rollout: BAKE='soon' is invalid"),
        (("rollout",), "rollout: TO is required"),
        (("failover", "--bake", "x"), "failover: BAKE='x' is invalid"),
        (("failback", "--unplanned", "maybe"), "failback: UNPLANNED='maybe' is invalid"),
        (("failover", "--max-lag-ms", "0"), "failover: --max-lag-ms='0' is invalid"),
        (("rollback", "compute-primary", "--release", "last"), "rollback: RELEASE='last' is invalid"),
        (("rollback", "compute-primary", "--confirm", "y"), "rollback: CONFIRM='y' is invalid"),
    ],
)
def test_cli_refuses_bad_values_with_one_line_and_exit_2(args: tuple[str, ...], starts: str) -> None:
    result = ops(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(starts)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (["rollout", "TO=up"], "rollout: TO='up' is invalid: use primary or secondary, e.g. TO=secondary"),
        (["rollout", "TO=secondary", "STEPS=10,20"], "the last step must be 100"),
        (
            ["rollout", "TO=secondary", "ENGINE=lambda"],
            "rollout: ENGINE='lambda' is invalid: use local or stepfunctions",
        ),
        (["releases"], "error: STACK is required, e.g. make releases STACK=compute-primary"),
        (["rollback"], "error: STACK is required, e.g. make rollback STACK=compute-primary"),
        (["rollback", "STACK=compute-primary", "RELEASE=x"], "rollback: RELEASE='x' is invalid"),
    ],
)
def test_make_targets_pass_the_variables_through(target: list[str], message: str) -> None:
    result = subprocess.run(
        ["make", "-s", "-o", "install", *target],
        cwd=ROOT,
        env=clean_environ(PAYMENTS_DOTENV="none", PAYMENTS_LOCAL_PORT="9"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_every_new_target_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("rollout", "failover", "failback", "releases", "rollback"):
        assert f"\n{target}: install ## " in makefile


# -- split math ---------------------------------------------------------------------------------------------


def test_a_full_ramp_to_the_secondary() -> None:
    steps = rollout.remaining_steps(Split(100, 0), "secondary", [10, 25, 50, 100])
    assert [str(s) for s in steps] == ["90/10", "75/25", "50/50", "0/100"]


def test_steps_already_reached_are_skipped_so_a_rerun_resumes() -> None:
    assert [str(s) for s in rollout.remaining_steps(Split(75, 25), "secondary", [10, 25, 50, 100])] == [
        "50/50",
        "0/100",
    ]
    assert rollout.remaining_steps(Split(0, 100), "secondary", [10, 25, 50, 100]) == []


def test_back_to_the_primary_in_one_step() -> None:
    assert rollout.remaining_steps(Split(75, 25), "primary", [100]) == [Split(100, 0)]
    assert [str(s) for s in rollout.remaining_steps(Split(0, 100), "primary", [50, 100])] == ["50/50", "100/0"]


@pytest.mark.parametrize(("role", "percent", "expected"), [("primary", 70, (70, 30)), ("secondary", 10, (90, 10))])
def test_split_with_share(role: str, percent: int, expected: tuple[int, int]) -> None:
    split = Split.with_share(role, percent)  # type: ignore[arg-type]
    assert (split.primary, split.secondary) == expected
    assert split.share(role) == percent  # type: ignore[arg-type]


@pytest.mark.parametrize(("primary", "secondary"), [(60, 30), (101, -1), (-5, 105)])
def test_a_split_always_adds_up_to_100(primary: int, secondary: int) -> None:
    with pytest.raises(ValueError, match="add up to 100"):
        Split(primary, secondary)


def test_traffic_state_round_trips_and_keeps_bounded_history() -> None:
    state = TrafficState(weights=Split(90, 10), status="in_progress", rollout={"to": "secondary"})
    for _ in range(traffic_split.HISTORY_LIMIT + 5):
        state.add_history(source=Split(100, 0), target=Split(90, 10), result="ok", reason="rollout")
    data = json.loads(json.dumps(state.to_json()))
    assert data["weights"] == {"primary": 90, "secondary": 10}
    again = TrafficState.from_json(data)
    assert again.weights == Split(90, 10)
    assert again.status == "in_progress"
    assert len(again.history) == traffic_split.HISTORY_LIMIT
    assert set(again.history[-1]) == {"time", "from", "to", "result", "reason"}


def test_tfvars_are_written_for_dns_stacks_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path))
    for stack in ("dns-primary", "dns-secondary", "compute-primary"):
        (tmp_path / "stacks" / stack).mkdir(parents=True)
    assert traffic_split.write_tfvars("compute-primary", Split(25, 75)) is None
    assert not list((tmp_path / "stacks" / "compute-primary").iterdir())
    for stack, weight in (("dns-primary", 25), ("dns-secondary", 75)):
        path = traffic_split.write_tfvars(stack, Split(25, 75))
        assert path == tmp_path / "stacks" / stack / "traffic.auto.tfvars.json"
        assert json.loads(path.read_text()) == {"traffic_weight": weight}
    assert traffic_split.dns_role("dns-secondary") == "secondary"
    assert traffic_split.dns_role("compute-secondary") is None


def test_a_weight_change_changes_the_config_hash_not_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deploy engine's skip-unchanged check sees a new split (and releases hash the same way)."""
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path))
    directory = tmp_path / "stacks" / "dns-primary"
    (directory / "assets" / "x").mkdir(parents=True)
    (directory / "cdk.tf.json").write_text("{}")
    (directory / "assets" / "x" / "a.zip").write_bytes(b"zip")
    before = fingerprint.config_sha256(directory)
    template = fingerprint.template_sha256(directory)
    traffic_split.write_tfvars("dns-primary", Split(90, 10))
    after = fingerprint.config_sha256(directory)
    assert after != before
    assert fingerprint.template_sha256(directory) == template  # variable values are not part of the template
    traffic_split.write_tfvars("dns-primary", Split(50, 50))
    assert fingerprint.config_sha256(directory) != after


# -- baking -------------------------------------------------------------------------------------------------


class FakeWatch(Watch):
    def __init__(self, signals: list[Signal | None]) -> None:
        self.signals = signals
        self.checks = 0

    def check(self) -> Signal | None:
        self.checks += 1
        return self.signals.pop(0) if self.signals else None


ALARM = Signal("alarm", "payments-dev-secondary-region-unhealthy", "secondary", "eu-west-1", "in ALARM (test)")


def test_bake_zero_checks_once() -> None:
    watch = FakeWatch([])
    assert rollout.bake(watch, 0, sleep=lambda _: None) == (None, pytest.approx(0, abs=1))
    assert watch.checks == 1


def test_the_first_bad_signal_ends_the_bake() -> None:
    watch = FakeWatch([None, None, ALARM])
    signal, _ = rollout.bake(watch, 3600, poll=0.0, sleep=lambda _: None)
    assert signal is ALARM
    assert watch.checks == 3
    assert str(signal) == ("alarm payments-dev-secondary-region-unhealthy (secondary, eu-west-1): in ALARM (test)")


# -- releases -----------------------------------------------------------------------------------------------


def release(n: int, template: str, rollback_of: int | None = None) -> Release:
    return Release(
        "compute-primary", n, "abc1234", "2026-01-01T00:00:00+00:00", "L", n + 10, "c" + template, template, rollback_of
    )


def test_rollback_defaults_to_the_newest_earlier_release_with_another_configuration() -> None:
    history = [release(1, "a"), release(2, "b"), release(3, "c"), release(4, "c")]  # 4: a forced re-apply of 3
    assert rollback.choose(history, history[3], None).n == 2
    assert rollback.choose(history, None, None).n == 2  # state moved since: relative to the newest
    assert rollback.choose(history, history[1], None).n == 1
    assert rollback.choose(history, history[3], 1).n == 1


@pytest.mark.parametrize(
    ("history", "current", "wanted", "message"),
    [
        ([], None, None, "no releases recorded"),
        ([release(1, "a")], 0, None, "no release before 1 has a different configuration"),
        ([release(1, "a"), release(2, "a")], 1, None, "no release before 2 has a different configuration"),
        ([release(1, "a"), release(2, "b")], 1, 7, "release 7 does not exist; known: 1, 2"),
    ],
)
def test_rollback_refuses_without_a_release_to_go_to(
    history: list[Release], current: int | None, wanted: int | None, message: str
) -> None:
    with pytest.raises(RollbackError, match=message):
        rollback.choose(history, history[current] if current is not None else None, wanted)


def test_outputs_read_by_dependants_are_found_in_their_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path))
    monkeypatch.setattr(rollback.graph, "dependants", lambda stack: ["dns-primary"])
    remote = "data.terraform_remote_state.cross-stack-reference-input-compute-primary"
    reads = {
        "resource": {
            "x": {
                "a": f"${{{remote}.outputs.api_url}}",
                "b": f"${{element({remote}.outputs.ids, 0)}}",
                "c": f"${{{remote}-old.outputs.other}}",
            }
        }
    }
    (tmp_path / "stacks" / "dns-primary").mkdir(parents=True)
    (tmp_path / "stacks" / "dns-primary" / "cdk.tf.json").write_text(json.dumps(reads))
    assert rollback.store.remote_output_reads(json.dumps(reads), "compute-primary") == ["api_url", "ids"]
    old = tmp_path / "release"
    old.mkdir()
    produced: dict[str, Any] = {"output": {"api_url": {"value": "x"}}}
    (old / "cdk.tf.json").write_text(json.dumps(produced))
    assert rollback.missing_outputs(old, "compute-primary") == [("dns-primary", "ids")]
    produced["output"]["ids"] = {"value": []}
    (old / "cdk.tf.json").write_text(json.dumps(produced))
    assert rollback.missing_outputs(old, "compute-primary") == []


def test_a_rollout_refuses_dns_stacks_with_undeployed_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A traffic step must change weights only: a DNS stack whose code changed since its newest release blocks it."""
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path))
    for stack in rollout.DNS_STACKS:
        (tmp_path / "stacks" / stack).mkdir(parents=True)
        (tmp_path / "stacks" / stack / "cdk.tf.json").write_text(json.dumps({"stack": stack}))
    applied = {stack: fingerprint.template_sha256(tmp_path / "stacks" / stack) for stack in rollout.DNS_STACKS}

    def newest(_: object, stack: str) -> list[Release]:
        return [Release(stack, 1, "r", "t", "L", 1, "c", applied[stack])]

    monkeypatch.setattr(releases, "list_releases", newest)
    assert rollout._undeployed_changes(None) == []  # type: ignore[arg-type]
    traffic_split.write_tfvars("dns-primary", Split(50, 50))  # weights are not a code change
    assert rollout._undeployed_changes(None) == []  # type: ignore[arg-type]
    (tmp_path / "stacks" / "dns-secondary" / "cdk.tf.json").write_text("{}")
    assert rollout._undeployed_changes(None) == ["dns-secondary"]  # type: ignore[arg-type]


def test_outputs_a_release_reads_from_its_dependencies_must_still_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = "data.terraform_remote_state.cross-stack-reference-input-data-primary"
    config = {"resource": {"x": {"a": f"${{{remote}.outputs.old_bucket}}", "b": f"${{{remote}.outputs.key}}"}}}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(config))
    monkeypatch.setattr(rollback.graph, "dependencies", lambda: {"compute-primary": ["data-primary"]})
    states = {"data-primary": {"outputs": {"key": {"value": "k"}, "new_bucket": {"value": "b"}}}}
    monkeypatch.setattr(rollback.store, "read_state", lambda _settings, stack: states.get(stack))
    settings: Any = None
    assert rollback.unavailable_inputs(settings, tmp_path, "compute-primary") == [("data-primary", "old_bucket")]
