"""Helpers for reading synthesized stacks: tests assert on the JSON Terraform will really get."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shared.stack_id import all_stacks

ROOT = Path(__file__).resolve().parent.parent
STACKS = tuple(stack.name for stack in all_stacks())


class Synth:
    """All stacks of one synthesized app."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.stacks: dict[str, dict[str, Any]] = {
            name: json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in STACKS
        }
        self.manifest = json.loads((outdir / "manifest.json").read_text())

    def __getitem__(self, stack: str) -> dict[str, Any]:
        return self.stacks[stack]

    def resources(self, stack: str, rtype: str) -> dict[str, dict[str, Any]]:
        return self.stacks[stack].get("resource", {}).get(rtype, {})

    def resource(self, stack: str, rtype: str) -> dict[str, Any]:
        """The only resource of a type in a stack (fails when there are several)."""
        found = self.resources(stack, rtype)
        assert len(found) == 1, f"{stack}: expected one {rtype}, found {sorted(found)}"
        return next(iter(found.values()))

    def data_sources(self, stack: str, dtype: str) -> dict[str, dict[str, Any]]:
        return self.stacks[stack].get("data", {}).get(dtype, {})

    def outputs(self, stack: str) -> dict[str, Any]:
        return self.stacks[stack].get("output", {})

    def all_resources(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        for stack, body in self.stacks.items():
            for rtype, items in body.get("resource", {}).items():
                for name, config in items.items():
                    yield stack, rtype, name, config


def by_tag(resources: Mapping[str, dict[str, Any]], key: str, value: str) -> list[dict[str, Any]]:
    return [r for r in resources.values() if r.get("tags", {}).get(key) == value]


def write_ca_bundle(path: Path) -> Path:
    """A PEM bundle of one real CA certificate (from this machine's trust store): a stand-in for AWS's RDS bundle,
    which this offline machine cannot download."""
    import ssl  # noqa: PLC0415 -- only the tests that need a bundle pay for it

    certificates = ssl.create_default_context().get_ca_certs(binary_form=True)
    assert certificates, "this machine's trust store is empty: install ca-certificates"
    path.write_text(ssl.DER_cert_to_PEM_cert(bytes(certificates[0])))
    return path


def put_alarm(cloudwatch: Any, name: str, *, firing: bool = False) -> None:
    """A metric alarm for tests that watch alarms by name; `firing` sets it to ALARM at once."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="Test",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    if firing:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
