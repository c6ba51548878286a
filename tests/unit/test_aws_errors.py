"""The errors a new user meets first on the aws target: one line naming the profile, account or bucket and the fix,
exit 1, no traceback, nothing written.

Real botocore against real endpoints (a closed port; the emulator and its own error answers) and real Terraform runs;
nothing is mocked. The environment has no credentials and no AWS config unless a test adds them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from config import load_settings
from harness.platform import free_port
from ops.core.aws_access import verify_access
from ops.core.aws_clients import client
from ops.core.aws_errors import REJECTED_CREDENTIALS, AwsAccessError, explain_response
from ops.core.tool_env import clean_environ
from ops.terraform.runner import StackTerraform, TerraformError
from tests.conftest import AWS_ZONE
from tests.support import ROOT

CONFIGURED = "111122223333"
EMULATOR_ACCOUNT = "123456789012"  # the account moto answers for any credentials
NO_AWS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}
SOME_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"}
DEFAULT_LOGIN = (
    "log in with `aws sso login --profile <name>` and set PAYMENTS_AWS_PROFILE=<name>, or export AWS credentials"
)


def aws_environ(**extra: str) -> dict[str, str]:
    """The aws target's settings and no AWS credentials, config or endpoint from the caller's shell."""
    env = {k: v for k, v in clean_environ().items() if not k.startswith("AWS_")}
    return {
        **env,
        **NO_AWS,
        "PAYMENTS_DOTENV": "none",
        "PAYMENTS_TARGET": "aws",
        "PAYMENTS_AWS_ACCOUNT_ID": CONFIGURED,
        "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        **extra,
    }


def run_ops(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = aws_environ(PAYMENTS_OUTDIR=str(tmp_path / "out"), PAYMENTS_OUTPUTS_DIR=str(tmp_path / "outputs"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        check=False,
        timeout=120,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], tmp_path: Path, line: str) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line + "\n")
    assert not (tmp_path / "out").exists(), "nothing synthesized"
    assert not (tmp_path / "outputs").exists(), "nothing written"


def start_emulator(**env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.local.emulator_server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**clean_environ(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310  # loopback only
            return process, endpoint
        except OSError:
            time.sleep(0.2)
    process.terminate()
    pytest.fail("the emulator did not answer within 30 s")


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    process, endpoint = start_emulator()
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def strict_emulator() -> Iterator[str]:
    """The emulator checking credentials as AWS does: keys it does not know are refused."""
    process, endpoint = start_emulator(INITIAL_NO_AUTH_ACTION_COUNT="0")
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ("diff", "network-primary"),
        ("deploy", "primary"),
        ("apply", "network-primary"),
        ("destroy", "primary", "--confirm", "dev"),
        ("outputs",),
        ("output", "compute-primary", "api_endpoint"),
        ("drift",),
        ("state-versions", "network-primary"),
        ("releases", "network-primary"),
        ("rollback", "network-primary", "--confirm", "yes"),
        ("unlock", "network-primary", "some-lock", "--confirm", "yes"),
        ("rollout", "--to", "secondary"),
        ("failover",),
    ],
)
def test_every_aws_command_without_credentials_says_so_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    line = f"no AWS credentials found for the default credential chain (account {CONFIGURED}): {DEFAULT_LOGIN}; "
    assert_one_line(run_ops(tmp_path, *args), tmp_path, line + "nothing was changed")


def test_a_profile_that_is_not_configured_is_named_with_the_fix(tmp_path: Path) -> None:
    result = run_ops(tmp_path, "diff", "network-primary", PAYMENTS_AWS_PROFILE="payments-ops")
    line = (
        "AWS profile 'payments-ops' (aws.profile) is not in your AWS config: create it with "
        "`aws configure sso --profile payments-ops` or fix PAYMENTS_AWS_PROFILE; nothing was changed"
    )
    assert_one_line(result, tmp_path, line)


def test_an_unreachable_endpoint_is_named_in_one_line(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = run_ops(tmp_path, "diff", "network-primary", AWS_ENDPOINT_URL=endpoint, **SOME_KEYS)
    line = (
        f"cannot reach AWS at {endpoint}/: check the network connection, proxy and any AWS_ENDPOINT_URL override; "
        "nothing was changed"
    )
    assert_one_line(result, tmp_path, line)


def test_credentials_aws_refuses_are_named_as_expired_or_invalid(tmp_path: Path, strict_emulator: str) -> None:
    result = run_ops(tmp_path, "diff", "network-primary", AWS_ENDPOINT_URL=strict_emulator, **SOME_KEYS)
    line = (
        f"AWS rejected the credentials of the default credential chain (account {CONFIGURED}) as expired or invalid "
        f"(InvalidClientTokenId): {DEFAULT_LOGIN} again; nothing was changed"
    )
    assert_one_line(result, tmp_path, line)


@pytest.mark.parametrize("code", sorted(REJECTED_CREDENTIALS))
def test_every_refused_credentials_code_gets_the_login_line(code: str) -> None:
    settings = load_settings(environ=aws_environ(PAYMENTS_AWS_PROFILE="payments-ops"))
    line = explain_response(code, settings)
    assert line is not None
    assert f"({code}): log in with `aws sso login --profile payments-ops` again" in line
    assert explain_response("AccessDenied", settings) is None  # a permission, not the login: the caller's to explain


def test_credentials_of_another_account_are_refused_before_anything_runs(tmp_path: Path, emulator: str) -> None:
    result = run_ops(tmp_path, "diff", "network-primary", AWS_ENDPOINT_URL=emulator, **SOME_KEYS)
    line = (
        f"the credentials of the default credential chain belong to account {EMULATOR_ACCOUNT}, not aws.account_id "
        f"{CONFIGURED}: {DEFAULT_LOGIN} to account {CONFIGURED}, or fix PAYMENTS_AWS_ACCOUNT_ID if that account is "
        "the right one; nothing was changed"
    )
    assert_one_line(result, tmp_path, line)


def test_a_missing_state_bucket_points_to_make_bootstrap(
    tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"AWS_ENDPOINT_URL": emulator, "PAYMENTS_AWS_ACCOUNT_ID": EMULATOR_ACCOUNT, **SOME_KEYS}
    result = run_ops(tmp_path, "diff", "network-primary", **extra)
    bucket = f"payments-dev-tfstate-{EMULATOR_ACCOUNT}"
    line = (
        f"the state bucket {bucket} does not exist in account {EMULATOR_ACCOUNT} (us-east-1): "
        "create it with `make bootstrap`, then re-run; nothing was changed"
    )
    assert_one_line(result, tmp_path, line)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    verify_access(load_settings(environ=aws_environ(**extra)))  # once it exists, the check passes


def terraform_init_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: str) -> str:
    """What `StackTerraform.init` reports for a stack whose S3 backend Terraform cannot use."""
    environ = aws_environ(**extra)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAYMENTS_OUTDIR", str(tmp_path))
    settings = load_settings(environ=environ)
    backend = {"bucket": settings.state.bucket, "key": "dev/network-primary.tfstate", "region": "us-east-1"}
    (tmp_path / "stacks" / "network-primary").mkdir(parents=True)
    config = {"terraform": {"backend": {"s3": {**backend, "use_path_style": True}}}}
    (tmp_path / "stacks" / "network-primary" / "cdk.tf.json").write_text(json.dumps(config))
    with pytest.raises(TerraformError) as raised:
        StackTerraform("network-primary", settings).init()
    return str(raised.value)


def test_terraform_without_credentials_gets_the_same_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = terraform_init_error(tmp_path, monkeypatch)
    assert message == (
        "network-primary: terraform init failed: no AWS credentials found for the default credential chain "
        f"(account {CONFIGURED}): {DEFAULT_LOGIN}"
    )


def test_terraform_on_a_missing_state_bucket_points_to_make_bootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: str
) -> None:
    message = terraform_init_error(
        tmp_path, monkeypatch, AWS_ENDPOINT_URL_S3=emulator, AWS_ENDPOINT_URL_STS=emulator, **SOME_KEYS
    )
    assert message == (
        f"network-primary: terraform init failed: the state bucket payments-dev-tfstate-{CONFIGURED} does not exist "
        f"in account {CONFIGURED} (us-east-1): create it with `make bootstrap`, then re-run"
    )


def test_every_client_of_the_factory_says_the_same_mid_command_without_claiming_nothing_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Later calls (a session that expires or a network that drops mid-deploy) get the same line; only the check
    that runs first may say nothing was changed."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    for name, value in {**NO_AWS, **SOME_KEYS, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    aws = load_settings(environ=aws_environ())
    with pytest.raises(AwsAccessError) as raised:
        client(aws, "dynamodb", "eu-west-1").list_tables()
    assert str(raised.value) == (
        f"cannot reach AWS at {endpoint}/: check the network connection, proxy and any AWS_ENDPOINT_URL override"
    )
    port = str(free_port())
    local = load_settings(environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_PORT": port})
    with pytest.raises(AwsAccessError) as raised:
        client(local, "s3", "us-east-1").list_buckets()
    assert (
        str(raised.value) == f"the emulator at http://127.0.0.1:{port}/ is not reachable: start it with `make local-up`"
    )
