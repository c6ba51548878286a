"""`make plan-report` on synthetic `terraform show -json` documents: parsing, the planned-outputs state and
override file, the order and decisions of the report (unchanged, planned against planned outputs, waits), and
the two files it writes.

The plan format: https://developer.hashicorp.com/terraform/internals/json-format (actions ["delete", "create"] and
["create", "delete"] are replacements; `after_unknown` marks values known only after apply; `resource_drift`
lists changes made outside Terraform).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from config import load_settings
from ops.core.errors import OpsError
from ops.deploy import plan_render, plan_report
from ops.deploy.plan_inputs import OVERRIDE_FILE, cty_type, override_document, planned_state, private_workdir
from ops.deploy.plan_json import PlanFormatError, parse
from ops.deploy.plan_report import Sources, StackReport, collect, error_line, exit_code
from ops.terraform.runner import TerraformError

REMOTE = "data.terraform_remote_state.cross-stack-reference-input-"


def resource(address: str, *actions: str, before: Any = None, after: Any = None) -> dict[str, Any]:
    return {"address": address, "change": {"actions": list(actions), "before": before, "after": after}}


def output(*actions: str, after: Any = None, unknown: Any = False, sensitive: Any = False) -> dict[str, Any]:
    return {"actions": list(actions), "after": after, "after_unknown": unknown, "after_sensitive": sensitive}


def plan_doc(
    changes: list[dict[str, Any]] | None = None,
    outputs: dict[str, Any] | None = None,
    drift: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "resource_changes": changes or [],
        "output_changes": outputs or {},
        "resource_drift": drift or [],
    }


# -- parsing -------------------------------------------------------------------------------------------------


def test_counts_and_addresses_follow_terraforms_summary() -> None:
    """A replacement counts as one add and one destroy ("N to add, M to change, K to destroy"); no-op and read
    change nothing; both replacement orders are replacements."""
    plan = parse(
        plan_doc(
            [
                resource("aws_vpc.a", "no-op"),
                resource("data.aws_region.r", "read"),
                resource("aws_subnet.new", "create"),
                resource("aws_iam_role.r", "update"),
                resource("aws_sqs_queue.gone", "delete"),
                resource("aws_iam_role_policy.p", "delete", "create"),
                resource("aws_lb.cbd", "create", "delete"),
            ]
        )
    )
    assert (plan.add, plan.change, plan.destroy) == (3, 1, 3)
    assert plan.replaced == ["aws_iam_role_policy.p", "aws_lb.cbd"]
    assert plan.destroyed == ["aws_sqs_queue.gone"]
    assert plan.changed == ["aws_iam_role.r"]
    assert plan.created == ["aws_subnet.new"]
    assert plan.has_changes


def test_drift_lists_changed_attributes_and_ignores_read_back_normalization() -> None:
    """`tags = null` read back as `{}` is no one's change (see ops.deploy.drift); a changed tag is. Drift is what the
    plan puts back: a drifted object the plan leaves alone (a route read back into its table) is not listed."""
    plan = parse(
        plan_doc(
            [
                resource("aws_vpc.v", "update"),
                resource("aws_eip.e", "no-op"),
                resource("aws_sqs_queue.q", "create"),
                resource("aws_kms_key.k", "no-op"),
                resource("aws_route_table.r", "no-op"),
            ],
            drift=[
                resource(
                    "aws_vpc.v", "update", before={"tags": {"Owner": "a"}, "id": "v"}, after={"tags": {}, "id": "v"}
                ),
                resource("aws_eip.e", "update", before={"tags": None}, after={"tags": {}}),
                resource("aws_sqs_queue.q", "delete", before={"id": "q"}),
                resource("aws_kms_key.k", "no-op", before={"id": "k"}, after={"id": "k"}),
                resource("aws_route_table.r", "update", before={"route": []}, after={"route": [{"cidr": "0/0"}]}),
            ],
        )
    )
    assert [(d.address, d.action, d.attributes) for d in plan.drift] == [
        ("aws_vpc.v", "update", ["tags"]),
        ("aws_sqs_queue.q", "delete", []),
    ]
    assert not parse(plan_doc(drift=[resource("aws_vpc.v", "update", before={"tags": {"a": "b"}}, after={})])).drift


def test_outputs_known_unknown_and_sensitive() -> None:
    plan = parse(
        plan_doc(
            outputs={
                "same": output("no-op", after="x"),
                "label": output("update", after="v2"),
                "id": output("update", unknown=True),
                "ids": output("update", after=["a", None], unknown=[False, True]),
                "secret": output("create", after="hush", sensitive=True),
            }
        )
    )
    assert plan.changed_outputs == ["id", "ids", "label", "secret"]
    assert plan.unknown_outputs == ["id", "ids"]
    assert plan.outputs["secret"].sensitive
    assert plan.has_changes  # an output-only plan still changes the state


def test_an_unsupported_format_version_is_refused() -> None:
    """The JSON output format page: reject any input which reports an unsupported major version."""
    with pytest.raises(PlanFormatError, match=r"format_version '2\.0'"):
        parse({"format_version": "2.0"})


# -- the consumer's planned inputs -----------------------------------------------------------------------------


def test_planned_state_overlays_known_values_on_the_current_outputs() -> None:
    current = {
        "terraform_version": "1.11.4",
        "outputs": {
            "keep": {"value": "k", "type": "string"},
            "label": {"value": "v1", "type": "string"},
            "old": {"value": 1, "type": "number"},
            "id": {"value": "i-1", "type": "string"},
        },
    }
    plan = parse(
        plan_doc(
            outputs={
                "label": output("update", after="v2"),
                "old": output("delete"),
                "id": output("update", unknown=True),
                "new": output("create", after={"ids": ["a", 2], "on": True}),
                "secret": output("create", after="hush", sensitive=True),
            }
        )
    )
    state = planned_state(current, plan)
    assert (state["version"], state["terraform_version"], state["resources"]) == (4, "1.11.4", [])
    outputs = state["outputs"]
    assert sorted(outputs) == ["id", "keep", "label", "new", "secret"]
    assert outputs["label"] == {"value": "v2", "type": "string"}
    assert outputs["keep"] == {"value": "k", "type": "string"}
    assert outputs["id"] == {"value": "i-1", "type": "string"}  # unknown: the caller makes its readers wait
    assert outputs["new"]["type"] == ["object", {"ids": ["tuple", ["string", "number"]], "on": "bool"}]
    assert outputs["secret"] == {"value": "hush", "type": "string", "sensitive": True}


def test_planned_state_of_a_never_applied_producer() -> None:
    state = planned_state(None, parse(plan_doc(outputs={"n": output("create", after=3)})))
    assert state["outputs"] == {"n": {"value": 3, "type": "number"}}
    assert state["terraform_version"] == "1.0.0"


def test_cty_types() -> None:
    assert [cty_type(v) for v in ("s", 1, 1.5, False, None)] == ["string", "number", "number", "bool", "dynamic"]


def test_override_replaces_backend_and_config_of_each_producers_remote_state(tmp_path: Path) -> None:
    """Override files replace each argument they set, within the block of the same type and labels
    (https://developer.hashicorp.com/terraform/language/files/override); the local backend reads `config.path`
    (https://developer.hashicorp.com/terraform/language/backend/local)."""
    document = override_document({"network-primary": tmp_path / "n.tfstate", "data-primary": tmp_path / "d.tfstate"})
    blocks = document["data"]["terraform_remote_state"]
    assert list(blocks) == ["cross-stack-reference-input-data-primary", "cross-stack-reference-input-network-primary"]
    assert blocks["cross-stack-reference-input-network-primary"] == {
        "backend": "local",
        "config": {"path": str(tmp_path / "n.tfstate")},
    }
    assert "workspace" not in blocks["cross-stack-reference-input-data-primary"]  # the original's stays


def test_private_workdir_copies_the_stack_and_writes_only_there(tmp_path: Path) -> None:
    original = tmp_path / "cdktf.out" / "stacks" / "compute-primary"
    (original / "assets" / "fn").mkdir(parents=True)
    (original / "assets" / "fn" / "archive.zip").write_bytes(b"zip")
    (original / "cdk.tf.json").write_text('{"x": 1}')
    (original / ".terraform.lock.hcl").write_text("lock")
    (original / "traffic.auto.tfvars.json").write_text("{}")
    (original / ".terraform").mkdir()
    before = sorted(p.relative_to(original) for p in original.rglob("*"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    state = {"version": 4, "outputs": {"vpc_id": {"value": "vpc-2", "type": "string"}}}

    workdir = private_workdir(original, scratch, {"network-primary": state})

    assert sorted(p.relative_to(original) for p in original.rglob("*")) == before
    assert (workdir / "cdk.tf.json").read_text() == '{"x": 1}'
    assert (workdir / ".terraform.lock.hcl").read_text() == "lock"
    assert (workdir / "traffic.auto.tfvars.json").exists()
    assert (workdir / "assets").resolve() == (original / "assets").resolve()
    assert not (workdir / ".terraform").exists()  # shared through TF_DATA_DIR
    override = json.loads((workdir / OVERRIDE_FILE).read_text())
    path = Path(
        override["data"]["terraform_remote_state"]["cross-stack-reference-input-network-primary"]["config"]["path"]
    )
    assert json.loads(path.read_text()) == state
    for written in (path, workdir / OVERRIDE_FILE):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600  # planned outputs may be secrets


# -- the report's decisions ------------------------------------------------------------------------------------

GRAPH = {"net": [], "data": ["net"], "app": ["net", "data"], "dns": ["app"]}
STACKS = ["net", "data", "app", "dns"]


class FakePlatform:
    """Plans from a table; records which stacks were planned and against which planned producer states."""

    def __init__(self, plans: dict[str, dict[str, Any]], unchanged: set[str], reads: dict[tuple[str, str], list[str]]):
        self.plans = plans
        self.unchanged_stacks = unchanged
        self.read_table = reads
        self.planned: dict[str, dict[str, dict[str, Any]]] = {}
        self.states = {s: {"outputs": {"label": {"value": "v1", "type": "string"}}} for s in GRAPH}

    def plan(self, stack: str, scratch: Path, states: dict[str, dict[str, Any]]) -> dict[str, Any]:
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        self.planned[stack] = states
        document = self.plans[stack]
        if "raise" in document:
            raise OpsError(document["raise"])
        return document

    def sources(self) -> Sources:
        return Sources(
            plan=self.plan,
            unchanged=lambda s: s in self.unchanged_stacks,
            current_state=lambda s: self.states[s],
            reads=lambda consumer, producer: self.read_table.get((consumer, producer), []),
        )


def run(platform: FakePlatform) -> dict[str, StackReport]:
    reports = collect(STACKS, GRAPH, platform.sources(), workers=2)
    assert [r.stack for r in reports] == STACKS  # graph order
    return {r.stack: r for r in reports}


READS = {("data", "net"): ["vpc_id"], ("app", "net"): ["vpc_id"], ("app", "data"): ["db_arn"], ("dns", "app"): ["url"]}


def test_unchanged_stacks_are_not_planned_and_a_change_that_no_consumer_reads_plans_one_stack() -> None:
    """A replacement in `net` whose outputs do not change: every other stack is proven unchanged, not planned."""
    net = plan_doc([resource("aws_iam_role_policy.p", "delete", "create")], {"vpc_id": output("no-op", after="vpc-1")})
    platform = FakePlatform({"net": net}, unchanged={"data", "app", "dns"}, reads=READS)
    reports = run(platform)
    assert {s: r.status for s, r in reports.items()} == {
        "net": "changes",
        "data": "unchanged",
        "app": "unchanged",
        "dns": "unchanged",
    }
    assert reports["net"].replace == ["aws_iam_role_policy.p"]
    assert list(platform.planned) == ["net"]


def test_a_known_planned_output_plans_its_readers_against_it() -> None:
    """`net` changes the output `vpc_id` to a value known at plan time: `data` and `app` read it, so both are
    planned (although proven unchanged) against a state holding the planned value."""
    net = plan_doc([resource("aws_vpc.v", "update")], {"vpc_id": output("update", after="vpc-2")})
    data = plan_doc([resource("aws_db_subnet_group.g", "delete", "create")], {"db_arn": output("no-op", after="a")})
    app = plan_doc([resource("aws_lambda_function.f", "update")], {"url": output("no-op", after="u")})
    platform = FakePlatform({"net": net, "data": data, "app": app}, unchanged={"data", "app", "dns"}, reads=READS)
    reports = run(platform)
    assert {s: r.status for s, r in reports.items()} == {
        "net": "changes",
        "data": "changes",
        "app": "changes",
        "dns": "unchanged",
    }
    assert reports["data"].replace == ["aws_db_subnet_group.g"]
    assert set(platform.planned["data"]) == {"net"}
    assert platform.planned["data"]["net"]["outputs"]["vpc_id"] == {"value": "vpc-2", "type": "string"}
    assert set(platform.planned["app"]) == {"net"}  # data's outputs do not change: read from its state as is
    assert "dns" not in platform.planned


def test_an_unknown_output_makes_its_readers_wait_transitively_and_is_never_an_error() -> None:
    """`net` replaces the VPC: `vpc_id` is known only after apply. `data` and `app` read it: they wait (not
    planned); `dns` reads `app`, which waits: it waits too. The report's exit code is 0."""
    net = plan_doc(
        [resource("aws_vpc.v", "delete", "create")],
        {"vpc_id": output("update", unknown=True), "label": output("update", after="v2")},
    )
    platform = FakePlatform({"net": net}, unchanged=set(), reads=READS)
    reports = run(platform)
    assert {s: r.status for s, r in reports.items()} == {
        "net": "changes",
        "data": "waits",
        "app": "waits",
        "dns": "waits",
    }
    assert reports["data"].waits_on == {"net": ["vpc_id"]}
    assert reports["app"].waits_on == {"net": ["vpc_id"], "data": ["db_arn"]}
    assert reports["dns"].waits_on == {"app": ["url"]}
    assert list(platform.planned) == ["net"]
    assert exit_code(list(reports.values())) == 0


def test_a_failed_plan_is_an_error_row_with_its_first_line_and_exit_code_1() -> None:
    """The plan of `net` fails: what reads it cannot be planned (its outputs are not known), so it waits."""
    platform = FakePlatform({"net": {"raise": "net: terraform plan failed\nmore"}}, unchanged=set(), reads=READS)
    reports = run(platform)
    assert (reports["net"].status, reports["net"].error) == ("error", "net: terraform plan failed")
    assert {s: r.status for s, r in reports.items() if s != "net"} == {"data": "waits", "app": "waits", "dns": "waits"}
    assert exit_code(list(reports.values())) == 1


def test_a_never_initialized_consumer_is_initialized_before_its_private_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone: the consumer's directory has no lock file until its first `terraform init`, and a plan in a
    copy without it fails ("Inconsistent dependency lock file": tried with the AWS provider, Terraform 1.11). So
    the report initializes the original before copying it."""
    stacks = tmp_path / "stacks"
    (stacks / "app").mkdir(parents=True)
    (stacks / "app" / "cdk.tf.json").write_text("{}")
    seen: list[bool] = []

    class Terraform:
        def __init__(self, stack: str, _settings: Any, _out: Any) -> None:
            self.dir = stacks / stack

        def init(self) -> None:
            (self.dir / ".terraform.lock.hcl").write_text("lock")  # what a first init writes

        def plan_document(self, _plan_file: Path, *, workdir: Path | None = None) -> dict[str, Any]:
            assert workdir is not None
            seen.append((workdir / ".terraform.lock.hcl").is_file())
            return plan_doc()

    monkeypatch.setattr(plan_report, "StackTerraform", Terraform)
    monkeypatch.setattr(plan_report, "stack_dir", lambda stack: stacks / stack)
    monkeypatch.setattr(plan_report.traffic_split, "write_stack_tfvars", lambda _settings, _stack: None)
    settings = load_settings(environ={"PAYMENTS_DOTENV": "none"})
    sources = plan_report.real_sources(settings, lambda _settings, _stack: None)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    sources.plan("app", scratch, {"net": {"version": 4, "outputs": {}}})
    assert seen == [True]


def test_a_terraform_error_row_names_terraforms_own_error() -> None:
    output = "Planning...\n╷\n│ Error: Unsupported attribute\n│\n│   on cdk.tf.json line 9\n╵\n"
    assert (
        error_line(TerraformError("app", "plan", output)) == "app: terraform plan failed: Error: Unsupported attribute"
    )
    assert error_line(OpsError("secret x has no API key yet\nmore")) == "secret x has no API key yet"


# -- the files -----------------------------------------------------------------------------------------------


def test_the_report_files_flag_replacements_destroys_and_list_drift_apart(tmp_path: Path) -> None:
    net = plan_doc(
        [
            resource("aws_iam_role_policy.p", "delete", "create"),
            resource("aws_sqs_queue.q", "delete"),
            resource("aws_vpc.v", "update"),  # puts the drifted tag back
        ],
        {"vpc_id": output("update", unknown=True), "secret": output("update", after="hush", sensitive=True)},
        drift=[resource("aws_vpc.v", "update", before={"tags": {"Owner": "a"}}, after={"tags": {"Owner": "b"}})],
    )
    reports = list(run(FakePlatform({"net": net}, unchanged={"dns"}, reads=READS)).values())
    md_path, json_path = plan_render.write(tmp_path / "out", "dev", "local", reports)

    document = json.loads(json_path.read_text())
    rows = {row["stack"]: row for row in document["stacks"]}
    assert len(rows) == 4
    assert (document["environment"], document["target"], document["exit_code"]) == ("dev", "local", 0)
    assert rows["net"]["replace"] == ["aws_iam_role_policy.p"]
    assert rows["net"]["destroyed"] == ["aws_sqs_queue.q"]
    assert (rows["net"]["add"], rows["net"]["change"], rows["net"]["destroy"]) == (1, 1, 2)
    assert rows["net"]["drift"] == [{"address": "aws_vpc.v", "action": "update", "attributes": ["tags"]}]
    assert rows["data"]["waits_on"] == {"net": ["vpc_id"]}
    expected_keys = {"stack", "status", "add", "change", "destroy", "replace", "destroyed", "changed", "drift"}
    assert expected_keys | {"waits_on", "seconds"} <= set(rows["net"])

    markdown = md_path.read_text()
    assert "| net | changes | 1 | 1 | 2 | `aws_iam_role_policy.p` | 1 |" in markdown
    assert "- **REPLACE** `aws_iam_role_policy.p`" in markdown
    assert "- **DESTROY** `aws_sqs_queue.q`" in markdown
    assert "waits on **net**: `vpc_id`" in markdown
    assert "<details><summary>1 to update, 0 to create, 2 outputs</summary>" in markdown
    assert "- outputs that change: `secret`, `vpc_id`" in markdown  # names only
    drift_section = markdown.split("### Drift: changed outside Terraform")[1]
    assert "- net: `aws_vpc.v`: tags" in drift_section
    for text in (markdown, json_path.read_text()):
        assert "hush" not in text  # output values never reach the report
    assert (
        markdown.index("| net |") < markdown.index("| data |") < markdown.index("| app |") < markdown.index("| dns |")
    )
