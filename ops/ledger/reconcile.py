"""`make reconcile`: every payment is in DynamoDB, in the ledger, in the audit bucket and announced, exactly once.

Sources, per region and in total:
- DynamoDB: each region's payments table (both replicas of the global table hold every payment; locally two
  regional tables kept in step by the local table replication, gap `dynamodb-global-replication`); a payment's
  region is the one its item names;
- the ledger: the payment ids on the writer (the ledger-admin function's summary), plus its own balance check;
- audit objects: `audit/payments/.../<payment_id>.json` in each region's audit bucket;
- events: payments whose item says the `payment.created` event was published (`event_status` done); the events
  themselves go to the consumers' queue and are theirs to read.
Exit 0 when every source holds the same payments and the ledger is balanced; exit 2 and a table of every mismatch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from config.settings import ROLES, Settings
from ops.core.aws_clients import client
from ops.core.console import columns, console
from ops.core.errors import NotDeployedError
from ops.deploy.outputs import layer_outputs
from ops.ledger import admin_function
from ops.ledger.migrations import deployed_roles
from shared import write_home

SOURCES = ("dynamodb", "ledger", "audit", "events")
AUDIT_PREFIX = "audit/payments/"
DONE = "done"
MISMATCH_EXIT = 2


@dataclass
class Found:
    """Payment ids per source, and the region each payment belongs to."""

    ids: dict[str, set[str]] = field(default_factory=lambda: {source: set() for source in SOURCES})
    region_of: dict[str, str] = field(default_factory=dict)
    ledger_problems: list[str] = field(default_factory=list)


def _scan_table(settings: Settings, region: str, table: str, found: Found) -> None:
    dynamodb = client(settings, "dynamodb", region)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression="payment_id, #region, event_status",
        ExpressionAttributeNames={"#region": "region"},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page["Items"]:
            payment_id = item["payment_id"]["S"]
            if not write_home.is_payment_id(payment_id):
                continue  # the write home's sentinel (ops.traffic.write_home), not a payment
            found.ids["dynamodb"].add(payment_id)
            found.region_of.setdefault(payment_id, item.get("region", {}).get("S", region))
            if item.get("event_status", {}).get("S") == DONE:
                found.ids["events"].add(payment_id)


def _list_audit(settings: Settings, region: str, bucket: str, found: Found) -> None:
    s3 = client(settings, "s3", region)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=AUDIT_PREFIX):
        for entry in page.get("Contents", []):
            name = entry["Key"].rsplit("/", 1)[-1]
            if name.endswith(".json"):
                payment_id = name.removesuffix(".json")
                found.ids["audit"].add(payment_id)
                found.region_of.setdefault(payment_id, region)


def _read_ledger(settings: Settings, found: Found) -> None:
    roles = deployed_roles(settings)
    if not roles:
        raise NotDeployedError("no compute stack is deployed (no ledger-admin function): run `make deploy` first")
    after: str | None = None
    while True:  # the summary pages through the payment ids; its counts are over the whole ledger
        summary = admin_function.invoke(settings, roles[0], "summary", **({"after": after} if after else {}))
        found.ids["ledger"].update(str(payment_id) for payment_id in summary.get("payment_ids", []))
        after = summary.get("next_after")
        if not summary.get("truncated") or not after:
            break
    for name in ("unbalanced", "duplicates"):
        if summary.get(name):
            found.ledger_problems.append(f"{summary[name]} {name} payment(s) in the ledger")


def collect(settings: Settings) -> Found:
    found = Found()
    for role, data in layer_outputs(settings, "data", "reconcile reads both regions").items():
        region = settings.regions.of(role)
        _scan_table(settings, region, data["table_name"], found)
        _list_audit(settings, region, data["audit_bucket_name"], found)
    _read_ledger(settings, found)
    return found


@dataclass(frozen=True)
class Mismatch:
    payment_id: str
    region: str
    missing_from: tuple[str, ...]


def mismatches(found: Found) -> list[Mismatch]:
    every = set().union(*found.ids.values())
    rows = []
    for payment_id in sorted(every):
        missing = tuple(source for source in SOURCES if payment_id not in found.ids[source])
        if missing:
            rows.append(Mismatch(payment_id, found.region_of.get(payment_id, "?"), missing))
    return rows


def counts(found: Found, regions: list[str]) -> list[tuple[str, ...]]:
    """Rows of (region, count per source) for each region and the total."""
    per_region: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SOURCES, 0))
    for source, ids in found.ids.items():
        for payment_id in ids:
            per_region[found.region_of.get(payment_id, "?")][source] += 1
    names = regions + sorted(set(per_region) - set(regions))
    rows = [(name, *(str(per_region[name][source]) for source in SOURCES)) for name in names]
    rows.append(("total", *(str(len(found.ids[source])) for source in SOURCES)))
    return rows


def run(settings: Settings, only: set[str] | None = None) -> int:
    """Every payment (`only`: just these ids, e.g. the drill's; the ledger's own balance check still counts)."""
    found = collect(settings)
    regions = [settings.regions.of(role) for role in ROLES]
    for line in columns(("region", *SOURCES), counts(found, regions)):
        console.say(line)
    problems = [m for m in mismatches(found) if only is None or m.payment_id in only]
    if only is not None:
        problems += [Mismatch(p, "?", SOURCES) for p in sorted(only - set().union(*found.ids.values()))]
    if not problems and not found.ledger_problems:
        checked = len(found.ids["dynamodb"]) if only is None else len(only)
        console.say(f"reconciled: {checked} payment(s), every one in all {len(SOURCES)} sources")
        return 0
    for problem in found.ledger_problems:
        console.say(f"MISMATCH: {problem}")
    if problems:
        console.say(f"MISMATCH: {len(problems)} payment(s) missing from a source:")
        rows = [(m.payment_id, m.region, ", ".join(m.missing_from)) for m in problems]
        for line in columns(("payment_id", "region", "missing from"), rows):
            console.say(f"  {line}")
    return MISMATCH_EXIT
