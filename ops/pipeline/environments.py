"""What a workflow needs to know about each platform environment, read from its config as the aws target."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from config import load_settings
from config.loader import available_environments
from config.settings import Settings
from ops.core.paths import ROOT
from shared.naming import state_key
from shared.pipeline import account_id_variable


@dataclass(frozen=True)
class Environment:
    name: str
    primary_region: str
    production: bool
    account_expression: str  # ${{ vars.PAYMENTS_AWS_ACCOUNT_ID_<ENV> }}
    traffic_group: str  # the concurrency group of everything that moves traffic or switches the database
    settings: Settings

    def state_lock_group(self, stack: str) -> str:
        """The concurrency group of a job that applies `stack`: its remote state's bucket and key, the object its
        lock guards. Two runs on one stack queue in GitHub instead of failing on Terraform's lock. The bucket is
        named as the committed configuration names it (the account, a GitHub variable, is not part of the group)."""
        return f"{self.settings.state_bucket_of('primary')}/{state_key(self.settings, stack)}"


def expression(text: str) -> str:
    return "${{ " + text + " }}"


def load(name: str) -> Environment:
    # The committed configuration only: a developer's .env or shell must not change the generated workflows.
    settings = load_settings(name, environ={}, dotenv_path=None)
    return Environment(
        name=name,
        primary_region=settings.regions.primary,
        production=settings.is_production,
        account_expression=expression(f"vars.{account_id_variable(name)}"),
        traffic_group=f"{settings.project}-{settings.environment_suffix}-traffic",
        settings=settings,
    )


def in_deploy_order() -> list[Environment]:
    """Every configured environment, the non-production ones first (dev is deployed before prod)."""
    return sorted((load(name) for name in available_environments()), key=lambda env: (env.production, env.name))


def python_version() -> str:
    """The Python the project requires (pyproject's `requires-python` lower bound), e.g. 3.11."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    found = re.search(r">=\s*(\d+\.\d+)", requires)
    if found is None:
        raise ValueError(f"pyproject.toml: requires-python {requires!r} has no lower bound such as >=3.11")
    return found[1]
