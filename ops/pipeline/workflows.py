"""The GitHub Actions workflows, as data: built from the stack graph and the environments' configuration.

Values that come from a user (workflow_dispatch inputs, the pull request) reach a `run:` script only through
`env:`, never as a `${{ }}` expression inside the script (zizmor's template-injection audit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ops.pipeline import jobs as deploy_graph
from ops.pipeline.actions import STICKY_COMMENT, UPLOAD_ARTIFACT
from ops.pipeline.affected import documentation_globs
from ops.pipeline.environments import Environment, expression
from ops.pipeline.steps import (
    OIDC,
    OPS,
    READ,
    Job,
    Step,
    aws_env,
    checkout,
    credentials,
    install,
    job,
    script,
    setup_python,
    setup_terraform,
    toolchain,
)
from shared.pipeline import MAIN_BRANCH
from shared.rollout_engine import ENGINES, default_engine
from shared.stack_id import StackId

Workflow = dict[str, Any]
DRIFT_SCHEDULE = "17 4 * * *"  # nightly, off the hour (scheduled runs at :00 are the most delayed)
# The roles' sessions last one hour (their maximum) from the sign-in step, which follows the install: a job still
# running after that has lost its credentials anyway.
APPLY_MINUTES = 75


def _summary(json_file: str, title: str) -> str:
    return f'{OPS} pipeline-summary {json_file} --title "{title}" >> "$GITHUB_STEP_SUMMARY"'


# -- pull request -------------------------------------------------------------------------------------------------


def fast_lane() -> Job:
    postgres = script(
        "# the local target's stand-in for Aurora is PostgreSQL 15: from the PostgreSQL project's apt repository",
        "sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y",
        "sudo apt-get install -y -q postgresql-15",
    )
    steps = [
        checkout(),
        setup_python(),
        setup_terraform(),
        {"name": "postgresql 15", "run": postgres},
        {"name": "lint, types, checkov, unit tests, terraform validate", "run": "make test-fast"},
    ]
    return job("fast lane", READ, steps, **{"timeout-minutes": 60})


def affected() -> Job:
    run = script(f'echo "environments=$({OPS} pipeline-affected --base "$BASE_SHA")" >> "$GITHUB_OUTPUT"')
    steps = [
        checkout(history=True),
        setup_python(),
        install(),
        {
            "id": "affected",
            "name": "environments this change can affect",
            "env": {"BASE_SHA": expression("github.event.pull_request.base.sha")},
            "run": run,
        },
    ]
    outputs = {"environments": expression("steps.affected.outputs.environments")}
    return job("affected environments", READ, steps, outputs=outputs, **{"timeout-minutes": 15})


def plan(env: Environment) -> Job:
    """The plan report of one environment with its read-only role, as an artifact and a sticky comment. Not for
    pull requests from forks: GitHub gives them no OIDC token and no variables."""
    always = "${{ !cancelled() }}"
    steps = [
        *toolchain(),
        credentials(env, deploy=False, session=f"plan-{env.name}"),
        {"name": "plan report", "run": "make plan-report"},
        {"name": "job summary", "if": always, "run": script('cat plan-report.md >> "$GITHUB_STEP_SUMMARY"')},
        {
            "name": "artifact",
            "if": always,
            "uses": UPLOAD_ARTIFACT.uses,
            "with": {
                "name": f"plan-report-{env.name}",
                "path": "plan-report.md\nplan-report.json\n",
                "if-no-files-found": "error",
            },
        },
        {
            "name": "pull request comment",
            "if": always,
            "uses": STICKY_COMMENT.uses,
            "with": {"header": f"plan-report-{env.name}", "path": "plan-report.md"},
        },
    ]
    condition = (
        "github.event.pull_request.head.repo.full_name == github.repository && "
        f"contains(fromJSON(needs.affected.outputs.environments), '{env.name}')"
    )
    return job(
        f"plan {env.name}",
        {**OIDC, "pull-requests": "write"},  # the comment
        steps,
        needs="affected",
        **{"if": expression(condition), "timeout-minutes": 60, "env": aws_env(env)},
    )


def pull_request(environments: Sequence[Environment]) -> Workflow:
    jobs: dict[str, Job] = {"fast-lane": fast_lane(), "affected": affected()}
    jobs.update({f"plan-{env.name}": plan(env) for env in environments})
    return {
        "name": "pull request",
        "on": {"pull_request": {"branches": [MAIN_BRANCH]}},
        "permissions": {},
        "concurrency": {  # a new push to the pull request replaces the run of the previous one
            "group": f"pull-request-{expression('github.event.pull_request.number')}",
            "cancel-in-progress": True,
        },
        "jobs": jobs,
    }


# -- deploy ---------------------------------------------------------------------------------------------------------


def stack_job(env: Environment, item: deploy_graph.StackJob) -> Job:
    stack = item.stack
    apply = script(
        "set +e",
        f"{OPS} apply {stack} --json > apply.json",
        "code=$?",
        _summary("apply.json", f"{env.name}: {stack}"),
        'exit "$code"',
    )
    steps: list[Step] = [
        *toolchain(),
        credentials(env, deploy=True, session=f"deploy-{env.name}-{stack}"),
        {"name": f"apply {stack}", "run": apply},
    ]
    if StackId.parse(stack).layer == "compute":  # as `make deploy`: the compute layer owns the ledger's migrations
        steps.append({"name": "ledger migrations", "run": f"{OPS} db-migrate"})
    settings: dict[str, Any] = {"needs": list(item.needs)} if item.needs else {}
    settings |= {
        "environment": env.name,
        "concurrency": {"group": env.state_lock_group(stack), "cancel-in-progress": False},
        "timeout-minutes": APPLY_MINUTES,
        "env": aws_env(env),
    }
    return job(f"{env.name} {stack}", OIDC, steps, **settings)


def deploy(dependencies: Mapping[str, Sequence[str]], environments: Sequence[Environment]) -> Workflow:
    by_name = {env.name: env for env in environments}
    graph = deploy_graph.deploy_jobs(dependencies, [env.name for env in environments])
    return {
        "name": "deploy",
        "on": {"push": {"branches": [MAIN_BRANCH], "paths-ignore": documentation_globs()}},
        "permissions": {},
        "jobs": {item.job_id: stack_job(by_name[item.environment], item) for item in graph},
    }


# -- operations (workflow_dispatch) ---------------------------------------------------------------------------------


def _environment_input(environments: Sequence[Environment]) -> dict[str, Any]:
    names = [env.name for env in environments]
    return {"description": "platform environment", "type": "choice", "options": names, "default": names[0]}


def _operation_job(env: Environment, title: str, group: str, run_step: Step, *, region: str = "") -> Job:
    """One environment's job of a dispatched operation, bound to its GitHub Environment: runs only when that
    environment was chosen."""
    login = credentials(env, deploy=True, session=f"{title}-{env.name}", region=region)
    steps = [*toolchain(), login, run_step]
    settings = {
        "if": expression(f"inputs.environment == '{env.name}'"),
        "environment": env.name,
        "concurrency": {"group": group, "cancel-in-progress": False},
        "timeout-minutes": APPLY_MINUTES,
        "env": aws_env(env),
    }
    return job(f"{title} {env.name}", OIDC, steps, **settings)


def _dispatch(name: str, inputs: dict[str, Any], jobs: dict[str, Job]) -> Workflow:
    return {"name": name, "on": {"workflow_dispatch": {"inputs": inputs}}, "permissions": {}, "jobs": jobs}


def rollout(environments: Sequence[Environment]) -> Workflow:
    inputs = {
        "environment": _environment_input(environments),
        "to": {"description": "region to shift traffic to", "type": "choice", "options": ["secondary", "primary"]},
        "steps": {"description": "percents for the region, e.g. 10,25,50,100 (empty: the default)", "type": "string"},
        "bake": {"description": "seconds to watch each step (empty: the default)", "type": "string"},
        "hold": {"description": "the steps may end below 100 and the split stays there", "type": "boolean"},
        "engine": {
            "description": "stepfunctions: the state machine shifts traffic (survives this job); local: this job does",
            "type": "choice",
            "options": list(ENGINES),
            "default": default_engine(replace(environments[0].settings, target="aws")),
        },
    }
    run = script(f'{OPS} rollout --to "$TO" --steps "$STEPS" --bake "$BAKE" --hold "$HOLD" --engine "$ENGINE"')
    step = {
        "name": "rollout",
        "env": {
            "TO": expression("inputs.to"),
            "STEPS": expression("inputs.steps"),
            "BAKE": expression("inputs.bake"),
            "HOLD": expression("inputs.hold && 'yes' || ''"),
            "ENGINE": expression("inputs.engine"),
        },
        "run": run,
    }
    jobs = {f"rollout-{env.name}": _operation_job(env, "rollout", env.traffic_group, step) for env in environments}
    return _dispatch("rollout", inputs, jobs)


def _surviving_region(env: Environment) -> str:
    """The region the job signs in to: the one traffic moves to (the other may be the region that is lost)."""
    regions = env.settings.regions
    return expression(f"inputs.direction == 'failback' && '{regions.primary}' || '{regions.secondary}'")


def failover(environments: Sequence[Environment]) -> Workflow:
    inputs = {
        "environment": _environment_input(environments),
        "direction": {
            "description": "failover: to the secondary region; failback: to the primary",
            "type": "choice",
            "options": ["failover", "failback"],
        },
        "unplanned": {"description": "the other region is lost: global failover, may lose data", "type": "boolean"},
        "bake": {"description": "seconds to watch the traffic switch (empty: the default)", "type": "string"},
    }
    run = script(
        'case "$DIRECTION" in failover | failback) ;; *) echo "unknown direction: $DIRECTION" >&2; exit 2 ;; esac',
        f'{OPS} "$DIRECTION" --bake "$BAKE" --unplanned "$UNPLANNED"',
    )
    step = {
        "name": "switch regions",
        "env": {
            "DIRECTION": expression("inputs.direction"),
            "UNPLANNED": expression("inputs.unplanned && 'yes' || ''"),
            "BAKE": expression("inputs.bake"),
        },
        "run": run,
    }
    jobs = {
        f"switch-{env.name}": _operation_job(env, "failover", env.traffic_group, step, region=_surviving_region(env))
        for env in environments
    }
    return _dispatch("failover", inputs, jobs)


def rollback(dependencies: Mapping[str, Sequence[str]], environments: Sequence[Environment]) -> Workflow:
    inputs = {
        "environment": _environment_input(environments),
        "stack": {
            "description": "the stack to roll back",
            "type": "choice",
            "options": deploy_graph.ordered_stacks(dependencies),
        },
        "release": {"description": "release number (empty: the previous release)", "type": "string"},
    }
    run = script(
        "set +e",
        f'{OPS} rollback "$STACK" --release "$RELEASE" --confirm yes',
        "code=$?",
        'echo "rolled back $STACK: exit $code" >> "$GITHUB_STEP_SUMMARY"',
        'exit "$code"',
    )
    step = {
        "name": "rollback",
        "env": {"STACK": expression("inputs.stack"), "RELEASE": expression("inputs.release")},
        "run": run,
    }
    jobs = {
        # the same group as the deploy job of that stack: a rollback waits for a running apply, never its lock
        f"rollback-{env.name}": _operation_job(env, "rollback", env.state_lock_group(expression("inputs.stack")), step)
        for env in environments
    }
    return _dispatch("rollback", inputs, jobs)


def drift_job(env: Environment) -> Job:
    run = script(
        "set +e",
        f"{OPS} drift --json > drift.json",
        "code=$?",
        _summary("drift.json", f"drift: {env.name}"),
        'exit "$code"',
    )
    steps = [
        *toolchain(),
        credentials(env, deploy=False, session=f"drift-{env.name}"),
        {"name": "drift", "run": run},  # its plans take no state lock: the plan role cannot write the lock table
    ]
    return job(f"drift {env.name}", OIDC, steps, **{"timeout-minutes": 60, "env": aws_env(env)})


def drift(environments: Sequence[Environment]) -> Workflow:
    return {
        "name": "drift",
        "on": {"schedule": [{"cron": DRIFT_SCHEDULE}], "workflow_dispatch": {}},
        "permissions": {},
        "concurrency": {"group": "drift", "cancel-in-progress": False},
        "jobs": {f"drift-{env.name}": drift_job(env) for env in environments},
    }


def all_workflows(
    dependencies: Mapping[str, Sequence[str]], environments: Sequence[Environment]
) -> dict[str, Workflow]:
    """File name -> workflow."""
    return {
        "pull-request.yml": pull_request(environments),
        "deploy.yml": deploy(dependencies, environments),
        "rollout.yml": rollout(environments),
        "failover.yml": failover(environments),
        "rollback.yml": rollback(dependencies, environments),
        "drift.yml": drift(environments),
    }
