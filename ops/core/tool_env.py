"""The environment every Terraform, cdktf and boto3 call of the project runs with: offline and quiet."""

from __future__ import annotations

import os
import shlex

from config.loader import STATE_HOME_SELECTOR
from config.settings import Settings
from ops.core.paths import TF_CLI_CONFIG
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

# Also exported by `source .venv/bin/activate` (see `shell_exports`), for the cdktf CLI run by hand.
QUIET_TOOLING = {
    "CHECKPOINT_DISABLE": "1",  # no Terraform version/telemetry checks
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}
QUIET = {**QUIET_TOOLING, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}

# Terraform and the AWS provider are Go programs, and every provider process starts by building the provider's whole
# schema (thousands of resource types): at Go's default GOGC=100 about a third of a plan's CPU is garbage collection.
# 400 trades about 200 MB more per provider process for about 30% less CPU (network-primary's plan: 10.1 -> 7.1
# CPU-seconds). A GOGC the caller set is kept.
TERRAFORM_GOGC = "400"


def clean_environ(**overrides: str) -> dict[str, str]:
    """The process environment without PAYMENTS_* settings leaking in from the caller's shell, tools quiet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
    env.update(QUIET)
    env.update(overrides)
    return env


def tool_env(settings: Settings | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QUIET)
    env.setdefault("GOGC", TERRAFORM_GOGC)
    env["TF_CLI_CONFIG_FILE"] = str(TF_CLI_CONFIG)
    if settings is not None:
        # app.py synthesizes the backend of the state copy this command chose (`ops.state.home`), not its own pick.
        env[STATE_HOME_SELECTOR] = settings.state.home
    if settings is not None and settings.is_local:
        env.update(
            {
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
    elif settings is not None and settings.aws.profile:
        env["AWS_PROFILE"] = settings.aws.profile
    return env


def shell_exports() -> str:
    """The lines `.venv/bin/payments-env.sh` holds: an activated shell gets the project's Terraform config, quietly."""
    variables = {"TF_CLI_CONFIG_FILE": str(TF_CLI_CONFIG), **QUIET_TOOLING}
    header = "# payments platform: Terraform CLI config and quiet tooling (written by `python -m ops shell-env`)"
    return "\n".join([header, *(f"export {name}={shlex.quote(value)}" for name, value in variables.items())]) + "\n"
