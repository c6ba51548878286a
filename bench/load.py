"""`make bench-load`: the payment handler under concurrent load, against what the stacks really deployed.

It deploys network, data and compute of one region on a private emulator (or, with `--reuse`, uses
the deployment `make deploy` made), then sends POST /payments from concurrent threads through the
payment processor's own handler, in-process (the emulator cannot run Lambda containers), or, with
`--target http` (`make bench-load TARGET=http`), over HTTP to the HTTP adapter (`lambda_src.payment_server`,
the ec2 runtime's server) run as a process of its own on 127.0.0.1, with the region's API key. The mix:
new payments, retries of earlier Idempotency-Keys with the same body, and retries with a different
body (conflicts). It prints throughput and latency percentiles, then checks what was written:

    payments in the table == distinct accepted keys, audit objects == payments, events == payments,
    ledger payments on the writer == payments (two balanced entries each),
    each written once (no duplicates) and none missing (no loss); conflicts answered 409; no 5xx.

Figures, not assertions: exit 1 only when a check of what was written fails.

    python -m bench.load [--requests 1000] [--threads 16] [--retries 0.10] [--conflicts 0.03]
                         [--role primary] [--reuse] [--target handler|http]
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from config import load_settings
from config.settings import LocalTarget, Settings
from harness.api_events import api_event
from harness.payment_server import RunningServer, running_server
from harness.platform import Platform, free_port
from ops.core.paths import ROOT, outputs_dir
from ops.local import postgres
from shared import write_home
from shared.api_names import API_BASE_PATH

LAYERS = ("network", "data", "compute")
EVENT_WAIT_SECONDS = 60
RESULTS = ROOT / "bench" / "results" / "load.md"
SERVER_LOG = ROOT / "bench" / "results" / "load-server.log"
TARGETS = ("handler", "http")
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=64)


@dataclass(frozen=True)
class Planned:
    kind: str  # "new", "retry" (same key, same body) or "conflict" (same key, other body)
    key: str
    body: str


@dataclass(frozen=True)
class Answer:
    planned: Planned
    status: int
    payment_id: str | None
    replayed: bool
    seconds: float


# -- the request mix -----------------------------------------------------------------------------------------


def plan_requests(total: int, retry_share: float, conflict_share: float, run_id: str, seed: int) -> list[Planned]:
    """New payments first in each stretch, each retry or conflict after the payment it repeats."""
    rng = random.Random(seed)
    retries, conflicts = round(total * retry_share), round(total * conflict_share)
    originals = total - retries - conflicts
    if originals < 1:
        raise SystemExit("--retries plus --conflicts must leave room for new payments (their sum must be < 1)")
    planned: list[Planned] = []
    made: list[Planned] = []
    repeats = ["retry"] * retries + ["conflict"] * conflicts
    rng.shuffle(repeats)
    slots = sorted(rng.sample(range(1, total), len(repeats))) if repeats else []
    repeat_at = dict(zip(slots, repeats, strict=True))
    for position in range(total):
        kind = repeat_at.get(position)
        if kind is None or not made:
            amount = f"{rng.randint(100, 999_999) / 100:.2f}"
            body = _body(amount, run_id, len(made))
            original = Planned("new", f"load-{run_id}-{len(made)}", body)
            made.append(original)
            planned.append(original)
            continue
        earlier = rng.choice(made)
        if kind == "retry":
            planned.append(Planned("retry", earlier.key, earlier.body))
        else:
            changed = json.loads(earlier.body)
            changed["amount"] = f"{float(changed['amount']) + 1:.2f}"
            planned.append(Planned("conflict", earlier.key, json.dumps(changed)))
    return planned


def _body(amount: str, run_id: str, n: int) -> str:
    return json.dumps(
        {
            "amount": amount,
            "currency": ("USD", "EUR", "GBP")[n % 3],
            "customer_id": f"cus_Load{run_id}",
            "payment_method": "pm_Card4242",
            "description": f"load order {n}",
        }
    )


# -- where the handler runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    endpoint: str
    region: str
    table: str
    bucket: str
    key_arn: str
    bus: str
    retry_queue_url: str
    payment_function: str
    api_key_secret_name: str
    local: LocalTarget
    database: str

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], role: str, settings: Settings) -> Region:
        try:
            data, compute = outputs[f"data-{role}"], outputs[f"compute-{role}"]
        except KeyError as missing:
            raise SystemExit(f"outputs have no {missing.args[0]}; deploy it first (make deploy-{role})") from None
        return cls(
            settings.local.endpoint,
            compute["region"],
            data["table_name"],
            data["audit_bucket_name"],
            data["key_arn"],
            compute["event_bus_name"],
            compute["retry_queue_url"],
            compute["payment_function_name"],
            compute["api_key_secret_name"],
            settings.local,
            settings.data.database_name,
        )

    def client(self, service: str) -> Any:
        return boto3.session.Session(
            region_name=self.region, aws_access_key_id="test", aws_secret_access_key="test"
        ).client(service, endpoint_url=self.endpoint, config=_CLIENT_CONFIG)  # type: ignore[call-overload]

    def lambda_environment(self) -> dict[str, str]:
        """What compute's Lambda function gets, pointed at the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "REGION": self.region,
            "PAYMENTS_TABLE": self.table,
            "AUDIT_BUCKET": self.bucket,
            "AUDIT_KMS_KEY_ID": self.key_arn,
            "EVENT_BUS_NAME": self.bus,
            "AUDIT_RETRY_QUEUE_URL": self.retry_queue_url,
            "MAX_AMOUNT": "100000.00",
            "ALLOWED_CURRENCIES": "USD,EUR,GBP",
            "LOG_LEVEL": "WARNING",
            **self.ledger_environment(),
        }

    def ledger_environment(self) -> dict[str, str]:
        """The deployed function's LEDGER_* variables: both local PostgreSQL instances (gap `rds-engine`)."""
        configuration = self.client("lambda").get_function_configuration(FunctionName=self.payment_function)
        return {k: v for k, v in configuration["Environment"]["Variables"].items() if k.startswith("LEDGER_")}


@contextmanager
def private_deployment(role: str) -> Iterator[Region]:
    """network, data and compute of `role` on an emulator of their own, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir:
        platform = Platform(Path(workdir), free_port(3))  # the emulator and its PostgreSQL pair
        try:
            platform.must("local-up")
            started = time.monotonic()
            platform.must("apply", *(f"{layer}-{role}" for layer in LAYERS))
            print(f"deployed {', '.join(LAYERS)} ({role}) in {time.monotonic() - started:.0f} s", flush=True)
            platform.must("db-migrate")  # what `make deploy` runs after the compute layer (apply does not)
            yield Region.from_outputs(platform.outputs(), role, platform.settings)
        finally:
            platform.ops("local-down")


@contextmanager
def reused_deployment(role: str) -> Iterator[Region]:
    settings = load_settings()
    outputs_file = outputs_dir() / f"{settings.environment}.json"
    if not settings.is_local or not outputs_file.exists():
        raise SystemExit(f"--reuse: no local deployment ({outputs_file}); run `make deploy-{role}` first")
    yield Region.from_outputs(json.loads(outputs_file.read_text()), role, settings)


def load_handler(region: Region) -> ModuleType:
    os.environ.update(region.lambda_environment())
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        del os.environ[name]
    sys.dont_write_bytecode = True  # lambda_src is zipped as it is: no __pycache__ in it
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    handler = importlib.import_module("lambda_src.payment_processor.handler")
    handler.reset_runtime()
    return handler


@contextmanager
def event_observer(region: Region) -> Iterator[str]:
    """An SQS queue behind a payment.created rule on the bus; yields its URL, removes both afterwards."""
    sqs, events = region.client("sqs"), region.client("events")
    suffix = uuid.uuid4().hex[:8]
    queue_url = sqs.create_queue(QueueName=f"bench-load-events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"bench-load-observe-{suffix}"
    events.put_rule(
        Name=rule,
        EventBusName=region.bus,
        EventPattern=json.dumps({"source": ["payments.api"], "detail-type": ["payment.created"]}),
    )
    events.put_targets(Rule=rule, EventBusName=region.bus, Targets=[{"Id": "observer", "Arn": queue_arn}])
    try:
        yield queue_url
    finally:
        events.remove_targets(Rule=rule, EventBusName=region.bus, Ids=["observer"])
        events.delete_rule(Name=rule, EventBusName=region.bus)
        sqs.delete_queue(QueueUrl=queue_url)


# -- sending ---------------------------------------------------------------------------------------------


Call = Callable[[Planned], tuple[int, Mapping[str, str], str]]  # one POST /payments: status, headers, body


def handler_call(handler: ModuleType) -> Call:
    """Through the function's handler, in-process, with the event API Gateway would send."""

    def call(request: Planned) -> tuple[int, Mapping[str, str], str]:
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.key}
        response = handler.handler(api_event("POST", "/payments", body=request.body, headers=headers), None)
        return response["statusCode"], response["headers"], response["body"]

    return call


def http_call(server: RunningServer, key: str) -> Call:
    """Over HTTP to the server, as a client calls the API (`/v1/payments`, its key), one keep-alive connection per
    thread."""
    local = threading.local()
    path = f"/{API_BASE_PATH}/payments"

    def call(request: Planned) -> tuple[int, Mapping[str, str], str]:
        connection = getattr(local, "connection", None) or http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=60
        )
        local.connection = connection
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.key, "x-api-key": key}
        try:
            connection.request("POST", path, body=request.body.encode(), headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        except (http.client.HTTPException, OSError):
            local.connection = None
            connection.close()
            raise

    return call


def send(call: Call, planned: list[Planned], threads: int) -> tuple[list[Answer], float]:
    def one(request: Planned) -> Answer:
        started = time.perf_counter()
        status, headers, text = call(request)
        seconds = time.perf_counter() - started
        body = json.loads(text)
        replayed = any(v == "true" for k, v in headers.items() if k.lower() == "idempotent-replayed")
        return Answer(request, status, body.get("payment_id"), replayed, seconds)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(one, planned))
    return answers, time.perf_counter() - started


@contextmanager
def caller(target: str, handler: ModuleType, region: Region) -> Iterator[Call]:
    """How the load reaches the payment code: `handler` in-process, or `http` through the server process."""
    if target == "handler":
        yield handler_call(handler)
        return
    secret = json.loads(
        region.client("secretsmanager").get_secret_value(SecretId=region.api_key_secret_name)["SecretString"]
    )
    environment = {
        **region.lambda_environment(),
        "API_KEY_SECRET_NAME": region.api_key_secret_name,
        "API_BASE_PATH": API_BASE_PATH,
    }
    with running_server(environment, SERVER_LOG) as server:
        print(f"payment server on {server.base_url} (log: {SERVER_LOG.relative_to(ROOT)})", flush=True)
        yield http_call(server, secret["keys"][secret["current"]])


def redrive_retries(handler: ModuleType, region: Region) -> int:
    """Run the retry handler over whatever the load left on the retry queue (as its SQS trigger would)."""
    sqs = region.client("sqs")
    redriven = 0
    while True:
        batch = sqs.receive_message(QueueUrl=region.retry_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return redriven
        records = [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"} for m in batch]
        failed = {f["itemIdentifier"] for f in handler.retry_handler({"Records": records}, None)["batchItemFailures"]}
        done = [m for m in batch if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            sqs.delete_message_batch(QueueUrl=region.retry_queue_url, Entries=entries)
        redriven += len(done)
        if failed:
            return redriven


# -- checking what was written ---------------------------------------------------------------------------


@dataclass
class Written:
    items: dict[str, dict[str, Any]]
    audit_writes: Counter[str]
    events: Counter[str]
    ledger: dict[str, tuple[int, int]]  # payment id -> (ledger entries, payment rows with that id)
    unbalanced: int


def _stored_items(region: Region, run_customer: str) -> dict[str, dict[str, Any]]:
    """The run's payment items; an item stored twice under one id is marked `_copies`."""
    items: dict[str, dict[str, Any]] = {}
    for page in (
        region.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=region.table,
            FilterExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": run_customer}},
            ConsistentRead=True,
        )
    ):
        for item in page["Items"]:
            payment_id = item["payment_id"]["S"]
            if not write_home.is_payment_id(payment_id):
                continue  # the write home's sentinel, not a payment
            if payment_id in items:
                items[payment_id]["_copies"] = items[payment_id].get("_copies", 1) + 1
            items[payment_id] = item
    return items


def _audit_writes(region: Region, payment_ids: dict[str, Any]) -> Counter[str]:
    writes: Counter[str] = Counter()
    for page in (
        region.client("s3").get_paginator("list_object_versions").paginate(Bucket=region.bucket, Prefix="audit/")
    ):
        for version in page.get("Versions", []):
            payment_id = Path(version["Key"]).stem
            if payment_id in payment_ids:
                writes[payment_id] += 1
    return writes


def _events(region: Region, event_queue_url: str, expected_events: int) -> Counter[str]:
    """Payment events from the queue, drained until `expected_events` arrived or the wait ran out."""
    sqs = region.client("sqs")
    events: Counter[str] = Counter()
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=event_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = batch.get("Messages", [])
        for message in messages:
            events[json.loads(message["Body"])["detail"]["payment_id"]] += 1
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            sqs.delete_message_batch(QueueUrl=event_queue_url, Entries=entries)
        elif sum(events.values()) >= expected_events:
            break
    return events


LEDGER_OF_CUSTOMER = (
    "SELECT p.payment_id, count(e.*), (SELECT count(*) FROM payments d WHERE d.payment_id = p.payment_id), "
    "coalesce(sum(CASE e.direction WHEN 'debit' THEN e.amount ELSE -e.amount END), 0) <> 0 "
    "FROM payments p LEFT JOIN ledger_entries e USING (payment_id) WHERE p.customer_id = :customer "
    "GROUP BY p.payment_id"
)


def _ledger(region: Region, run_customer: str) -> tuple[dict[str, tuple[int, int]], int]:
    """The run's payments on the ledger's writer: entries and rows per payment id, and how many are unbalanced."""
    writer = postgres.writer(region.local)
    if writer is None:
        raise SystemExit("no local PostgreSQL writer: run `make local-up`")
    rows = postgres.query(
        postgres.instances(region.local)[writer], LEDGER_OF_CUSTOMER, database=region.database, customer=run_customer
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}, sum(1 for r in rows if r[3])


def written(region: Region, run_customer: str, event_queue_url: str, expected_events: int) -> Written:
    items = _stored_items(region, run_customer)
    events = _events(region, event_queue_url, expected_events)
    return Written(items, _audit_writes(region, items), events, *_ledger(region, run_customer))


def checks(answers: list[Answer], found: Written) -> list[tuple[str, bool, str]]:
    """(what, held, figures) for every property of the run."""
    by_key: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_key[answer.planned.key].append(answer)
    accepted = {key: group for key, group in by_key.items() if any(a.status == 201 for a in group)}
    winning_bodies = {key: {a.planned.body for a in group if a.status == 201} for key, group in accepted.items()}
    ids = {key: {a.payment_id for a in group if a.status == 201} for key, group in accepted.items()}
    payment_ids = {next(iter(v)) for v in ids.values() if len(v) == 1}
    statuses = Counter(a.status for a in answers)
    losing = [a for a in answers if a.status != 201]
    conflicts_409 = sum(
        1 for a in losing if a.status == 409 and a.planned.body not in winning_bodies.get(a.planned.key, ())
    )
    copies = [pid for pid, item in found.items.items() if item.get("_copies")]
    unfinished = [pid for pid, item in found.items.items()
                  if any(item[f"{step}_status"]["S"] != "done" for step in ("audit", "event", "ledger"))]  # fmt: skip
    return [
        ("no answer outside 201/409", set(statuses) <= {201, 409}, _counts(statuses)),
        ("one body accepted per key", all(len(b) == 1 for b in winning_bodies.values()), f"{len(accepted)} keys"),
        ("one payment id per key", len(payment_ids) == len(accepted), f"{len(payment_ids)} ids"),
        ("every other body answered 409", len(losing) == conflicts_409, f"{conflicts_409} of {len(losing)}"),
        ("payments in table == accepted keys", set(found.items) == payment_ids, f"{len(found.items)} items"),
        ("no payment stored twice", not copies, f"{len(copies)} duplicated"),
        ("audit objects == payments, each written once",
         set(found.audit_writes) == payment_ids and set(found.audit_writes.values()) <= {1},
         f"{len(found.audit_writes)} objects, {sum(found.audit_writes.values())} writes"),
        ("events == payments, each sent once",
         set(found.events) == payment_ids and set(found.events.values()) <= {1},
         f"{len(found.events)} payments, {sum(found.events.values())} events"),
        ("ledger payments == payments, each once, balanced",
         set(found.ledger) == payment_ids and set(found.ledger.values()) <= {(2, 1)} and not found.unbalanced,
         f"{len(found.ledger)} ledger payments, {sum(e for e, _ in found.ledger.values())} entries, "
         f"{sum(1 for _, n in found.ledger.values() if n > 1)} duplicates, {found.unbalanced} unbalanced"),
        ("audit, event and ledger steps done on every item", not unfinished, f"{len(unfinished)} unfinished"),
    ]  # fmt: skip


def _counts(counter: Counter[int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(counter.items()))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(answers: list[Answer], seconds: float, threads: int) -> list[str]:
    lines = [
        f"{len(answers)} requests from {threads} threads in {seconds:.1f} s: {len(answers) / seconds:.0f} req/s",
        f"{'kind':<10} {'count':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}",
    ]
    kinds: dict[str, list[float]] = defaultdict(list)
    for answer in answers:
        kinds[answer.planned.kind].append(answer.seconds * 1000)
        kinds["all"].append(answer.seconds * 1000)
    for kind in ("new", "retry", "conflict", "all"):
        values = kinds.get(kind)
        if values:
            p50, p90, p99 = (_percentile(values, s) for s in (0.5, 0.9, 0.99))
            lines.append(f"{kind:<10} {len(values):>6} {p50:>8.0f} {p90:>8.0f} {p99:>8.0f} {max(values):>8.0f}")
    replays = sum(1 for a in answers if a.replayed)
    lines.append(f"replayed originals: {replays}; mean latency {statistics.mean(kinds['all']):.0f} ms")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests in all (default 1000)")
    parser.add_argument("--threads", type=int, default=16, help="concurrent callers (default 16)")
    parser.add_argument("--retries", type=float, default=0.10, help="share of same-key same-body retries")
    parser.add_argument("--conflicts", type=float, default=0.03, help="share of same-key other-body requests")
    parser.add_argument("--role", choices=("primary", "secondary"), default="primary")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="use `make deploy`'s deployment, not a private one")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="handler",
        help="handler: the function's handler in-process (default); http: the HTTP adapter's server over HTTP",
    )
    args = parser.parse_args(argv)
    for name in ("requests", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name in ("retries", "conflicts"):
        if not 0 <= getattr(args, name) < 1:
            parser.error(f"--{name} is a share: at least 0 and below 1")

    run_id = uuid.uuid4().hex[:10]
    planned = plan_requests(args.requests, args.retries, args.conflicts, run_id, args.seed)
    kinds = Counter(p.kind for p in planned)
    mix = (
        f"run {run_id} ({args.target}): {kinds['new']} new, {kinds['retry']} retries, "
        f"{kinds['conflict']} conflicting bodies"
    )
    print(mix, flush=True)
    deployment = reused_deployment if args.reuse else private_deployment
    with deployment(args.role) as region, event_observer(region) as event_queue_url:
        handler = load_handler(region)  # the retry function redrives in-process in both runtimes
        with caller(args.target, handler, region) as call:
            answers, seconds = send(call, planned, args.threads)
        lines = [mix, *report(answers, seconds, args.threads)]
        lines.append(f"retry-queue messages redriven after the run: {redrive_retries(handler, region)}")
        accepted = len({a.planned.key for a in answers if a.status == 201})
        results = checks(answers, written(region, f"cus_Load{run_id}", event_queue_url, accepted))
        lines += [f"  {'ok  ' if held else 'FAIL'} {what:<48} {figures}" for what, held, figures in results]
        print("\n" + "\n".join(lines), flush=True)
    written_to = RESULTS if args.target == "handler" else RESULTS.with_name(f"load-{args.target}.md")
    written_to.parent.mkdir(parents=True, exist_ok=True)
    written_to.write_text("```\n" + "\n".join(lines) + "\n```\n")
    print(f"written to {written_to.relative_to(ROOT)}")
    return 0 if all(held for _, held, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
