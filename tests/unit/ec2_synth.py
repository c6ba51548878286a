"""The whole app synthesized with `compute.runtime = "ec2"` (the unit tests of the ec2 runtime's stacks)."""

from __future__ import annotations

from pathlib import Path

from ops.build.synth import synth_app
from tests.support import Synth


def synth_ec2(outdir: Path, **settings: str) -> Synth:
    result = synth_app(outdir, PAYMENTS_COMPUTE_RUNTIME="ec2", **settings)
    assert result.returncode == 0, result.stderr[-3000:]
    return Synth(outdir)
