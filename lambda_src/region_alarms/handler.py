"""Lambda entry point of `region-alarms` (handler ``lambda_src.region_alarms.handler.handler``).

Step Functions' AWS SDK integrations call only the state machine's own region, so the rollout engine invokes this
function to read the other region's alarms: input ``{"region": "<region>", "alarm_names": [...]}``, answer
``{"found": <how many of them exist>, "firing": [<names in ALARM, in input order>]}``, metric and composite alarms
alike.

Environment (set by the compute stack): ALLOWED_REGIONS and ALARM_PREFIXES (comma-separated: the platform's two
regions and its alarms' name prefixes; anything else is refused), LOG_LEVEL (optional).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from ..common import logging_setup
from ..common.per_container import Clients, Once

LOGGER_NAME = "payments.region_alarms"
ALARM_TYPES = ("CompositeAlarm", "MetricAlarm")
MAX_NAMES = 100  # DescribeAlarms accepts at most 100 AlarmNames
FIRING = "ALARM"
# The engine polls while a step bakes: a slow region must fail the read quickly (the step then reverts).
_clients = Clients(Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}))


class ConfigError(RuntimeError):
    """The function's environment is incomplete (a deployment problem)."""


class RefusedInput(ValueError):
    """The input names a region or an alarm outside the platform (Step Functions sees the error `RefusedInput`)."""


@dataclass(frozen=True)
class Settings:
    allowed_regions: tuple[str, ...]
    alarm_prefixes: tuple[str, ...]


def _listed(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    values = tuple(part.strip() for part in environ.get(name, "").split(",") if part.strip())
    if not values:
        raise ConfigError(f"not set: {name}")
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(_listed(env, "ALLOWED_REGIONS"), _listed(env, "ALARM_PREFIXES"))


_settings = Once(load_settings)


def _request(event: Any, settings: Settings) -> tuple[str, list[str]]:
    """The region and alarm names asked for, or RefusedInput naming the field and what it accepts."""
    if not isinstance(event, Mapping):
        raise RefusedInput('the input must be an object: {"region": ..., "alarm_names": [...]}')
    region = event.get("region")
    if region not in settings.allowed_regions:
        raise RefusedInput(f"region: {region!r} is not one of the platform's regions {list(settings.allowed_regions)}")
    names = event.get("alarm_names")
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise RefusedInput("alarm_names: must be a list of alarm names")
    if len(names) > MAX_NAMES:
        raise RefusedInput(f"alarm_names: at most {MAX_NAMES} names, got {len(names)}")
    foreign = [name for name in names if not name.startswith(settings.alarm_prefixes)]
    if foreign:
        raise RefusedInput(
            f"alarm_names: {foreign} are not the platform's alarms (prefixes {list(settings.alarm_prefixes)})"
        )
    return str(region), list(dict.fromkeys(names))


def read_alarms(region: str, names: list[str]) -> dict[str, Any]:
    """`{"found", "firing"}` for `names` in `region` (every page of DescribeAlarms)."""
    states: dict[str, str] = {}
    if names:
        pages = _clients.get("cloudwatch", region).get_paginator("describe_alarms")
        for page in pages.paginate(AlarmNames=names, AlarmTypes=list(ALARM_TYPES)):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
    return {"found": len(states), "firing": [name for name in names if states.get(name) == FIRING]}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Invoked by the rollout engine's state machine (synchronously, `arn:aws:states:::lambda:invoke`)."""
    log = logging_setup.get_logger(LOGGER_NAME)
    region, names = _request(event, _settings.get())
    with logging_setup.log_context(region=region):
        answer = read_alarms(region, names)
        log.info("alarms read", extra={"asked": len(names), **answer})
        return answer


def reset_runtime() -> None:
    """Forget cached settings and boto3 clients (the next invocation re-reads the environment)."""
    _settings.reset()
    _clients.reset()
