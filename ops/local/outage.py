"""`python -m ops outage`: a region outage on this machine. The fault proxy fails every request signed for the
region (`ops.local.fault_proxy`) and that region's PostgreSQL instance crashes (an immediate stop); clearing lifts
the fault and starts the instance again, as whatever it was (writer or standby). Local target only, with
`local.fault_injection = true`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import cast

from config.settings import ROLES, LocalTarget, Role, Settings, other_role
from ops.core.errors import RefusedError, ToolError, UsageError
from ops.local import postgres
from ops.local.fault_proxy import CONTROL_PATH, MODES, Mode

COMMAND = "outage"
CONTROL_TIMEOUT_SECONDS = 5.0


def parse_role(value: str) -> Role:
    if value not in ROLES:
        raise UsageError(f"{COMMAND}: ROLE={value!r} is invalid: use {' or '.join(ROLES)}, e.g. ROLE=primary")
    return value


def parse_mode(value: str) -> Mode:
    if value not in MODES:
        raise UsageError(f"{COMMAND}: MODE={value!r} is invalid: use one of {', '.join(MODES)}, e.g. MODE=refuse")
    return value


def command(region: str, mode: str, *, clearing: bool, showing: bool) -> Callable[[Settings], list[str]]:
    """What `ops outage` was asked for (`--region R --mode M`, `--clear` or `--status`), its arguments checked."""
    if clearing + showing > 1 or ((clearing or showing) and (region or mode)):
        raise UsageError(f"{COMMAND}: use one of --region R --mode M, --clear or --status, e.g. make outage-clear")
    if clearing:
        return clear
    if showing:
        return status
    if not region:
        raise UsageError(
            f"{COMMAND}: ROLE is required: the region role to fail, e.g. make outage ROLE=primary MODE=refuse"
        )
    if not mode:
        raise UsageError(
            f"{COMMAND}: MODE is required: refuse, timeout or 503, e.g. make outage ROLE=primary MODE=refuse"
        )
    return partial(inject, role=parse_role(region), mode=parse_mode(mode))


def check_enabled(settings: Settings) -> None:
    """Faults are injected by the local fault proxy: the aws target, or a local one without the proxy, has none."""
    if not settings.is_local:
        raise RefusedError(
            f"{COMMAND}: target = aws has no fault proxy (outages are injected on the local target only); "
            "set PAYMENTS_TARGET=local and PAYMENTS_LOCAL_FAULT_INJECTION=true"
        )
    if not settings.local.fault_injection:
        raise RefusedError(
            f"{COMMAND}: local.fault_injection is false, so no fault proxy runs; set "
            "PAYMENTS_LOCAL_FAULT_INJECTION=true (or fault_injection = true under [local]), then "
            "`make local-down && make local-up`"
        )


def _control(local: LocalTarget, method: str, document: object = None) -> dict[str, object]:
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(f"{local.endpoint}{CONTROL_PATH}", data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_SECONDS) as response:  # noqa: S310  # loopback
            return cast(dict[str, object], json.loads(response.read()))
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", error.reason)
        raise ToolError(f"{COMMAND}: the fault proxy refused {method} {CONTROL_PATH}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ToolError(
            f"{COMMAND}: the fault proxy on {local.endpoint} does not answer ({error}); start it with `make local-up`"
        ) from None


def faulted_counts(local: LocalTarget) -> dict[str, int]:
    """Requests the proxy failed since the fault was set, by "<region>/<service>" (the drill asserts an unplanned
    failover made none to the failed region)."""
    counts = _control(local, "GET")["faulted"]
    return {key: int(value) for key, value in cast(dict[str, int], counts).items()}


def inject(settings: Settings, role: Role, mode: Mode) -> list[str]:
    """Fail `role`'s region with `mode`, then crash its PostgreSQL instance."""
    check_enabled(settings)
    region = settings.regions.of(role)
    _control(settings.local, "PUT", {"region": region, "mode": mode})
    lines = [f"outage: every request signed for {region} (the {role} region) now gets `{mode}` from the fault proxy"]
    instance = postgres.instances(settings.local)[role]
    if postgres.is_running(instance):
        postgres.stop(instance, mode="immediate")
        lines.append(f"outage: the {role} region's PostgreSQL on port {instance.port} crashed (immediate stop)")
    else:
        lines.append(f"outage: the {role} region's PostgreSQL on port {instance.port} was not running")
    return lines


def clear(settings: Settings) -> list[str]:
    """Lift the fault and start every local PostgreSQL instance that is down: as whatever it was, unless the other
    region's instance was promoted meanwhile. Then it comes back as that writer's standby, the way Aurora treats a
    failed-over primary whose region recovers (it is fenced and rebuilt as a secondary, never a second writer)."""
    check_enabled(settings)
    before = _control(settings.local, "GET")["fault"]
    _control(settings.local, "DELETE")
    region = cast(dict[str, str], before)["region"] if before else None
    lines = [f"outage cleared: {region} answers again" if region else "outage: none in force"]
    found = postgres.instances(settings.local)
    for role, instance in found.items():
        if not (instance.datadir / "PG_VERSION").exists() or postgres.is_running(instance):
            continue
        writer = found[other_role(role)]
        if postgres.in_recovery(writer) is False:
            how = postgres.rejoin_as_standby(instance, writer)
            lines.append(
                f"outage cleared: the {role} region's PostgreSQL came back as a standby of the {other_role(role)} "
                f"region's writer through {how} (never a second writer)"
            )
        else:
            postgres.start(instance)
            lines.append(f"outage cleared: the {role} region's PostgreSQL started again on port {instance.port}")
    return lines


def status(settings: Settings) -> list[str]:
    """The fault in force, the requests it failed, and whether each region's PostgreSQL instance runs."""
    check_enabled(settings)
    report = _control(settings.local, "GET")
    fault = cast(dict[str, str] | None, report["fault"])
    lines = [f"outage: {fault['region']} failed with `{fault['mode']}`" if fault else "outage: none"]
    counts = cast(dict[str, int], report["faulted"])
    lines += [f"  failed {count} request(s) to {key}" for key, count in counts.items()]
    for role, instance in postgres.instances(settings.local).items():
        created = (instance.datadir / "PG_VERSION").exists()
        state = ("running" if postgres.is_running(instance) else "down") if created else "not created"
        lines.append(f"postgres: the {role} region's instance on port {instance.port}: {state}")
    return lines
