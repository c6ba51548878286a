"""Integration tests deploy the real stacks to a private emulator, once per session, and share that deployment.

`deployed` runs `deploy all` (what `make deploy` does): both regions in one command, each stack as soon as the
stacks it reads are applied (`deploy primary` and `deploy secondary` on their own: test_redeploy.py). The order of
the modules is declared here, not encoded in file names: a module marks its phase
(`pytestmark = pytest.mark.phase("teardown")`), unmarked modules are in the "checks" phase, and the session
runs the phases in the order of PHASES (within a phase, pytest's own order).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from harness.platform import Platform, free_port, ports_needed
from tests.integration.traffic_support import Weights, entry_name, route53_weights

PHASES = (
    "ledger",  # the fresh deployment's databases, and reconciliation before any test breaks a payment on purpose
    "checks",  # what the deploys created: layers, handlers, emulator, locks (nothing here changes the stacks)
    "state",  # applies, locks and state versions of network-primary; each test leaves it as it found it
    "traffic",  # rollouts, failover/failback and a rollback; leaves the split 100/0 and the settings configured
    "redeploy",  # re-deploys skip unchanged stacks; forced deploys and drift
    "replan",  # a second plan of every stack is clean
    "runtime",  # the same deployment switches its front door to the ec2 runtime (load balancer + fleet)
    "teardown",  # destroys everything: last
)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(PhaseOrder(), "integration-phase-order")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def phase_of(item: pytest.Item) -> int:
    marker = item.get_closest_marker("phase")
    name = marker.args[0] if marker else "checks"
    if name not in PHASES:
        raise pytest.UsageError(f"{item.nodeid}: unknown phase {name!r}; use one of {', '.join(PHASES)}")
    return PHASES.index(name)


class PhaseOrder:
    """Puts integration items in phase order (a stable sort) in the slots they already hold among all items."""

    @pytest.hookimpl(trylast=True)  # after selection and after pytest groups tests by session-scoped parameters
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        slots = [i for i, item in enumerate(items) if item.get_closest_marker("integration")]
        ordered = sorted((items[i] for i in slots), key=phase_of)
        for slot, item in zip(slots, ordered, strict=True):
            items[slot] = item


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp("platform")
    for _ in range(5):
        # The fault proxy in front of the emulator lets the drill lose a region (test_drill.py).
        platform = Platform(workdir=workdir, port=free_port(ports_needed(True)), fault_injection=True)
        # The emulator must be this session's own: another session could have taken the same free port.
        if "emulator started on" in platform.must("local-up"):
            break
    else:
        pytest.fail("could not start a private emulator on a free port")
    yield platform
    platform.ops("local-down")


@pytest.fixture(scope="session")
def deploy_log(platform: Platform) -> dict[str, Any]:
    """The deploy's summary (`deploy all --json`)."""
    summary: dict[str, Any] = json.loads(platform.must("deploy", "all", "--json"))
    return summary


@pytest.fixture(scope="session")
def deployed(platform: Platform, deploy_log: dict[str, Any]) -> dict[str, Any]:
    """The outputs file written by the deploys: {stack: {output: value}}."""
    return platform.outputs()


@pytest.fixture
def ops_here(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """For ops code a test calls in its own process (the client, `ops.keys`): that code finds the synthesized
    stacks and the outputs file through the environment, so point it at this session's platform."""
    for name in ("PAYMENTS_OUTDIR", "PAYMENTS_OUTPUTS_DIR", "PAYMENTS_LOCAL_PORT", "PAYMENTS_DOTENV"):
        monkeypatch.setenv(name, platform.env[name])
    return platform


@pytest.fixture
def dns(platform: Platform, deployed: dict[str, Any]) -> Callable[[], Weights]:
    zone_id = platform.outputs()["dns-primary"]["zone_id"]
    name = entry_name(platform)
    # A client of its own: the watcher thread polls while the test thread uses others.
    route53 = boto3.client(
        "route53",
        region_name=platform.region("primary"),
        endpoint_url=f"http://127.0.0.1:{platform.port}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return lambda: route53_weights(route53, zone_id, name)
