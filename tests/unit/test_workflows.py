"""The committed workflows are what `make workflows` writes, and they follow the stack graph and the pipeline's rules:
every stack once per environment, `needs` = its producers, prod after dev, pinned actions, least permissions,
concurrency groups named after the state objects, no secrets and no expressions inside scripts."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import load_settings
from ops.build import docs
from ops.core.paths import VENV_BIN
from ops.pipeline import environments, render
from ops.pipeline.actions import PINS
from shared.naming import state_key
from shared.pipeline import DEPLOY_ROLE_VARIABLE, account_id_variable, plan_role_variable
from shared.rollout_engine import ENGINES
from shared.stack_id import StackId
from tests.support import Synth

WORKFLOW_FILES = ("pull-request.yml", "deploy.yml", "rollout.yml", "failover.yml", "rollback.yml", "drift.yml")
PINNED = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")


@pytest.fixture(scope="module")
def dependencies(local_dev: Synth) -> dict[str, list[str]]:
    deps = docs.read_dependencies(local_dev.outdir / "manifest.json")
    assert len(deps) == 8
    return deps


@pytest.fixture(scope="module")
def envs() -> list[environments.Environment]:
    found = environments.in_deploy_order()
    assert [env.name for env in found] == ["dev", "prod"]
    return found


@pytest.fixture(scope="module")
def workflows(project_root: Path) -> dict[str, dict[str, Any]]:
    directory = project_root / render.WORKFLOWS_DIR
    loaded = {name: yaml.safe_load((directory / name).read_text()) for name in WORKFLOW_FILES}
    assert all(isinstance(doc, dict) and doc["jobs"] for doc in loaded.values())
    return loaded


def all_jobs(workflows: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, doc in workflows.items():
        for job_id, job in doc["jobs"].items():
            yield name, job_id, job


def test_the_committed_files_are_what_make_workflows_writes(
    project_root: Path, dependencies: dict[str, list[str]], envs: list[environments.Environment]
) -> None:
    files = render.rendered(project_root, dependencies, envs)
    assert len(files) == len(WORKFLOW_FILES) + 1  # and docs/pipeline.md's job graph
    differ = [str(path.relative_to(project_root)) for path in render.stale(files, write=False)]
    assert differ == [], f"run `make workflows` and commit the result: {differ} differ from what it writes"
    assert render.extra_workflows(project_root, files) == []


def test_rendering_twice_gives_the_same_bytes(
    project_root: Path, dependencies: dict[str, list[str]], envs: list[environments.Environment]
) -> None:
    assert render.rendered(project_root, dependencies, envs) == render.rendered(project_root, dependencies, envs)


def test_every_file_says_it_is_generated(project_root: Path) -> None:
    for name in WORKFLOW_FILES:
        assert (project_root / render.WORKFLOWS_DIR / name).read_text().startswith(render.HEADER)


# -- the deploy job graph -------------------------------------------------------------------------------------------


def _closure(jobs: dict[str, dict[str, Any]], job_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(jobs[job_id].get("needs", []))
    while todo:
        need = todo.pop()
        if need not in seen:
            seen.add(need)
            todo += jobs[need].get("needs", [])
    return seen


def test_every_stack_is_deployed_once_per_environment(
    workflows: dict[str, dict[str, Any]], dependencies: dict[str, list[str]]
) -> None:
    jobs = workflows["deploy.yml"]["jobs"]
    assert len(jobs) == 16
    for env in ("dev", "prod"):
        deployed = sorted(job["name"].removeprefix(f"{env} ") for job in jobs.values() if job["environment"] == env)
        assert deployed == sorted(dependencies)
        for stack in dependencies:
            run = jobs[f"{env}-{stack}"]["steps"]
            applies = [step for step in run if "ops apply" in step.get("run", "")]
            assert len(applies) == 1
            assert f".venv/bin/python -m ops apply {stack} --json > apply.json" in applies[0]["run"]


def test_needs_are_the_producers_and_prod_waits_for_all_of_dev(
    workflows: dict[str, dict[str, Any]], dependencies: dict[str, list[str]]
) -> None:
    jobs = workflows["deploy.yml"]["jobs"]
    roots = [stack for stack, deps in dependencies.items() if not deps]
    assert roots == ["network-primary"]
    producers = {dep for deps in dependencies.values() for dep in deps}
    dev_last = sorted(f"dev-{stack}" for stack in dependencies if stack not in producers)
    assert dev_last == ["dev-dns-secondary"]
    checked = 0
    for stack, deps in dependencies.items():
        assert sorted(jobs[f"dev-{stack}"].get("needs", [])) == sorted(f"dev-{dep}" for dep in deps)
        expected_prod = sorted(f"prod-{dep}" for dep in deps) if deps else dev_last
        assert sorted(jobs[f"prod-{stack}"].get("needs", [])) == expected_prod
        assert {f"dev-{name}" for name in dependencies} <= _closure(jobs, f"prod-{stack}")
        checked += 1
    assert checked == 8


def _wave(jobs: dict[str, dict[str, Any]], job_id: str) -> int:
    needs = jobs[job_id].get("needs", [])
    return 1 + max((_wave(jobs, need) for need in needs), default=-1)


def test_waves_follow_the_layers_and_put_the_primary_before_the_secondary(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["deploy.yml"]["jobs"]
    compared = 0
    for env in ("dev", "prod"):
        for layer in ("network", "data", "compute", "dns"):
            assert _wave(jobs, f"{env}-{layer}-primary") < _wave(jobs, f"{env}-{layer}-secondary")
            compared += 1
        for role in ("primary", "secondary"):
            waves = [_wave(jobs, f"{env}-{layer}-{role}") for layer in ("network", "data", "compute", "dns")]
            assert waves == sorted(waves)
            assert len(set(waves)) == 4
    assert compared == 8
    # independent stacks run in parallel: data-primary and network-secondary need only network-primary
    assert _wave(jobs, "dev-data-primary") == _wave(jobs, "dev-network-secondary") == 1


def test_concurrency_groups_are_the_state_objects(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["deploy.yml"]["jobs"]
    checked = 0
    for job_id, job in jobs.items():
        env, _, stack = job_id.partition("-")
        settings = load_settings(env, environ={}, dotenv_path=None)
        assert job["concurrency"] == {
            "group": f"{settings.state_bucket}/{state_key(settings, stack)}",
            "cancel-in-progress": False,
        }
        checked += 1
    assert checked == 16
    assert jobs["dev-network-primary"]["concurrency"]["group"] == "payments-dev-tfstate/dev/network-primary.tfstate"
    rollback = workflows["rollback.yml"]["jobs"]["rollback-prod"]["concurrency"]
    assert rollback["group"] == "payments-prod-tfstate/prod/${{ inputs.stack }}.tfstate"


def test_compute_stacks_run_the_ledger_migrations_after_their_apply(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["deploy.yml"]["jobs"]
    migrating = sorted(
        job_id for job_id, job in jobs.items() if any("db-migrate" in s.get("run", "") for s in job["steps"])
    )
    assert migrating == [
        "dev-compute-primary",
        "dev-compute-secondary",
        "prod-compute-primary",
        "prod-compute-secondary",
    ]
    for job_id in migrating:
        names = [step["name"] for step in jobs[job_id]["steps"]]
        assert names.index("ledger migrations") == names.index(f"apply {job_id.partition('-')[2]}") + 1


# -- actions, permissions, credentials ------------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_known_commit_with_its_release(
    workflows: dict[str, dict[str, Any]], project_root: Path
) -> None:
    known = {pin.uses: pin.tag for pin in PINS}
    uses = [step["uses"] for _, _, job in all_jobs(workflows) for step in job["steps"] if "uses" in step]
    assert len(uses) >= 60
    for use in uses:
        assert PINNED.match(use), use
        assert use in known, f"{use} is not one of ops.pipeline.actions.PINS"
    for name in WORKFLOW_FILES:
        for line in (project_root / render.WORKFLOWS_DIR / name).read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_top_level_permissions_are_empty_and_every_job_has_its_own(workflows: dict[str, dict[str, Any]]) -> None:
    assert all(doc["permissions"] == {} for doc in workflows.values())
    counted = 0
    for name, job_id, job in all_jobs(workflows):
        permissions = job["permissions"]
        uses = [step.get("uses", "") for step in job["steps"]]
        expected = {"contents": "read"}
        if any(use.startswith("aws-actions/configure-aws-credentials@") for use in uses):
            expected["id-token"] = "write"
        if any(use.startswith("marocchino/sticky-pull-request-comment@") for use in uses):
            expected["pull-requests"] = "write"
        assert permissions == expected, f"{name} {job_id}"
        counted += 1
    assert counted == 16 + 4 + 2 + 2 + 2 + 2


def test_deploy_jobs_use_the_environment_role_and_plans_the_read_only_one(workflows: dict[str, dict[str, Any]]) -> None:
    seen = 0
    for name, job_id, job in all_jobs(workflows):
        login = [step for step in job["steps"] if step.get("uses", "").startswith("aws-actions/configure-aws-")]
        if not login:
            assert "environment" not in job
            continue
        seen += 1
        env = job["env"]["PAYMENTS_ENV"]
        role = login[0]["with"]["role-to-assume"]
        assert job["env"]["PAYMENTS_TARGET"] == "aws"
        assert job["env"]["PAYMENTS_AWS_ACCOUNT_ID"] == f"${{{{ vars.{account_id_variable(env)} }}}}"
        if name in ("pull-request.yml", "drift.yml"):
            assert "environment" not in job, job_id  # a plan must not wait for reviewers
            assert role == f"${{{{ vars.{plan_role_variable(env)} }}}}"
        else:
            assert job["environment"] == env, job_id
            assert role == f"${{{{ vars.{DEPLOY_ROLE_VARIABLE} }}}}"
        assert re.fullmatch(
            r"[\w-]+-\$\{\{ github.run_id \}\}-\$\{\{ github.run_attempt \}\}", login[0]["with"]["role-session-name"]
        )
    assert seen == 16 + 2 + 2 + 2 + 2 + 2


def test_no_secrets_no_expressions_in_scripts_no_persisted_token(
    workflows: dict[str, dict[str, Any]], project_root: Path
) -> None:
    for name in WORKFLOW_FILES:
        assert "secrets." not in (project_root / render.WORKFLOWS_DIR / name).read_text()
    scripts = checkouts = 0
    for _, _, job in all_jobs(workflows):
        for step in job["steps"]:
            if "run" in step:
                assert "${{" not in step["run"], step["run"]
                scripts += 1
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
                checkouts += 1
    assert scripts >= 40
    assert checkouts == 16 + 4 + 2 + 2 + 2 + 2


# -- triggers and dispatch inputs -----------------------------------------------------------------------------------


def _on(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("on", doc.get(True))  # type: ignore[call-overload,no-any-return]  # YAML 1.1 reads `on` as true


def test_triggers(workflows: dict[str, dict[str, Any]]) -> None:
    assert _on(workflows["pull-request.yml"]) == {"pull_request": {"branches": ["main"]}}
    assert _on(workflows["deploy.yml"])["push"]["branches"] == ["main"]
    assert set(_on(workflows["drift.yml"])) == {"schedule", "workflow_dispatch"}
    for name in ("rollout.yml", "failover.yml", "rollback.yml"):
        inputs = _on(workflows[name])["workflow_dispatch"]["inputs"]
        assert inputs["environment"]["type"] == "choice"
        assert inputs["environment"]["options"] == ["dev", "prod"]


def test_dispatch_inputs_are_typed_from_the_code(
    workflows: dict[str, dict[str, Any]], dependencies: dict[str, list[str]]
) -> None:
    rollout = _on(workflows["rollout.yml"])["workflow_dispatch"]["inputs"]
    assert rollout["engine"]["options"] == list(ENGINES)
    assert rollout["engine"]["default"] == "stepfunctions"
    assert rollout["hold"]["type"] == "boolean"
    stacks = _on(workflows["rollback.yml"])["workflow_dispatch"]["inputs"]["stack"]["options"]
    assert sorted(stacks) == sorted(dependencies)
    assert len(stacks) == 8
    assert [StackId.parse(s).rank for s in stacks] == sorted(StackId.parse(s).rank for s in stacks)


def test_each_operation_job_runs_only_for_its_environment(workflows: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for name in ("rollout.yml", "failover.yml", "rollback.yml"):
        for job in workflows[name]["jobs"].values():
            assert job["if"] == f"${{{{ inputs.environment == '{job['environment']}' }}}}"
            assert job["concurrency"]["cancel-in-progress"] is False
            checked += 1
    assert checked == 6
    assert workflows["rollout.yml"]["jobs"]["rollout-dev"]["concurrency"]["group"] == "payments-dev-traffic"
    assert workflows["failover.yml"]["jobs"]["switch-prod"]["concurrency"]["group"] == "payments-prod-traffic"


def test_the_plan_jobs_publish_the_report_as_artifact_and_sticky_comment(workflows: dict[str, dict[str, Any]]) -> None:
    jobs = workflows["pull-request.yml"]["jobs"]
    assert set(jobs) == {"fast-lane", "affected", "plan-dev", "plan-prod"}
    assert any(step.get("run") == "make test-fast" for step in jobs["fast-lane"]["steps"])
    for env in ("dev", "prod"):
        job = jobs[f"plan-{env}"]
        assert job["needs"] == "affected"
        assert f"contains(fromJSON(needs.affected.outputs.environments), '{env}')" in job["if"]
        steps = {step["name"]: step for step in job["steps"]}
        assert steps["plan report"]["run"] == "make plan-report"
        assert steps["artifact"]["with"]["path"].split() == ["plan-report.md", "plan-report.json"]
        assert steps["pull request comment"]["with"] == {"header": f"plan-report-{env}", "path": "plan-report.md"}


# -- the linters ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["actionlint"], ["zizmor", "--offline", "--persona=auditor", "--no-progress"]],
    ids=["actionlint", "zizmor"],
)
def test_the_linters_find_nothing(command: list[str], project_root: Path) -> None:
    """What `make lint` runs over the generated files; both tools are pinned in requirements-dev.txt."""
    target = [str(project_root / render.WORKFLOWS_DIR / name) for name in WORKFLOW_FILES]
    if command[0] == "zizmor":
        target = [str(project_root / render.WORKFLOWS_DIR)]
    result = subprocess.run(
        [str(VENV_BIN / command[0]), *command[1:], *target], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
