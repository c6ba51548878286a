"""Traffic rollouts, a reverted rollout, failover/failback and per-stack rollback, on the emulator.

Runs after the layer checks and before the redeploy checks; every test leaves the platform as it found it
(split 100/0 and stable, alarms OK, compute-primary at the configured settings).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest

from harness.payments import pay
from harness.platform import Platform
from ops.client.api_client import ApiClient
from ops.keys import api_key
from ops.local import postgres
from shared import api_names
from tests.integration.traffic_support import Weights, back_to_primary, persisted, set_alarm

pytestmark = pytest.mark.phase("traffic")

FUNCTIONS = ("payment", "retry", "health")  # outputs <f>_function_name


@dataclass
class TunedPlatform(Platform):
    """The same private platform with extra settings in the environment (e.g. a different concurrency)."""

    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **self.extra}


def steps(output: str) -> list[tuple[str, str, str, str]]:
    """`rollout --json`: (step, from, to, result) per row, splits as primary/secondary."""
    rows = json.loads(output)["steps"]
    split = "{0[primary]}/{0[secondary]}".format
    return [(r["step"], split(r["from"]), split(r["to"]), r["result"]) for r in rows]


def current_release(platform: Platform, stack: str) -> dict[str, Any]:
    """`releases --json`: the release that left the stack's state as it is now."""
    listing = json.loads(platform.must("releases", stack, "--json"))
    assert listing["current"] is not None, listing
    return next(r for r in listing["releases"] if r["n"] == listing["current"])


def serials(platform: Platform, stacks: list[str]) -> dict[str, tuple[str, int]]:
    settings = platform.settings
    s3 = platform.client("s3", "primary")
    found = {}
    for stack in stacks:
        state = json.loads(s3.get_object(Bucket=settings.state.bucket, Key=f"dev/{stack}.tfstate")["Body"].read())
        found[stack] = (state["lineage"], int(state["serial"]))
    return found


@contextmanager
def watching(interval: float, probe: Callable[[], Any]) -> Iterator[list[Any]]:
    """Call `probe` every `interval` seconds in a thread; yields the list of distinct consecutive values seen."""
    seen: list[Any] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            value = probe()
            if not seen or seen[-1] != value:
                seen.append(value)
            stop.wait(interval)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=30)
        value = probe()
        if not seen or seen[-1] != value:
            seen.append(value)


def whole_splits(seen: list[Weights]) -> list[Weights]:
    """The splits Route 53 carried, without the moments one DNS stack was applied and the other not yet."""
    splits = [w for w in seen if w[0] is not None and w[1] is not None and w[0] + w[1] == 100]
    return [w for i, w in enumerate(splits) if i == 0 or splits[i - 1] != w]


def client_payments(client: ApiClient, count: int) -> Counter[tuple[int, str | None]]:
    """`count` new payments to `https://api.<zone>/v1/payments`: (status, role that answered) of each."""
    headers = {"Content-Type": "application/json"}
    payment = {"amount": "5.00", "currency": "USD", "customer_id": "cus_Client01", "payment_method": "pm_Card4242"}
    body = json.dumps(payment)
    answers = [
        client.request("POST", client.url("/payments"), body=body, headers={**headers, "Idempotency-Key": uuid4().hex})
        for _ in range(count)
    ]
    return Counter((a.status, a.role) for a in answers)


def test_the_deployed_records_carry_the_configured_split(
    platform: Platform, dns: Callable[[], Weights], deployed: dict[str, Any]
) -> None:
    assert dns() == (100, 0)
    assert persisted(platform)["weights"] == {"primary": 100, "secondary": 0}
    for role in ("primary", "secondary"):
        check = platform.client("route53", "primary").get_health_check(
            HealthCheckId=deployed[f"dns-{role}"]["health_check_id"]
        )["HealthCheck"]["HealthCheckConfig"]
        assert check["Type"] == "HTTPS"
        assert check["ResourcePath"] == "/v1/health"
        # The path clients use: the region's own name behind its custom domain, not the execute-api host.
        assert check["FullyQualifiedDomainName"] == api_names.origin_name(platform.settings.dns, role)
        assert deployed[f"dns-{role}"]["origin_fqdn"] == api_names.origin_name(platform.settings.dns, role)


def test_a_full_ramp_to_the_secondary_and_back_is_visible_in_route53(
    platform: Platform, dns: Callable[[], Weights]
) -> None:
    with watching(0.3, dns) as seen:
        log = platform.must("rollout", "--to", "secondary", "--steps", "10,25,50,100", "--bake", "1", "--json")
    assert whole_splits(seen) == [(100, 0), (90, 10), (75, 25), (50, 50), (0, 100)]
    assert steps(log) == [
        ("1/4", "100/0", "90/10", "ok"),
        ("2/4", "90/10", "75/25", "ok"),
        ("3/4", "75/25", "50/50", "ok"),
        ("4/4", "50/50", "0/100", "ok"),
    ]
    assert all(row["bake_seconds"] is not None for row in json.loads(log)["steps"])
    state = persisted(platform)
    assert state["weights"] == {"primary": 0, "secondary": 100}
    assert state["status"] == "stable"
    assert [(h["to"]["secondary"], h["result"]) for h in state["history"][-4:]] == [
        (10, "ok"),
        (25, "ok"),
        (50, "ok"),
        (100, "ok"),
    ]

    again = platform.must("rollout", "--to", "secondary", "--steps", "10,25,50,100", "--bake", "1")
    assert "nothing to apply" in again

    with watching(0.3, dns) as seen:
        back_to_primary(platform)
    assert whole_splits(seen) == [(0, 100), (100, 0)]
    assert persisted(platform)["weights"] == {"primary": 100, "secondary": 0}


def test_an_alarm_at_step_2_reverts_to_the_last_good_split(platform: Platform, dns: Callable[[], Weights]) -> None:
    fired: list[str] = []

    def fire_at_step_2() -> None:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            state = persisted(platform)
            if state["status"] == "in_progress" and state["weights"]["secondary"] == 25:
                fired.append(set_alarm(platform, "secondary", "ALARM"))
                return
            time.sleep(0.3)

    injector = threading.Thread(target=fire_at_step_2, daemon=True)
    injector.start()
    try:
        result = platform.ops("rollout", "--to", "secondary", "--steps", "10,25,50,100", "--bake", "20", "--json")
        injector.join(timeout=30)
        assert fired, "the alarm was never set: step 2 did not start"
        assert result.returncode == 1
        region = platform.region("secondary")
        assert f"bad signal: alarm {fired[0]} (secondary, {region}): in ALARM" in result.stderr
        assert steps(result.stdout)[-2:] == [
            ("2/4", "90/10", "75/25", f"FAILED: alarm {fired[0]} ({region})"),
            ("revert", "75/25", "90/10", "reverted"),
        ]
        assert dns() == (90, 10)
        state = persisted(platform)
        assert state["weights"] == {"primary": 90, "secondary": 10}
        assert state["status"] == "reverted"
        failed, reverted = state["history"][-2:]
        assert (failed["to"]["secondary"], failed["result"]) == (25, "failed")
        assert fired[0] in failed["signal"]
        assert (reverted["from"]["secondary"], reverted["to"]["secondary"], reverted["result"]) == (25, 10, "reverted")

        kept = json.loads(platform.must("deploy", "all", "--json"))  # a later deploy keeps the persisted split
        results = {row["stack"]: row["result"] for row in kept["stacks"]}
        assert (results["dns-primary"], results["dns-secondary"]) == ("unchanged", "unchanged")
        assert dns() == (90, 10)
    finally:
        injector.join(timeout=1)
        set_alarm(platform, "secondary", "OK")
        back_to_primary(platform)
    assert dns() == (100, 0)
    assert persisted(platform)["status"] == "stable"


@pytest.mark.usefixtures("ops_here")
def test_failover_and_failback_move_traffic_and_the_database_writer(
    platform: Platform, dns: Callable[[], Weights]
) -> None:
    set_alarm(platform, "secondary", "ALARM")
    try:
        refused = platform.ops("failover", "--bake", "0")
    finally:
        set_alarm(platform, "secondary", "OK")
    assert refused.returncode == 1
    assert re.search(r"^\s+FAIL\s+secondary region health: alarm .* in ALARM", refused.stdout, re.M)
    assert "refusing to start the failover: a pre-check failed (nothing was changed)" in refused.stdout
    assert dns() == (100, 0)
    client = ApiClient(platform.settings, api_key.current(platform.settings, "primary"))  # one client, one key
    assert client_payments(client, 5) == {(201, "primary"): 5}

    log = platform.must("failover", "--bake", "0")
    assert re.search(r"^\s+note\s+replica lag: no datapoints of AuroraGlobalDBReplicationLag .*\(emulator\)", log, re.M)
    assert re.search(r"^\s+ok\s+local replication: secondary standby 0 bytes and [\d.]+ ms behind", log, re.M)
    assert re.search(r"^\s+note\s+database: SwitchoverGlobalCluster is not implemented", log, re.M)
    assert re.search(r"^\s+ok\s+local database: secondary region's instance promoted in [\d.]+s.* pg_rewind", log, re.M)
    assert re.search(r"^\s+ok\s+secondary instance: pg_is_in_recovery\(\): is the writer", log, re.M)
    assert re.search(r"^\s+ok\s+primary instance: pg_is_in_recovery\(\): is a standby", log, re.M)
    assert re.search(r"^\s+ok\s+traffic: split 0/100", log, re.M)
    # The write home moved with the database (docs/write-home.md): fenced, drained, caught up, opened, redirected.
    assert re.search(r"^\s+ok\s+write home fence: primary region's write home = 'fenced'", log, re.M)
    assert re.search(r"^\s+ok\s+write home replication: the secondary table has the primary table's writes", log, re.M)
    assert re.search(r"^\s+ok\s+write home open: secondary region's write home = 'secondary'", log, re.M)
    assert re.search(r"^\s+ok\s+write home redirect: primary region's write home = 'secondary'", log, re.M)
    assert re.search(r"^\s+ok\s+write home: primary: secondary, secondary: secondary", log, re.M)
    assert "write home: the secondary region (eu-west-1)" in platform.must("write-home")
    assert dns() == (0, 100)
    assert persisted(platform)["history"][-1]["reason"] == "failover"
    assert "writer: the secondary region (eu-west-1)" in platform.must("db-status")
    # New payments' ledger rows are written in the new writer's region, and replicate back to the old one. A write
    # sent to the primary region is redirected (307) to the secondary, the write home now.
    found = postgres.instances(platform.settings.local)
    answer = pay(platform, "primary")
    assert answer["region"] == "eu-west-1"
    payment_id = answer["payment_id"]
    row = "SELECT origin_region FROM payments WHERE payment_id = :id"
    database = platform.settings.data.database_name
    assert postgres.query(found["secondary"], row, database=database, id=payment_id) == [["eu-west-1"]]
    postgres.wait_for_replay(found["primary"], found["secondary"])
    assert postgres.query(found["primary"], row, database=database, id=payment_id) == [["eu-west-1"]]
    assert client_payments(client, 5) == {(201, "secondary"): 5}
    assert "201: 20 of 20; duplicates: 0" in platform.must("smoke", "--count", "20")

    log = platform.must("failback", "--bake", "0")
    assert "the writer is already payments-dev-primary-aurora: nothing to switch" in log
    assert re.search(r"^\s+ok\s+local database: primary region's instance promoted in [\d.]+s", log, re.M)
    assert re.search(r"^\s+ok\s+writer: payments-dev-primary-aurora is the writer", log, re.M)
    assert dns() == (100, 0)
    assert persisted(platform)["status"] == "stable"
    assert "writer: the primary region (us-east-1)" in platform.must("db-status")
    assert "write home: the primary region (us-east-1)" in platform.must("write-home")
    assert postgres.query(found["primary"], row, database=database, id=payment_id) == [["eu-west-1"]]
    assert client_payments(client, 5) == {(201, "primary"): 5}


def test_rollback_of_compute_primary_restores_its_previous_release(
    platform: Platform, deployed: dict[str, Any]
) -> None:
    others = [s for s in deployed if s != "compute-primary"]
    before = serials(platform, others)
    lambda_client = platform.client("lambda", "primary")
    names = [deployed["compute-primary"][f"{f}_function_name"] for f in FUNCTIONS]

    def concurrency() -> set[int]:
        return {lambda_client.get_function_concurrency(FunctionName=n)["ReservedConcurrentExecutions"] for n in names}

    configured = platform.settings.compute.reserved_concurrency
    assert concurrency() == {configured}
    # A slower declared p99 sizes a larger reservation: burst + rate x 1.2 s.
    tuned = TunedPlatform(platform.workdir, platform.port, {"PAYMENTS_COMPUTE_LAMBDA_P99_LATENCY_MS": "1200"})
    resized = tuned.settings.compute.reserved_concurrency
    assert resized is not None
    assert resized != configured
    try:
        tuned.must("apply", "compute-primary")
        assert concurrency() == {resized}
        newest = current_release(platform, "compute-primary")["n"]

        refused = platform.ops("rollback", "compute-primary")  # no terminal, no CONFIRM=yes
        assert refused.returncode == 1
        assert f"reserved_concurrent_executions = {resized} -> {configured}" in refused.stdout
        assert "re-run with CONFIRM=yes" in refused.stdout + refused.stderr
        assert concurrency() == {resized}

        log = platform.must("rollback", "compute-primary", "--confirm", "yes")
        target = int(re.search(r"rolling back from release \d+ to release (\d+)", log)[1])  # type: ignore[index]
        assert target < newest
        assert concurrency() == {configured}
        assert serials(platform, others) == before, "a rollback of one stack moved another stack's state"
        assert current_release(platform, "compute-primary")["rollback_of"] == target
    finally:
        platform.must("apply", "compute-primary")  # back to the configured settings (and a fresh deploy record)
    assert concurrency() == {configured}
    assert serials(platform, others) == before
