"""`make runbook`: the migration runbook (`shared.runbook`) with the values read from the deployed platform now.

Each value is read on its own; one that cannot be read (a stack not deployed, a region not answering, the emulator
down) shows as `unknown (<why>)` and the rest of the runbook is still printed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from config.settings import ROLES, Role, Settings
from ops.core.aws_clients import client
from ops.core.clock import utc_now
from ops.core.route53_health import is_healthy, succeeded
from ops.deploy.outputs import layer_outputs
from ops.ledger import aurora
from ops.state import traffic_split
from ops.traffic import checks, local_database, write_home
from shared.runbook import Facts, Live, unknown
from shared.write_home import parse as parse_home


def read_or_unknown(read: Callable[[], str]) -> str:
    try:
        return read()
    except Exception as error:  # any failure to read one value is that value's answer, never the command's end
        return unknown(error)


def gather(settings: Settings, facts: Facts) -> Live:
    return Live(
        read_at=utc_now(),
        replication_lag=read_or_unknown(partial(replication_lag, settings)),
        alarms={name: read_or_unknown(partial(alarm_state, settings, region, name)) for name, region in facts.alarms()},
        capacity={role: read_or_unknown(partial(capacity, settings, role)) for role in ROLES},
        split=read_or_unknown(partial(split, settings)),
        write_home=read_or_unknown(partial(home, settings)),
    )


def replication_lag(settings: Settings) -> str:
    """The secondary's lag behind the writer: its local PostgreSQL standby, or Aurora's metric on AWS."""
    threshold = settings.data.replication_lag_alarm_ms
    if settings.is_local:
        check = local_database.lag_check(settings, "secondary", threshold)
        return check.detail if check.outcome == "ok" else f"{check.outcome}: {check.detail}"
    replica = aurora.clusters(settings)[0]["secondary"]
    lag = checks.max_replica_lag_ms(settings, replica)
    if lag is None:
        return unknown(f"no datapoints of {checks.LAG_METRIC} for {replica.identifier} in the last 5 minutes")
    return f"{lag:.0f} ms (the highest of the last 5 minutes, {replica.identifier})"


def alarm_state(settings: Settings, region: str, name: str) -> str:
    alarm = checks.describe_alarm(settings, region, name)
    if alarm is None:
        return unknown(f"no alarm {name} in {region}")
    return str(alarm["StateValue"])


def capacity(settings: Settings, role: Role) -> str:
    """The region's Aurora cluster status and its API's Route 53 health check, as Route 53 judges it."""
    cluster = checks.cluster_status(settings, aurora.clusters(settings)[0][role])
    health_check_id = layer_outputs(settings, "dns", "the health checks")[role]["health_check_id"]
    route53 = client(settings, "route53", settings.regions.primary)
    observations = route53.get_health_check_status(HealthCheckId=health_check_id)["HealthCheckObservations"]
    healthy = is_healthy(observations)
    verdict = {None: "no observations yet", True: "healthy", False: "UNHEALTHY"}[healthy]
    checkers = f"{succeeded(observations)} of {len(observations)} checkers report success"
    return f"cluster {cluster.detail}; health check {health_check_id} {verdict} ({checkers})"


def split(settings: Settings) -> str:
    state = traffic_split.read(settings)
    return f"{state.weights}, status {state.status}"


def home(settings: Settings) -> str:
    views = write_home.read(settings)
    homes = {parse_home(value) for value in views.values()}
    agreed = homes.pop() if len(homes) == 1 else None
    if agreed is None:
        return "none agreed (" + ", ".join(f"{role}: {value}" for role, value in views.items()) + ")"
    return f"{agreed} ({settings.regions.of(agreed)})"
