"""The drill (issue 16) on the session's deployment, which runs behind the fault proxy: the primary region is lost
while the client pays steadily, detected at the health check's own timing, failed over without a single request to
it, rejoined after the outage and switched back; every figure within its bound.

Runs in the traffic phase and leaves the platform as it found it: the primary the write home and the writer, the
split 100/0, no fault in force.
"""

from __future__ import annotations

import re

import pytest

from harness.platform import Platform

pytestmark = pytest.mark.phase("traffic")


def figure(pattern: str, log: str) -> str:
    found = re.search(pattern, log, re.M)
    assert found, f"{pattern!r} not in the drill's output"
    return found.group(1)


@pytest.mark.usefixtures("deployed")
def test_the_drill_loses_the_primary_region_and_recovers_within_every_bound(platform: Platform) -> None:
    result = platform.ops("drill", "--bake", "5")
    log = result.stdout
    assert result.returncode == 0, log[-4000:]
    assert "drill passed" in log

    rto = float(figure(r"^RTO\s+([\d.]+) s \(bound 300 s\)", log))
    detection = float(figure(r"^  detection ([\d.]+) s", log))
    assert detection >= 90 - 1  # three failed probes at the deployed 30 s interval
    assert detection < rto <= 300  # seed 003: under 5 minutes
    acknowledged = int(figure(r"^RPO\s+0 of (\d+) acknowledged payments missing", log))
    assert acknowledged >= 5 + 10 + 5  # warm-up, in the survivor, back home
    assert figure(r"^duplicates (\d+)$", log) == "0"
    assert figure(r"^requests the failover sent to the lost region: (\d+)$", log) == "0"

    # The unplanned failover as it ran: survivor only, fenced, promoted, opened, weights through Route 53.
    assert re.search(r"^\s+ok\s+secondary database: the instance answers \(a standby\)", log, re.M)
    assert re.search(r"^\s+note\s+what may be lost: the secondary standby last replayed a transaction", log, re.M)
    assert re.search(r"^\s+ok\s+write home fence: secondary region's write home = 'fenced'", log, re.M)
    assert re.search(r"^\s+ok\s+local database: the secondary region's instance promoted in [\d.]+s", log, re.M)
    assert re.search(r"^\s+ok\s+write home open: secondary region's write home = 'secondary'", log, re.M)
    assert re.search(r"^\s+ok\s+route53 weights: entry weights 0/100 \(primary/secondary\) set", log, re.M)
    # The way back: control plane in step, the old writer rewound, DNS applied, then the planned switch.
    assert re.search(r"^\s+ok\s+control plane: both homes agree", log, re.M)
    came_back = r"^    outage cleared: the primary region.s PostgreSQL came back as a standby of the secondary"
    assert re.search(came_back, log, re.M)
    assert re.search(r"^\s+ok\s+database: the primary region's instance is already a standby; caught up", log, re.M)
    assert re.search(r"^\s+ok\s+write home: primary: primary, secondary: primary", log, re.M)
    assert re.search(r"^reconciled: (\d+) payment\(s\), every one in all 4 sources$", log, re.M)
    assert "reconcile of the drill's payments: exit 0" in log

    assert "write home: the primary region (us-east-1)" in platform.must("write-home")
    assert "writer: the primary region (us-east-1)" in platform.must("db-status")
    assert "outage: none" in platform.must("outage", "--status")
