"""One API key secret: what the stacks synthesize for it, and ops.keys against a private emulator.

The emulator is a fresh `ops.local.emulator_server` per module (the project's own launcher); the secret is created
in it as data-primary's Terraform would create it (name, region key), and ops.keys finds it through the outputs file
of a private outputs directory, as it does after a deploy.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import load_settings
from config.settings import ROLES, Settings
from ops.cli.main import cmd_rotate_api_key, parser
from ops.core.errors import NotDeployedError
from ops.core.tool_env import clean_environ
from ops.deploy import engine
from ops.deploy.outputs import update_outputs
from ops.keys import api_key
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from shared.naming import Naming
from stacks.data.api_key_secret import API_KEY_COMPONENT
from stacks.data.stack import shared_name
from tests.conftest import AWS_ZONE
from tests.support import ROOT, Synth
from tests.unit.test_aws_errors import start_emulator

SYNTHS = ["local_dev", "aws_dev", "aws_prod"]
KEY_VALUE = re.compile(r"^[A-Za-z0-9]{40}$")
KEY_ID = re.compile(r"^k\d{8}T\d{6}Z$")
SECRET_AT = ("aws_secretsmanager_secret", "api-key-secret/secret")


def _secret_name(settings: Settings) -> str:
    return shared_name(Naming.for_role(settings, "primary"), API_KEY_COMPONENT)


def _at(synth: Synth, stack: str, rtype: str, path: str, *, data: bool = False) -> tuple[str, dict[str, Any]]:
    """(terraform name, configuration) of the one `rtype` at construct `path` in `stack`."""
    found = synth.data_sources(stack, rtype) if data else synth.resources(stack, rtype)
    matches = [(n, c) for n, c in found.items() if c["//"]["metadata"]["path"] == f"{stack}/{path}"]
    assert len(matches) == 1, f"{stack}: no single {rtype} at {path}"
    return matches[0]


# --- synthesized JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_data_primary_creates_the_secret_under_its_region_key_without_a_value(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none", **_environ(synth_name)})
    _, secret = _at(synth, "data-primary", *SECRET_AT)
    key_name, _ = _at(synth, "data-primary", "aws_kms_key", "key/key")
    assert secret["name"] == _secret_name(settings) == f"{settings.project}-{settings.environment_suffix}-api-key"
    assert secret["kms_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert secret["recovery_window_in_days"] == (30 if settings.is_production else 0)
    assert secret["lifecycle"]["ignore_changes"] == ["replica"]  # ops.keys owns the replica
    assert "replica" not in secret
    # No Terraform-managed value: no version of this secret anywhere, in any stack.
    secret_ref = f"aws_secretsmanager_secret.{_at(synth, 'data-primary', *SECRET_AT)[0]}."
    versions = [c for _, rtype, _, c in synth.all_resources() if rtype == "aws_secretsmanager_secret_version"]
    assert len(versions) >= 1, "count guard: the master password secrets have versions"
    assert [v for v in versions if secret_ref in json.dumps(v)] == []
    assert synth.outputs("data-primary")["api_key_secret_name"]["value"] == f"${{{secret_ref}name}}"
    assert "api_key_secret_name" not in synth.outputs("data-secondary")
    names = [c["name"] for c in synth.resources("data-secondary", "aws_secretsmanager_secret").values()]
    assert _secret_name(settings) not in names  # the replica is ops.keys', not a Terraform resource


def _environ(synth_name: str) -> dict[str, str]:
    return {
        "local_dev": {},
        "aws_dev": {
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        },
        "aws_prod": {
            "PAYMENTS_TARGET": "aws",
            "PAYMENTS_AWS_ACCOUNT_ID": "111122223333",
            "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
            "PAYMENTS_ENV": "prod",
            "PAYMENTS_COMPUTE_ALARM_EMAIL": "payments-oncall@example.com",
        },
    }[synth_name]


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_each_region_has_one_api_key_per_key_id_of_its_own_copy_of_the_secret(
    request: pytest.FixtureRequest, synth_name: str
) -> None:
    synth: Synth = request.getfixturevalue(synth_name)
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none", **_environ(synth_name)})
    for role in ROLES:
        stack = f"compute-{role}"
        source, read = _at(synth, stack, "aws_secretsmanager_secret_version", "api/keys/secret", data=True)
        assert read["secret_id"] == _secret_name(settings)
        assert "provider" not in read  # the stack's own region: the secret (primary) or its replica (secondary)
        keys = f"jsondecode(data.aws_secretsmanager_secret_version.{source}.secret_string).keys"
        key_name, key = _at(synth, stack, "aws_api_gateway_api_key", "api/keys/api-key")
        assert key["for_each"] == f"${{toset(nonsensitive(keys({keys})))}}"
        assert key["value"] == f"${{{keys}[each.value]}}"
        assert key["name"] == f"{Naming.for_role(settings, role).name('api-key')}-${{each.value}}"
        assert key["enabled"] is True
        _, member = _at(synth, stack, "aws_api_gateway_usage_plan_key", "api/keys/usage-plan-key")
        assert member["for_each"] == key["for_each"]  # the same ids (the keys' values are sensitive)
        assert member["key_id"] == f"${{aws_api_gateway_api_key.{key_name}[each.value].id}}"
        assert member["key_type"] == "API_KEY"
        outputs = synth.outputs(stack)
        assert outputs["api_key_ids"] == {
            "description": "Ids of the API keys this region accepts (no values)",
            "sensitive": False,
            "value": f"${{nonsensitive(keys({keys}))}}",
        }
        assert outputs["api_key_secret_name"]["value"] == _secret_name(settings)
        assert {"api_key_value", "api_key_id"}.isdisjoint(outputs)
        parameters = synth.resources(stack, "aws_ssm_parameter").values()
        assert len(parameters) >= 1, "count guard"
        assert [p["name"] for p in parameters if p["type"] == "SecureString" or p["name"].endswith("/api-key")] == []


@pytest.mark.parametrize("synth_name", SYNTHS)
def test_no_api_key_value_anywhere_in_the_synth(request: pytest.FixtureRequest, synth_name: str) -> None:
    """Every API Gateway key's value is the secret's (an expression): no literal, and nothing shaped like a key."""
    synth: Synth = request.getfixturevalue(synth_name)
    keys = [c for _, rtype, _, c in synth.all_resources() if rtype == "aws_api_gateway_api_key"]
    assert len(keys) == len(ROLES), "count guard: one keyed resource per region"
    assert all(k["value"].startswith("${jsondecode(data.aws_secretsmanager_secret_version.") for k in keys)
    for stack in synth.stacks:
        text = json.dumps(synth[stack])
        assert '"keys": {' not in text, stack
        assert '\\"current\\"' not in text, stack


# --- ops.keys against a private emulator -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    process, endpoint = start_emulator()
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


class Platform:
    """The secret and both region keys in the private emulator, named in a private outputs file."""

    def __init__(self, endpoint: str, outputs_dir: Path) -> None:
        self.settings = load_settings(
            environ={"PAYMENTS_DOTENV": "none", "PAYMENTS_LOCAL_PORT": endpoint.rsplit(":", 1)[1]}
        )
        self.endpoint = endpoint
        self.name = f"{_secret_name(self.settings)}-{outputs_dir.name[-8:]}"  # one secret per test
        self.regions = {role: self.settings.regions.of(role) for role in ROLES}
        self.key_arns = {role: self.client("kms", role).create_key()["KeyMetadata"]["Arn"] for role in ROLES}
        self.client("secretsmanager", "primary").create_secret(Name=self.name, KmsKeyId=self.key_arns["primary"])
        self.replications: list[dict[str, Any]] = []

    def client(self, service: str, role: str) -> Any:
        return boto3.client(
            service,
            region_name=self.regions[role],
            endpoint_url=self.endpoint,
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
        )

    def deploy_data(self, *roles: str) -> None:
        outputs: dict[str, dict[str, Any] | None] = {}
        if "primary" in roles:
            outputs["data-primary"] = {"api_key_secret_name": self.name, "key_arn": self.key_arns["primary"]}
        if "secondary" in roles:
            outputs["data-secondary"] = {"key_arn": self.key_arns["secondary"]}
        update_outputs(self.settings, outputs)

    def ring(self, role: str) -> dict[str, Any]:
        text = self.client("secretsmanager", role).get_secret_value(SecretId=self.name)["SecretString"]
        ring: dict[str, Any] = json.loads(text)
        return ring


@pytest.fixture
def platform(emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.setenv("PAYMENTS_OUTPUTS_DIR", str(tmp_path))
    made = Platform(emulator, tmp_path)
    real = api_key._secrets

    def recording(settings: Settings, region: str) -> Any:
        made_client = real(settings, region)
        made_client.meta.events.register(
            "provide-client-params.secretsmanager.ReplicateSecretToRegions",
            lambda params, **_: made.replications.append({"region": region, **params}),
        )
        return made_client

    monkeypatch.setattr(api_key, "_secrets", recording)
    return made


def _clock(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setattr(api_key, "_now", lambda: datetime.fromisoformat(when).replace(tzinfo=UTC))


def test_diff_refuses_before_the_first_key_and_writes_nothing(platform: Platform) -> None:
    update_outputs(platform.settings, {"data-primary": {"key_arn": platform.key_arns["primary"]}})  # before this
    with pytest.raises(NotDeployedError) as not_deployed:
        api_key.check_ready(platform.settings, "compute-primary")
    assert str(not_deployed.value) == (
        "data-primary has no output api_key_secret_name: deploy it first (make deploy-primary)"
    )
    platform.deploy_data("primary")
    with pytest.raises(api_key.ApiKeyError) as refused:
        api_key.check_ready(platform.settings, "compute-primary")
    assert str(refused.value) == (
        f"secret {platform.name} has no API key yet, so compute-primary cannot be planned: deploy it "
        "(make deploy-primary), which writes the first key"
    )
    assert "\n" not in str(refused.value)
    api_key.check_ready(platform.settings, "network-primary")  # only compute stacks read the secret
    versions = platform.client("secretsmanager", "primary").list_secret_version_ids(SecretId=platform.name)
    assert versions["Versions"] == []


def test_ensure_replicate_rotate_retire_round_trip(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = platform.settings
    platform.deploy_data("primary")
    _clock(monkeypatch, "2026-12-02T11:00:05")

    # compute-primary: the first key, once.
    assert api_key.before_stack(settings, "compute-primary", False) == [
        "API key secret: first key k20261202T110005Z written (value not shown)"
    ]
    assert api_key.before_stack(settings, "compute-primary", False) == []
    first = platform.ring("primary")
    assert first["current"] == "k20261202T110005Z"
    assert list(first["keys"]) == ["k20261202T110005Z"]
    assert KEY_VALUE.match(first["keys"]["k20261202T110005Z"])
    assert api_key.current(settings, "primary") == first["keys"]["k20261202T110005Z"]
    api_key.check_ready(settings, "compute-primary")

    # compute-secondary: refuses without data-secondary's key, then replicates under it, once.
    with pytest.raises(NotDeployedError, match="data-secondary has no output key_arn"):
        api_key.before_stack(settings, "compute-secondary", False)
    with pytest.raises(api_key.ApiKeyError, match=r"\(the replica\): deploy compute-secondary"):
        api_key.check_ready(settings, "compute-secondary")
    platform.deploy_data("primary", "secondary")
    assert api_key.before_stack(settings, "compute-secondary", False) == [
        f"API key secret {platform.name} replicated to {platform.regions['secondary']} (InSync)"
    ]
    assert api_key.before_stack(settings, "compute-secondary", False) == [
        f"API key secret {platform.name} already replicated to {platform.regions['secondary']} (InSync)"
    ]
    assert platform.replications == [
        {
            "region": platform.regions["primary"],
            "SecretId": platform.name,
            "AddReplicaRegions": [
                {"Region": platform.regions["secondary"], "KmsKeyId": platform.key_arns["secondary"]}
            ],
            "ForceOverwriteReplicaSecret": False,
        }
    ]
    assert platform.ring("secondary") == first  # read by name in the secondary region: the replica
    assert api_key.current(settings, "secondary") == api_key.current(settings, "primary")
    replica = platform.client("secretsmanager", "secondary").describe_secret(SecretId=platform.name)
    assert replica["PrimaryRegion"] == platform.regions["primary"]

    # rotate: a second key, current; the first stays accepted in both regions (the overlap).
    _clock(monkeypatch, "2026-12-02T11:30:00")
    rotated = api_key.rotate(settings)
    assert (rotated.ids, rotated.current) == (["k20261202T110005Z", "k20261202T113000Z"], "k20261202T113000Z")
    assert set(rotated.keys.values()) == {""}  # ids only: the values are not handed back
    for role in ROLES:
        accepted = api_key.accepted(settings, role)
        assert sorted(accepted) == rotated.ids
        assert accepted["k20261202T110005Z"] == first["keys"]["k20261202T110005Z"]
        assert KEY_VALUE.match(accepted["k20261202T113000Z"])
        assert accepted["k20261202T113000Z"] != accepted["k20261202T110005Z"]
        assert api_key.current(settings, role) == accepted["k20261202T113000Z"]
    with pytest.raises(api_key.ApiKeyError, match=r"two keys already .*retire k20261202T110005Z first"):
        api_key.rotate(settings)

    # retire: only the current key is left, in both regions.
    kept, retired = api_key.retire(settings)
    assert (kept.ids, retired) == (["k20261202T113000Z"], ["k20261202T110005Z"])
    assert api_key.retire(settings)[1] == []
    for role in ROLES:
        assert list(api_key.accepted(settings, role)) == ["k20261202T113000Z"]
    seen = [first["keys"]["k20261202T110005Z"], api_key.current(settings, "primary")]

    # destroying data-primary: the replica goes first (a secret with replicas cannot be deleted).
    assert api_key.before_stack(settings, "data-primary", True) == [
        f"API key secret {platform.name}: replica in {platform.regions['secondary']} removed"
    ]
    assert api_key.before_stack(settings, "data-primary", True) == []
    with pytest.raises(api_key.ApiKeyError, match="the replica"):
        api_key.current(settings, "secondary")
    platform.client("secretsmanager", "primary").delete_secret(SecretId=platform.name, ForceDeleteWithoutRecovery=True)

    out = capsys.readouterr()
    assert not any(value in out.out + out.err for value in seen)


def test_compute_secondary_first_writes_the_first_key_and_destroying_data_secondary_removes_the_replica(
    platform: Platform,
) -> None:
    """compute-primary and compute-secondary do not depend on each other: either may be planned first."""
    settings = platform.settings
    platform.deploy_data("primary", "secondary")
    created, replicated = api_key.before_stack(settings, "compute-secondary", False)
    assert re.fullmatch(r"API key secret: first key k\d{8}T\d{6}Z written \(value not shown\)", created)
    assert replicated.endswith(f"replicated to {platform.regions['secondary']} (InSync)")
    assert api_key.before_stack(settings, "compute-primary", False) == []
    assert platform.ring("secondary") == platform.ring("primary")
    # The replica is encrypted with data-secondary's key: it goes when that key's stack goes.
    assert api_key.before_stack(settings, "data-secondary", True) == [
        f"API key secret {platform.name}: replica in {platform.regions['secondary']} removed"
    ]
    assert api_key.before_stack(settings, "compute-secondary", True) == []
    with pytest.raises(api_key.ApiKeyError, match="the replica"):
        api_key.accepted(settings, "secondary")


def test_a_replica_behind_the_secret_is_waited_for_then_refused(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new value reaches a replica asynchronously on AWS: compute-secondary must not plan with the old keys."""
    platform.deploy_data("primary", "secondary")
    api_key.before_stack(platform.settings, "compute-secondary", False)
    real = api_key._read
    stale = api_key.KeyRing({"k20261202T100000Z": "x" * 40}, "k20261202T100000Z")
    monkeypatch.setattr(api_key, "_read", lambda s, w, role: stale if role == "secondary" else real(s, w, role))
    waits: list[float] = []
    with pytest.raises(api_key.ApiKeyError) as behind:
        api_key.replicate(platform.settings, wait_seconds=0.0, sleep=waits.append)
    assert str(behind.value) == (
        f"replica of {platform.name} in {platform.regions['secondary']} still holds other keys than the secret "
        "after 0 s: run the deploy again"
    )


def test_a_value_that_is_not_a_key_ring_is_named_with_the_fix(platform: Platform) -> None:
    platform.deploy_data("primary")
    platform.client("secretsmanager", "primary").put_secret_value(
        SecretId=platform.name, SecretString=json.dumps({"keys": {"a": "x", "b": "y", "c": "z"}, "current": "a"})
    )
    with pytest.raises(api_key.ApiKeyError) as refused:
        api_key.current(platform.settings, "primary")
    message = str(refused.value)
    assert message == (
        f"secret {platform.name} in {platform.regions['primary']}: 'current' must name one of 1 to 2 keys; "
        "rewrite it with make rotate-api-key"
    )
    assert not any(value in message for value in ("x", "y", "z") if f" {value} " in message)


def test_key_ids_and_values() -> None:
    assert api_key.key_id(datetime(2026, 12, 2, 11, 0, 45, tzinfo=UTC)) == "k20261202T110045Z"
    assert KEY_ID.match(api_key.key_id(datetime.now(UTC)))
    values = {api_key.new_value() for _ in range(50)}
    assert len(values) == 50
    assert all(KEY_VALUE.match(v) for v in values)


# --- the engine's hook and the command --------------------------------------------------------------------------


def test_engine_runs_hooks_before_a_stack_and_a_refusal_fails_it_before_terraform(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    calls: list[tuple[str, bool]] = []

    def hook(_: Settings, stack: str, destroy: bool) -> list[str]:
        calls.append((stack, destroy))
        raise api_key.ApiKeyError("secret x has no API key yet")

    def no_terraform(*_: object, **__: object) -> None:
        raise AssertionError("Terraform must not run after a refusal")

    monkeypatch.setattr(engine, "_before_stack", [])
    monkeypatch.setattr(engine, "StackTerraform", no_terraform)
    monkeypatch.setattr(engine.serials, "check_current", lambda *_: None)  # the state copy is current
    engine.register_before_stack(hook)
    engine.register_before_stack(hook)  # once only
    result = engine._run_one(settings, "compute-primary", destroy=False, force=True, out=engine.console)
    assert (result.stack, result.result) == ("compute-primary", "FAILED")
    engine._run_one(settings, "data-primary", destroy=True, force=False, out=engine.console)
    assert calls == [("compute-primary", False), ("data-primary", True)]
    assert "==> compute-primary: secret x has no API key yet" in capsys.readouterr().out


def test_rotate_api_key_command_and_make_target() -> None:
    assert parser().parse_args(["rotate-api-key"]).func is cmd_rotate_api_key
    assert parser().parse_args(["rotate-api-key"]).retire is False
    assert parser().parse_args(["rotate-api-key", "--retire"]).retire is True
    environ = clean_environ(PAYMENTS_DOTENV="none", PAYMENTS_LOCAL_PORT="9")
    bad = subprocess.run(
        ["make", "-s", "--no-print-directory", "-o", "install", "rotate-api-key", "RETIRE=no"],  # -o: no (re)install
        check=False,
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stdout == "error: RETIRE must be yes or empty, e.g. make rotate-api-key RETIRE=yes\n"
    for variables, command in (([], "rotate-api-key \n"), (["RETIRE=yes"], "rotate-api-key --retire\n")):
        dry = subprocess.run(
            ["make", "-n", "--no-print-directory", "-o", "install", "rotate-api-key", *variables],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            check=True,
        )
        assert dry.stdout.endswith(command), dry.stdout
    assert "\nrotate-api-key: install ## " in (ROOT / "Makefile").read_text()
