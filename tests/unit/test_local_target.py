"""Every emulator gap is decided in shared/local_target.py (docs/emulator-gaps.md is written from it)."""

from __future__ import annotations

import subprocess
import sys

from moto.core.responses import BaseResponse

from shared.local_target import GAPS
from tests.support import ROOT


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
