"""What a process standing in for an AWS compute service on the local target gets instead of a role and a
metadata endpoint: the emulator's endpoint, the fake credentials and its region. The in-process Lambda functions
(`ops.ledger.local_lambda`, gap `lambda-invoke`) and the EC2 stand-in (`ops.local.processor`, gap `ec2-user-data`)
both get exactly this."""

from __future__ import annotations

from collections.abc import Mapping

from config.settings import Settings
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY


def emulator_access(settings: Settings, region: str) -> dict[str, str]:
    """The variables that point the AWS SDK at the emulator, as `region`'s compute would call AWS."""
    return {
        "AWS_ENDPOINT_URL": settings.local.endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def is_operator_override(name: str) -> bool:
    """A variable of the operator's shell that would send a stand-in's SDK elsewhere than `emulator_access` says
    (a service-specific endpoint, a profile): never inherited."""
    return name.startswith("AWS_ENDPOINT_URL_") or name == "AWS_PROFILE"


def inherited(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without the operator's overrides."""
    return {name: value for name, value in environ.items() if not is_operator_override(name)}
