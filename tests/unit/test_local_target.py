"""Every emulator gap is decided in shared/local_target.py (docs/emulator-gaps.md is written from it)."""

from __future__ import annotations

import subprocess
import sys

from moto.core.responses import BaseResponse

from config.loader import load_settings
from config.settings import Settings
from shared.local_target import (
    GAPS,
    GAPS_BY_KEY,
    ledger_tls_mode,
    ledger_writer_hosts,
    reads_other_region_alarms_directly,
)
from tests.conftest import AWS_ZONE
from tests.support import ROOT


def local_and_aws() -> tuple[Settings, Settings]:
    """The dev settings of each target."""
    local = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    aws = load_settings(
        environ={
            "PAYMENTS_DOTENV": "none",
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        }
    )
    return local, aws


def test_gaps_are_unique_and_say_what_the_local_target_does() -> None:
    keys = [gap.key for gap in GAPS]
    assert len(keys) == len(set(keys))
    assert all(gap.emulator_behaviour and gap.local_handling for gap in GAPS)


def test_the_emulator_default_region_is_read_from_its_source_as_its_package_answers() -> None:
    """Read without importing moto (half a second of every local synth), yet the answer moto itself gives."""
    probe = (
        "import sys; from shared.local_target import emulator_global_cluster_region as r; "
        "print(r(), 'moto' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == [BaseResponse.default_region, "False"]


def test_the_ledger_writer_is_the_global_endpoint_on_aws_and_both_local_instances_locally() -> None:
    local, aws = local_and_aws()
    writer = "payments.global-abc.global.rds.amazonaws.com"
    assert ledger_writer_hosts(aws, writer, 5432) == f"{writer}:5432"
    assert ledger_tls_mode(aws) == "verify-full"
    port = local.local.port
    assert ledger_writer_hosts(local, writer, 5432) == f"127.0.0.1:{port + 1},127.0.0.1:{port + 2}"
    assert ledger_tls_mode(local) == "disable"


def test_the_ledger_gaps_say_what_the_local_target_does_instead() -> None:
    assert "PostgreSQL 15" in GAPS_BY_KEY["rds-engine"].local_handling
    assert "LEDGER_WRITER_HOSTS" in GAPS_BY_KEY["rds-engine"].local_handling
    assert "trust" in GAPS_BY_KEY["rds-iam-auth"].local_handling
    assert "LEDGER_TLS=disable" in GAPS_BY_KEY["rds-tls"].local_handling


def test_the_other_regions_alarms_are_read_directly_only_by_the_local_target() -> None:
    """Gap `sfn-cross-region-sdk`: locally a region-qualified aws-sdk task; on AWS the `region-alarms` function."""
    local, aws = local_and_aws()
    assert reads_other_region_alarms_directly(local) is True
    assert reads_other_region_alarms_directly(aws) is False
    assert "region-alarms" in GAPS_BY_KEY["sfn-cross-region-sdk"].local_handling
