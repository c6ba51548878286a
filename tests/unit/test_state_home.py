"""Home selection (issue 16): the primary state home when it answers, the replica when it does not, a forced home,
and a synthesized backend that names the copy in use."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from config import ConfigError, load_settings
from config.settings import Settings
from harness.platform import free_port
from ops.build.synth import synth_app
from ops.core.aws_clients import client
from ops.core.paths import ROOT
from ops.core.tool_env import tool_env
from ops.deploy.rollback import through_copy_in_use
from ops.state import home
from ops.terraform import runner
from tests.conftest import AWS_ACCOUNT, AWS_ZONE
from tests.support import STACKS, Synth
from tests.unit.private_emulator import private_emulator


def create_homes(settings: Settings) -> None:
    """What bootstrap makes (helper `homes`): the home bucket in the primary region, its replica in the secondary
    and a lock table of the same name in both."""
    for role in ("primary", "secondary"):
        region = settings.regions.of(role)
        s3 = client(settings, "s3", region)
        kwargs: dict[str, Any] = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=settings.state_bucket_of(role), **kwargs)
        client(settings, "dynamodb", region).create_table(
            TableName=settings.state.lock_table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )


@pytest.fixture(scope="module")
def emulator() -> Iterator[Settings]:
    with private_emulator() as settings:
        create_homes(settings)
        yield settings


@pytest.fixture(autouse=True)
def not_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYMENTS_STATE_HOME", raising=False)
    monkeypatch.setenv("PAYMENTS_DOTENV", "none")


def primary_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """Every client of the primary region the probe makes goes to 127.0.0.1:`port`; the secondary's to the emulator."""
    real = home.client

    def routed(settings: Settings, service: str, region: str, config: Config | None = None, **kw: Any) -> Any:
        if region == settings.regions.primary:
            settings = replace(settings, local=replace(settings.local, port=port))
        return real(settings, service, region, config, **kw)

    monkeypatch.setattr(home, "client", routed)


def test_a_primary_that_answers_is_the_home(emulator: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = home.select(emulator)
    assert (chosen.state.home, chosen.state_bucket, chosen.state_region) == (
        "primary",
        emulator.state.bucket,
        "us-east-1",
    )
    assert capsys.readouterr().err == ""


def test_a_missing_home_bucket_is_an_answer_not_an_outage(
    emulator: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """HeadBucket answers 404 Not Found when the bucket does not exist (S3 API reference, HeadBucket): the region is
    up, the bucket is simply not bootstrapped yet, so the primary stays the home."""
    fresh = replace(emulator, state=replace(emulator.state, bucket="payments-dev-tfstate-not-bootstrapped"))
    assert home.unreachable_error(fresh) is None
    assert home.select(fresh).state.home == "primary"
    assert capsys.readouterr().err == ""


def test_a_primary_that_refuses_moves_the_command_to_the_replica(
    emulator: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    primary_at(monkeypatch, free_port())  # nothing listens: connection refused
    chosen = home.select(emulator)
    assert (chosen.state.home, chosen.state_bucket, chosen.state_region) == (
        "secondary",
        f"{emulator.state.bucket}-replica",
        "eu-west-1",
    )
    assert chosen == replace(emulator, state=replace(emulator.state, home="secondary"))  # nothing else changes
    warning = capsys.readouterr().err.splitlines()
    assert len(warning) == 1
    assert warning[0].startswith(
        f"WARNING: the primary state home {emulator.state.bucket} in us-east-1 does not answer ("
    )
    assert "EndpointConnectionError" in warning[0]
    assert f"using the replica {emulator.state.bucket}-replica in eu-west-1; writes go to the replica; " in warning[0]
    assert "the primary home is brought back in step by replication when it recovers" in warning[0]


class _Unavailable(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_a_503_from_the_primary_is_an_outage(emulator: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """5xx status codes are server-side errors (S3 error responses: 503 Service Unavailable / SlowDown): the
    region does not serve the home, unlike a 4xx, which is an answer about the request."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        primary_at(monkeypatch, server.server_address[1])
        assert home.unreachable_error(emulator) == "HTTP 503"
        assert home.select(emulator).state.home == "secondary"
    finally:
        server.shutdown()
        server.server_close()


def test_a_primary_that_never_answers_times_out_quickly(emulator: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts, never answers
    try:
        monkeypatch.setattr(home, "PROBE_CONFIG", home.PROBE_CONFIG.merge(Config(read_timeout=0.5)))
        primary_at(monkeypatch, listener.getsockname()[1])
        assert home.unreachable_error(emulator) == "ReadTimeoutError"
    finally:
        listener.close()


def test_the_probe_asks_once_within_seconds() -> None:
    """One attempt, short timeouts: botocore's `total_max_attempts` includes the initial request, so 1 retries
    nothing (its `max_attempts` would count retries only: botocore.config.Config, `retries`)."""
    assert home.PROBE_CONFIG.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert home.PROBE_CONFIG.connect_timeout <= 3
    assert home.PROBE_CONFIG.read_timeout <= 3


def test_when_no_copy_answers_the_primary_stays(
    emulator: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = replace(emulator, local=replace(emulator.local, port=free_port()))
    assert home.select(closed).state.home == "primary"  # the access check then names the endpoint
    assert capsys.readouterr().err == ""


def test_a_forced_home_is_used_without_a_probe(emulator: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_STATE_HOME", "secondary")
    monkeypatch.setattr(home, "unreachable_error", lambda *_: pytest.fail("probed a forced home"))
    forced = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_STATE_HOME": "secondary"})
    assert home.select(forced).state.home == "secondary"
    assert forced.state_bucket == f"{forced.state.bucket}-replica"
    monkeypatch.setenv("PAYMENTS_STATE_HOME", "primary")
    assert home.select(emulator).state.home == "primary"


def test_a_home_the_caller_chose_is_kept_without_a_probe(emulator: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(home, "unreachable_error", lambda *_: pytest.fail("probed the region the caller left"))
    chosen = home.with_home(emulator, "secondary")
    assert home.select(chosen) is chosen


def test_a_bad_forced_home_is_one_line_naming_the_variable_and_the_fix() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_STATE_HOME": "tertiary"})
    assert raised.value.lines == [
        "PAYMENTS_STATE_HOME='tertiary' is not a state home: set it to primary or secondary, "
        "or unset it to let ops probe the primary home"
    ]
    env = {**tool_env(), "PAYMENTS_DOTENV": "none", "PAYMENTS_STATE_HOME": "tertiary"}
    result = subprocess.run(
        [sys.executable, "-m", "ops", "check-config"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"config error: {raised.value.lines[0]}\n"


def test_terraform_and_synth_run_with_the_home_of_the_command(emulator: Settings) -> None:
    assert tool_env(emulator)["PAYMENTS_STATE_HOME"] == "primary"
    assert tool_env(home.with_home(emulator, "secondary"))["PAYMENTS_STATE_HOME"] == "secondary"


@pytest.fixture(scope="module")
def aws_replica_home(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir: Path = tmp_path_factory.mktemp("aws-replica-home") / "cdktf.out"
    result = synth_app(
        outdir,
        PAYMENTS_TARGET="aws",
        PAYMENTS_AWS_ACCOUNT_ID=AWS_ACCOUNT,
        PAYMENTS_DNS_ZONE_NAME=AWS_ZONE,
        PAYMENTS_STATE_HOME="secondary",
    )
    assert result.returncode == 0, result.stderr
    return Synth(outdir)


def test_with_the_replica_home_every_backend_and_remote_state_read_names_the_replica(aws_replica_home: Synth) -> None:
    """A KMS alias is unique per account and Region, the same name may exist in each Region (AWS KMS, CreateAlias):
    the bootstrap alias resolves to the key of the backend's region. Terraform's S3 backend keeps the state at `key`
    in `bucket` and names its lock `<bucket>/<key>` in `dynamodb_table` (Terraform docs, S3 backend)."""
    expected = {
        "bucket": f"payments-dev-tfstate-{AWS_ACCOUNT}-replica",
        "region": "eu-west-1",
        "dynamodb_table": "payments-dev-tflock",
        "kms_key_id": "alias/payments-dev-bootstrap",
        "encrypt": True,
    }
    reads = 0
    for stack in STACKS:
        backend = aws_replica_home[stack]["terraform"]["backend"]["s3"]
        assert backend == {**expected, "key": f"dev/{stack}.tfstate"}
        for name, remote in aws_replica_home.data_sources(stack, "terraform_remote_state").items():
            producer = name.removeprefix("cross-stack-reference-input-")
            assert remote["config"] == {**expected, "key": f"dev/{producer}.tfstate"}
            reads += 1
    assert reads >= len(STACKS) - 1  # every stack but network-primary reads another's outputs


def aws_settings() -> Settings:
    """The aws target's settings the `aws_replica_home` synth was made with, the primary home in use."""
    environ = {"PAYMENTS_DOTENV": "none", "PAYMENTS_TARGET": "aws", "PAYMENTS_AWS_ACCOUNT_ID": AWS_ACCOUNT}
    return load_settings(environ={**environ, "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE})


def test_a_release_applied_through_the_replica_rolls_back_through_the_copy_in_use(
    aws_replica_home: Synth, tmp_path: Path
) -> None:
    """A rollback re-applies a stored release; its backend and remote-state reads must name the copy in use now,
    not the home it was recorded through (S3 backend: the state is `key` in `bucket` of `region`)."""
    primary = aws_settings()
    recorded = aws_replica_home["dns-secondary"]
    config_file = tmp_path / "cdk.tf.json"
    config_file.write_text(json.dumps(recorded))
    through_copy_in_use(primary, config_file)
    rewritten = json.loads(config_file.read_text())
    blocks = [(recorded["terraform"]["backend"]["s3"], rewritten["terraform"]["backend"]["s3"])]
    blocks += [
        (read["config"], rewritten["data"]["terraform_remote_state"][name]["config"])
        for name, read in recorded["data"]["terraform_remote_state"].items()
    ]
    assert len(blocks) == 3  # its own backend, compute-secondary's and dns-primary's
    for before, after in blocks:
        assert after == {**before, "bucket": primary.state.bucket, "region": "us-east-1"}
    assert {k: v for k, v in rewritten.items() if k not in {"terraform", "data"}} == {
        k: v for k, v in recorded.items() if k not in {"terraform", "data"}
    }


def test_a_switched_home_initializes_terraform_again_with_reconfigure_never_a_migration(
    aws_replica_home: Synth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`terraform init -reconfigure` ignores the saved backend configuration instead of offering to migrate state
    (Terraform docs, `init`: backend initialization): the other copy already holds the same state."""
    inits: list[tuple[str, ...]] = []

    def terraform(_dir: Path, _env: dict[str, str], args: tuple[str, ...], _stream: Any = None) -> tuple[int, str]:
        inits.append(args)
        return 0, ""

    monkeypatch.setattr(runner, "stack_dir", lambda stack: tmp_path / stack)
    monkeypatch.setattr(runner, "run_terraform", terraform)
    config_file = tmp_path / "dns-secondary" / "cdk.tf.json"
    (config_file.parent / ".terraform").mkdir(parents=True)
    config_file.write_text(json.dumps(aws_replica_home["dns-secondary"]))
    settings = aws_settings()
    stack = runner.StackTerraform("dns-secondary", settings)
    assert (stack.init(), stack.init()) == (True, False)  # once per backend
    through_copy_in_use(settings, config_file)  # the home switched back: the backend names the primary
    assert stack.init() is True
    assert inits == [("init", "-input=false", "-no-color", "-reconfigure")] * 2
