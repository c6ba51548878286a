"""`make smoke N=20`: N payments through the client, as a customer sends them to `https://api.<zone>/v1/payments`.

One line per payment (n, the Idempotency-Key's last characters, status, the region that answered, replayed or new),
then the totals per region and the duplicates: a payment id whose item shows a different `created_at` in either
region's table than the one its answer carried was created twice. Exit 1 on any answer but 201, or a duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass

from config.settings import Role, Settings
from ops.client.api_client import ApiClient, Response
from ops.client.aws import client
from ops.core.console import console
from ops.core.errors import UsageError
from ops.deploy.outputs import layer_outputs
from ops.keys import api_key

REPLAYED_HEADER = "Idempotent-Replayed"
PAYMENT = {"amount": "10.00", "currency": "USD", "customer_id": "cus_Smoke0001", "payment_method": "pm_Card4242"}
KEY_SHOWN = 6  # characters of each Idempotency-Key printed (the API key value is never printed)


@dataclass(frozen=True)
class Sent:
    n: int
    idempotency_key: str
    response: Response

    @property
    def payment(self) -> dict[str, str]:
        answer = self.response.json() if self.response.status == 201 else None
        return answer if isinstance(answer, dict) else {}

    @property
    def replayed(self) -> bool:
        return self.response.header(REPLAYED_HEADER) == "true"

    def line(self) -> str:
        where = f"{self.response.role or '?'} ({self.response.region})"
        entered = self.response.entered or "?"
        status = "replayed" if self.replayed else "new" if self.response.status == 201 else self.response.body[:60]
        return (
            f"{self.n:>4}  ...{self.idempotency_key[-KEY_SHOWN:]}  {entered:<9}  {self.response.status}  "
            f"{where:<24} {status}"
        )


def parse_count(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise UsageError(f"smoke: N={value!r} is invalid: use a whole number of payments >= 1, e.g. N=20")
    return int(value)


def send(api: ApiClient, n: int) -> Sent:
    key = f"smoke-{uuid.uuid4().hex}"
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    return Sent(n, key, api.request("POST", api.url("/payments"), body=json.dumps(PAYMENT), headers=headers))


def duplicates(settings: Settings, answers: list[dict[str, str]], tables: dict[Role, str]) -> list[str]:
    """Payment ids created more than once: the answer's and both tables' `created_at` disagree."""
    found = []
    for answer in (a for a in answers if a.get("payment_id")):
        payment_id = answer["payment_id"]
        created = {answer.get("created_at")}
        for role, table in tables.items():
            stored = client(settings, "dynamodb", settings.regions.of(role)).get_item(
                TableName=table, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True
            )
            if "Item" in stored:
                created.add(stored["Item"].get("created_at", {}).get("S"))
        if len(created) > 1:
            found.append(f"{payment_id}: created at {', '.join(sorted(str(c) for c in created))}")
    return found


def run(settings: Settings, count: int) -> int:
    tables = {role: data["table_name"] for role, data in layer_outputs(settings, "data", "smoke reads both").items()}
    api = ApiClient(settings, api_key.current(settings, "primary"))
    console.say(f"--> {count} payment(s) to {api.url('/payments')} (API key held: not shown)")
    console.say(f"{'n':>4}  {'key':<9}  {'entered':<9}  {'status'}  {'answered by':<24} result")
    sent = []
    for n in range(1, count + 1):
        sent.append(send(api, n))
        console.say(sent[-1].line())
    entered = Counter(s.response.entered or "?" for s in sent)
    by_region = Counter(f"{s.response.role or '?'} ({s.response.region})" for s in sent)
    failed = [s for s in sent if s.response.status != 201]
    doubled = duplicates(settings, [s.payment for s in sent], tables)
    console.say("")
    console.say("entered (DNS's choice): " + ", ".join(f"{role} {entered[role]}" for role in sorted(entered)))
    for where in sorted(by_region):
        console.say(f"answered by {where}: {by_region[where]}")
    console.say(f"201: {count - len(failed)} of {count}; duplicates: {len(doubled)}")
    for line in doubled:
        console.say(f"  duplicate {line}")
    return 1 if failed or doubled else 0
