"""Synthesizes the ec2 runtime's network, data and compute stacks (both regions) in a subprocess, as app.py would.

The DNS stacks are left out: in ec2 they alias the load balancer (`ComputeStack.front_door`), which the load
balancer construct provides; without it the full app refuses to synthesize (tests/unit/test_compute_ec2.py shows
that refusal). Until `lambda_src/payment_server` exists on this branch, the artifact is built without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ops.core.paths import ROOT
from ops.core.tool_env import clean_environ
from tests.support import Synth

SYNTHESIZED = tuple(f"{layer}-{role}" for layer in ("network", "data", "compute") for role in ("primary", "secondary"))


class PartialSynth(Synth):
    """The stacks `synth_ec2` writes (no DNS stacks)."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.stacks = {name: json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in SYNTHESIZED}
        self.manifest = json.loads((outdir / "manifest.json").read_text())


_SCRIPT = """
from cdktf import App
from config import load_settings
from lambda_src import __file__ as lambda_src
from pathlib import Path
from stacks.compute.ec2 import artifact
from stacks.compute.stack import ComputeStack
from stacks.data.stack import DataStack
from stacks.dns.stack import DnsStack
from stacks.network.stack import NetworkStack

if not (Path(lambda_src).parent / "payment_server" / "__init__.py").is_file():
    artifact.ARTIFACT_PACKAGES = tuple(p for p in artifact.ARTIFACT_PACKAGES if p != "payment_server")
settings = load_settings()
app = App()
network_p = NetworkStack(app, settings=settings, role="primary")
data_p = DataStack(app, settings=settings, role="primary", network=network_p)
compute_p = ComputeStack(app, settings=settings, role="primary", network=network_p, data=data_p)
if WITH_DNS:
    DnsStack(app, settings=settings, role="primary", compute=compute_p)
network_s = NetworkStack(app, settings=settings, role="secondary", peer=network_p)
data_s = DataStack(app, settings=settings, role="secondary", network=network_s, primary=data_p)
ComputeStack(app, settings=settings, role="secondary", network=network_s, data=data_s)
app.synth()
"""


def run_ec2_app(outdir: Path, *, with_dns: bool = False, **settings: str) -> subprocess.CompletedProcess[str]:
    """The app's stacks in ec2 without DNS (or, `with_dns`, with dns-primary too), synthesized into `outdir`."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    env = clean_environ(CDKTF_OUTDIR=str(outdir), PAYMENTS_DOTENV="none", PAYMENTS_COMPUTE_RUNTIME="ec2", **settings)
    script = f"WITH_DNS = {with_dns}\n{_SCRIPT}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, text=True, capture_output=True, check=False, timeout=300
    )


def synth_ec2(outdir: Path, **settings: str) -> PartialSynth:
    result = run_ec2_app(outdir, **settings)
    assert result.returncode == 0, result.stderr[-3000:]
    return PartialSynth(outdir)
