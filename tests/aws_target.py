"""Settings of the aws target as the unit tests use them: a placeholder account and zone, prod's alarm address."""

from __future__ import annotations

from config import load_settings
from config.settings import Settings
from tests.conftest import AWS_ACCOUNT, AWS_PROD_ALARM_EMAIL, AWS_ZONE


def aws_settings(environment: str, **extra: str) -> Settings:
    """`environment` on the aws target; `extra`: more PAYMENTS_* settings."""
    environ = {
        "PAYMENTS_DOTENV": "none",
        "PAYMENTS_ENV": environment,
        "PAYMENTS_TARGET": "aws",
        "PAYMENTS_AWS_ACCOUNT_ID": AWS_ACCOUNT,
        "PAYMENTS_DNS_ZONE_NAME": AWS_ZONE,
        **extra,
    }
    if environment == "prod":
        environ["PAYMENTS_COMPUTE_ALARM_EMAIL"] = AWS_PROD_ALARM_EMAIL
    return load_settings(environ=environ)
