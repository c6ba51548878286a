"""The `region-alarms` function in-process against a private emulator: alarms in both regions, one of them set to
ALARM; the answer counts the names that exist and lists those that fire, and anything outside the platform's
regions and alarm names is refused."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from config.settings import ROLES, Role, Settings
from lambda_src.region_alarms import handler as region_alarms
from ops.core.aws_clients import client
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from shared.naming import Naming
from tests.support import put_alarm
from tests.unit.private_emulator import private_emulator


def _alarm_name(settings: Settings, role: Role, component: str) -> str:
    return Naming.for_role(settings, role).name(component)


def _put_alarm(settings: Settings, role: Role, component: str, *, firing: bool = False) -> str:
    name = _alarm_name(settings, role, component)
    put_alarm(client(settings, "cloudwatch", settings.regions.of(role)), name, firing=firing)
    return name


@pytest.fixture(scope="module")
def emulated() -> Iterator[Settings]:
    with private_emulator() as settings:
        for role in ROLES:
            _put_alarm(settings, role, "region-unhealthy", firing=role == "secondary")
            _put_alarm(settings, role, "api-latency")
        yield settings


@pytest.fixture
def environment(emulated: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The function's environment as the compute stack sets it, boto3 pointed at the emulator."""
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_") or n == "AWS_PROFILE"]:
        monkeypatch.delenv(name)
    values = {
        "AWS_ENDPOINT_URL": emulated.local.endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_REGION": emulated.regions.primary,
        "ALLOWED_REGIONS": ",".join(emulated.regions.of(role) for role in ROLES),
        "ALARM_PREFIXES": ",".join(f"{Naming.for_role(emulated, role).prefix}-" for role in ROLES),
        "LOG_LEVEL": "WARNING",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    region_alarms.reset_runtime()
    yield values
    region_alarms.reset_runtime()


@pytest.mark.usefixtures("environment")
@pytest.mark.parametrize(("role", "firing"), [("primary", []), ("secondary", ["region-unhealthy"])])
def test_each_region_answers_with_its_own_alarms(emulated: Settings, role: Role, firing: list[str]) -> None:
    names = [_alarm_name(emulated, role, c) for c in ("region-unhealthy", "api-latency", "replication-lag")]

    answer = region_alarms.handler({"region": emulated.regions.of(role), "alarm_names": names}, None)

    assert answer == {"found": 2, "firing": [_alarm_name(emulated, role, c) for c in firing]}


@pytest.mark.usefixtures("environment")
def test_an_alarm_of_one_region_is_not_found_in_the_other(emulated: Settings) -> None:
    secondary_alarm = _alarm_name(emulated, "secondary", "region-unhealthy")

    answer = region_alarms.handler({"region": emulated.regions.primary, "alarm_names": [secondary_alarm]}, None)

    assert answer == {"found": 0, "firing": []}


@pytest.mark.usefixtures("environment")
def test_repeated_names_count_once_and_no_names_read_nothing(emulated: Settings) -> None:
    name = _alarm_name(emulated, "secondary", "region-unhealthy")
    region = emulated.regions.secondary

    assert region_alarms.handler({"region": region, "alarm_names": [name, name]}, None) == {
        "found": 1,
        "firing": [name],
    }
    assert region_alarms.handler({"region": region, "alarm_names": []}, None) == {"found": 0, "firing": []}


# Each case: the event, given the primary region and the primary's alarm name prefix; the refusal it gets.
REFUSED: list[tuple[Callable[[str, str], Any], str]] = [
    (lambda region, prefix: {"region": "ap-south-1", "alarm_names": []}, r"^region: 'ap-south-1' is not one of"),
    (lambda region, prefix: {"alarm_names": []}, r"^region: None is not one of the platform's regions"),
    (lambda region, prefix: {"region": region, "alarm_names": "x"}, r"^alarm_names: must be a list of alarm names$"),
    (lambda region, prefix: {"region": region, "alarm_names": [""]}, r"^alarm_names: must be a list of alarm names$"),
    (lambda region, prefix: {"region": region, "alarm_names": ["other-alarm"]}, r"^alarm_names: \['other-alarm'\] are"),
    (lambda region, prefix: {"region": region, "alarm_names": [f"{prefix}a"] * 101}, r"^alarm_names: at most 100"),
    (lambda region, prefix: ["not", "an", "object"], r"^the input must be an object"),
]  # fmt: skip


@pytest.mark.usefixtures("environment")
@pytest.mark.parametrize(("event", "message"), REFUSED)
def test_anything_outside_the_platform_is_refused(
    emulated: Settings, event: Callable[[str, str], Any], message: str
) -> None:
    prefix = f"{Naming.for_role(emulated, 'primary').prefix}-"

    with pytest.raises(region_alarms.RefusedInput, match=message):
        region_alarms.handler(event(emulated.regions.primary, prefix), None)


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_REGIONS", "us-east-1")
    monkeypatch.delenv("ALARM_PREFIXES", raising=False)
    region_alarms.reset_runtime()
    try:
        with pytest.raises(region_alarms.ConfigError, match=r"^not set: ALARM_PREFIXES$"):
            region_alarms.handler({"region": "us-east-1", "alarm_names": []}, None)
    finally:
        region_alarms.reset_runtime()


@pytest.mark.usefixtures("environment")
def test_composite_and_metric_alarms_are_both_asked_for_and_counted(emulated: Settings) -> None:
    """The emulator cannot create composite alarms (gap `composite-alarm`): the call and a composite answer are
    checked with botocore's stubber on the function's own client."""
    region = emulated.regions.primary
    composite, metric = (_alarm_name(emulated, "primary", c) for c in ("region-unhealthy", "api-latency"))
    cloudwatch = region_alarms._clients.get("cloudwatch", region)
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            {
                "CompositeAlarms": [{"AlarmName": composite, "StateValue": "ALARM"}],
                "MetricAlarms": [{"AlarmName": metric, "StateValue": "OK"}],
            },
            {"AlarmNames": [metric, composite], "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]},
        )

        answer = region_alarms.handler({"region": region, "alarm_names": [metric, composite]}, None)

        stub.assert_no_pending_responses()
    assert answer == {"found": 2, "firing": [composite]}
