"""A deploy skips a stack only when it provably has nothing to apply (issue: no-op deploys in seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ops.deploy import engine
from ops.state import store as state_store

SETTINGS: Any = SimpleNamespace(environment="dev")


class FakeStore:
    """States and deploy records of two stacks, data-primary reading network-primary."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        vpc_id = {"value": "vpc-1", "type": "string"}
        flow_logs = {"value": "/vpc/flow-logs", "type": "string"}
        self.states: dict[str, dict[str, Any]] = {
            "network-primary": {"lineage": "n", "serial": 4, "outputs": {"vpc_id": vpc_id, "flow_logs": flow_logs}},
            "data-primary": {"lineage": "d", "serial": 9, "outputs": {}},
        }
        self.records: dict[str, dict[str, Any]] = {}
        self.config = "config-1"
        monkeypatch.setattr(state_store, "read_state", lambda _s, stack: json.loads(json.dumps(self.states[stack])))
        monkeypatch.setattr(engine, "config_sha256", lambda _directory: self.config)
        records = {f"dev/deploys/{stack}.json": stack for stack in self.states}
        monkeypatch.setattr(state_store.bucket, "get_json", lambda _s, key: self.records.get(records[key]))
        monkeypatch.setattr(engine.graph, "dependencies", lambda: {"data-primary": ["network-primary"]})
        reads_vpc = "${data.terraform_remote_state.cross-stack-reference-input-network-primary.outputs.vpc_id}"
        configs = {"data-primary": {"resource": {"x": {"y": {"vpc_id": reads_vpc}}}}, "network-primary": {}}
        for stack, config in configs.items():
            (tmp_path / stack).mkdir()
            (tmp_path / stack / "cdk.tf.json").write_text(json.dumps(config))
        monkeypatch.setattr(state_store, "stack_dir", lambda stack: tmp_path / stack)

    def record_apply(self, stack: str) -> None:
        state = self.states[stack]
        self.records[stack] = {
            "stack": stack,
            "config_sha256": self.config,
            "lineage": state["lineage"],
            "serial": state["serial"],
            "applied_at": "2026-11-22T00:00:00+00:00",
            "revision": "abc",
            "inputs_sha256": engine._inputs_sha256(SETTINGS, stack),
        }


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeStore:
    fake = FakeStore(monkeypatch, tmp_path)
    fake.record_apply("data-primary")
    return fake


def test_unchanged_when_configuration_state_and_inputs_are_as_applied(store: FakeStore) -> None:
    assert engine.is_unchanged(SETTINGS, "data-primary")


def test_a_new_output_of_a_dependency_makes_the_stack_plan_again(store: FakeStore) -> None:
    store.states["network-primary"]["outputs"]["vpc_id"]["value"] = "vpc-2"
    assert not engine.is_unchanged(SETTINGS, "data-primary")


def test_a_dependency_applied_again_with_the_same_outputs_changes_nothing(store: FakeStore) -> None:
    store.states["network-primary"]["serial"] += 1
    assert engine.is_unchanged(SETTINGS, "data-primary")


def test_a_changed_output_the_stack_does_not_read_changes_nothing(store: FakeStore) -> None:
    store.states["network-primary"]["outputs"]["flow_logs"]["value"] = "/elsewhere"
    store.states["network-primary"]["outputs"]["weight"] = {"value": 25, "type": "number"}
    assert engine.is_unchanged(SETTINGS, "data-primary")


def test_a_moved_serial_a_new_configuration_or_no_record_means_plan(store: FakeStore) -> None:
    store.states["data-primary"]["serial"] += 1
    assert not engine.is_unchanged(SETTINGS, "data-primary")
    store.record_apply("data-primary")
    store.config = "config-2"
    assert not engine.is_unchanged(SETTINGS, "data-primary")
    assert not engine.is_unchanged(SETTINGS, "network-primary")


def test_records_written_before_inputs_were_tracked_mean_plan(store: FakeStore) -> None:
    del store.records["data-primary"]["inputs_sha256"]
    store.records["data-primary"]["written_by_a_newer_version"] = True  # unknown fields are ignored
    assert not engine.is_unchanged(SETTINGS, "data-primary")
