"""`python -m ops <command>`: what the Makefile targets call. The one place that decides exit codes."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from config import ConfigError, load_settings
from config.settings import ROLES, Role
from ops.build import docs, graph, security
from ops.build.synth import synth
from ops.client import smoke
from ops.core import interrupt
from ops.core.aws_clients import client
from ops.core.confirm import confirmed, validate_confirm
from ops.core.console import console
from ops.core.errors import OpsError, UsageError
from ops.core.paths import ROOT
from ops.core.tool_env import shell_exports
from ops.deploy import drift, engine, outputs, plan_render, plan_report, preflight, releases, rollback, stand_in
from ops.drill import private as drill_private
from ops.drill import run as drill
from ops.keys import api_key
from ops.ledger import migrations as ledger_migrations
from ops.ledger import reconcile
from ops.ledger import status as ledger_status
from ops.local import outage
from ops.local import target as local_target
from ops.local.fault_proxy import MODES
from ops.pipeline import affected as pipeline_affected
from ops.pipeline import environments as pipeline_environments
from ops.pipeline import render as pipeline_render
from ops.pipeline import summary as pipeline_summary
from ops.state import admin, serial_status, store, traffic_split
from ops.state.bootstrap import bootstrap_lines
from ops.state.home import with_home
from ops.terraform.cli_config import write_cli_config
from ops.terraform.runner import StackTerraform, TerraformError
from ops.terraform.unlock import unlock
from ops.traffic import failover, rejoin, rollout, sfn_rollout, write_home
from ops.traffic import runbook as migration_runbook
from shared.local_target import clean_up_after_destroy
from shared.rollout_engine import default_engine
from shared.runbook import Facts, render
from shared.stack_id import StackId, UnknownStackError

REGION_CHOICES: dict[str, tuple[Role, ...]] = {**{role: (role,) for role in ROLES}, "all": ROLES}


def cmd_tfconfig(_: argparse.Namespace) -> int:
    console.say(f"terraform CLI config: {write_cli_config()}")
    return 0


def cmd_shell_env(_: argparse.Namespace) -> int:
    console.say(shell_exports(), end="")
    return 0


def cmd_check_config(_: argparse.Namespace) -> int:
    settings = load_settings()
    console.say(
        f"configuration ok: environment {settings.environment}, target {settings.target}, "
        f"{settings.regions.primary} -> {settings.regions.secondary}"
    )
    return 0


def cmd_local_up(_: argparse.Namespace) -> int:
    settings = load_settings()
    for line in local_target.up(settings):
        console.say(line)
    for line in bootstrap_lines(settings):
        console.say(line)
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.is_local:
        return cmd_local_up(args)  # the emulator first: bootstrap converges the same things on both targets
    for line in bootstrap_lines(settings):
        console.say(line)
    return 0


def cmd_preflight(_: argparse.Namespace) -> int:
    return preflight.run(load_settings())


def cmd_local_down(_: argparse.Namespace) -> int:
    for line in local_target.down(load_settings()):
        console.say(line)
    return 0


def cmd_stand_in(args: argparse.Namespace) -> int:
    for line in stand_in.command(load_settings(), args.action):
        console.say(line)
    return 0


def cmd_outage(args: argparse.Namespace) -> int:
    run = outage.command(args.region, args.mode, clearing=args.clear, showing=args.status)
    for line in run(load_settings()):
        console.say(line)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    settings = load_settings()
    ran = synth(settings, force=args.force)
    console.say("synthesized all stacks" if ran else "synthesized output is current (no source change)")
    return 0


def cmd_stacks(args: argparse.Namespace) -> int:
    settings = load_settings()
    synth(settings)
    deps = graph.dependencies()
    stacks = graph.stacks_of(ROLES)
    if args.json:
        console.json({"stacks": [{"name": stack, "depends_on": deps[stack]} for stack in stacks]})
        return 0
    for stack in stacks:
        console.say(f"{stack:<20} depends on: {', '.join(deps[stack]) or '-'}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    stale, documents = docs.stale_documents(write=not args.check)
    for path in stale:
        console.say(f"{'stale' if args.check else 'wrote'} {path.relative_to(ROOT)}")
    if not stale:
        console.say(f"docs are current ({documents} documents, {len(docs.GENERATORS)} generated tables)")
    return 1 if args.check and stale else 0


def cmd_diff(args: argparse.Namespace) -> int:
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings)
    traffic_split.write_stack_tfvars(settings, stack)  # DNS stacks plan with the persisted traffic split
    api_key.check_ready(settings, stack)  # a diff writes nothing: the first key is written by a deploy
    if not args.refresh and engine.is_unchanged(settings, stack):
        console.say(engine.UNCHANGED_DIFF.format(stack=stack))
        return 0
    code, _ = StackTerraform(stack, settings).plan(stream=lambda line: console.say(line, end=""))
    return 0 if code == 0 or not args.detailed_exitcode else code


def _summary(args: argparse.Namespace, results: list[engine.StackResult]) -> int:
    if args.json:
        console.json(engine.summary_json(results))
    return engine.exit_code(results)


def cmd_deploy(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings)
    if not settings.is_local and preflight.run(settings) != 0:
        console.error("deploy: stopped before any change, a preflight check failed (see the FAIL lines above)")
        return 1
    stacks = graph.stacks_of(REGION_CHOICES[args.region])
    results = engine.run_stacks(settings, stacks, force=args.force)
    if engine.exit_code(results) == 0 and any(StackId.parse(stack).layer == "compute" for stack in stacks):
        console.say(f"--> {ledger_migrations.migrate(settings)}")  # the compute layer owns the ledger-admin function
    return _summary(args, results)


def cmd_apply(args: argparse.Namespace) -> int:
    settings = load_settings()
    stacks = [graph.require_stack(name) for name in args.stacks]
    settings = engine.prepare(settings)
    return _summary(args, engine.run_stacks(settings, stacks, destroy=args.destroy, force=args.force))


def cmd_destroy(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine.check_destroy_confirmed(settings, args.confirm)
    settings = engine.prepare(settings)
    stacks = list(reversed(graph.stacks_of(REGION_CHOICES[args.region])))
    engine.check_no_dependants_left(settings, stacks)
    results = engine.run_stacks(settings, stacks, destroy=True)
    if engine.exit_code(results) == 0:
        for line in clean_up_after_destroy(settings, lambda service, region: client(settings, service, region)):
            console.say(f"--> {line}")
    return _summary(args, results)


def cmd_rotate_api_key(args: argparse.Namespace) -> int:
    """Add a key (or retire the previous one), then re-apply the deployed compute stacks: their synth is unchanged,
    only the secret they read changed, so they are applied with force."""
    settings = load_settings()
    settings = engine.prepare(settings)
    if args.retire:
        ring, retired = api_key.retire(settings)
        console.say(f"--> retired {', '.join(retired)}" if retired else "--> nothing to retire: one key only")
    else:
        ring = api_key.rotate(settings)
        console.say(f"--> new current key {ring.current}; the previous key stays accepted until RETIRE=yes")
    console.say(f"--> keys: {', '.join(ring.ids)}; current: {ring.current} (values not shown)")
    compute = [stack for stack in graph.stacks_of(ROLES) if StackId.parse(stack).layer == "compute"]
    deployed = [stack for stack in compute if store.managed_resource_count(store.read_state(settings, stack))]
    return _summary(args, engine.run_stacks(settings, deployed, force=True))


def cmd_unlock(args: argparse.Namespace) -> int:
    validate_confirm("unlock", args.confirm, "release the lock")
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings)
    return unlock(settings, stack, args.lock_id, args.confirm)


def cmd_state_versions(args: argparse.Namespace) -> int:
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings, synthesize=False)
    versions = admin.state_versions(settings, stack)
    if args.json:
        console.json({"stack": stack, "versions": [asdict(v) for v in versions]})
        return 0
    console.say(f"{'version id':<40} {'modified':<26} {'serial':>6} {'bytes':>8}")
    for v in versions:
        marker = "  (current)" if v.latest else ""
        console.say(f"{v.version_id:<40} {v.modified:<26} {v.serial!s:>6} {v.size:>8}{marker}")
    return 0


def cmd_state_restore(args: argparse.Namespace) -> int:
    validate_confirm("state-restore", args.confirm, "restore")
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings, synthesize=False)
    return admin.restore(settings, stack, args.version, args.confirm)


def cmd_state_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings)  # synthesized: the stack list comes from the manifest
    rows = serial_status.collect(settings, graph.stacks_of(ROLES))
    if args.json:
        console.json(serial_status.as_json(settings, rows))
    else:
        for line in serial_status.lines(settings, rows):
            console.say(line)
    return 1 if serial_status.in_use_is_stale(settings, rows) else 0


def cmd_drift(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings)
    return drift.report(settings, as_json=args.json)


def cmd_plan_report(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {args.out} is not a directory: give a directory, e.g. REPORT_DIR=reports")
    settings = load_settings()
    settings = engine.prepare(settings)
    stacks = graph.stacks_of(ROLES)
    console.say(f"--> planning {len(stacks)} stacks, {engine.parallelism()} at a time (no state lock taken)")
    sources = plan_report.real_sources(settings, api_key.check_ready)
    reports = plan_report.collect(stacks, graph.dependencies(), sources, workers=engine.parallelism())
    md_path, json_path = plan_render.write(out_dir, settings.environment, settings.target, reports)
    if args.json:
        console.json(plan_render.document(settings.environment, settings.target, reports))
    else:
        console.say("\n" + plan_render.markdown(settings.environment, settings.target, reports))
    console.say(f"--> wrote {md_path} and {json_path}")
    return plan_report.exit_code(reports)


def cmd_security(_: argparse.Namespace) -> int:
    return security.main()


def cmd_outputs(_: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings)
    data = outputs.refresh_outputs(settings)
    console.json(data)
    console.error(f"(written to {outputs.outputs_file(settings)})")
    for line in outputs.sensitive_hints(data):
        console.error(line)
    return 0


def cmd_output(args: argparse.Namespace) -> int:
    console.json_mode = True  # progress to stderr: stdout carries the value alone
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings, synthesize=False)
    value = outputs.reveal(settings, stack, args.name)
    console.value(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
    return 0


# -- traffic, failover and releases (the DNS issue) ------------------------------------------------------------


def cmd_rollout(args: argparse.Namespace) -> int:
    to = rollout.parse_to(args.to)
    steps = rollout.parse_steps(args.steps, hold=rollout.parse_hold(args.hold))
    bake = rollout.parse_bake(args.bake)
    requested = rollout.parse_engine(args.engine)
    settings = load_settings()
    chosen = requested or default_engine(settings)
    if args.dry_run:
        return rollout.dry_run(chosen, to, steps, bake)
    settings = engine.prepare(settings)
    if chosen == "stepfunctions":
        return sfn_rollout.start(settings, to=to, steps=steps, bake_seconds=bake)
    return rollout.run(settings, to=to, steps=steps, bake_seconds=bake)


def cmd_rollout_status(args: argparse.Namespace) -> int:
    return sfn_rollout.status(engine.prepare(load_settings()))


def cmd_rollout_abort(args: argparse.Namespace) -> int:
    what = "stop the running rollout execution"
    validate_confirm("rollout-abort", args.confirm, what)
    settings = engine.prepare(load_settings())
    question = "stop the running rollout execution and revert to its last good split?"
    if not confirmed("rollout-abort", args.confirm, question, what=what):
        return 1
    return sfn_rollout.abort(settings)


def _switch_region(args: argparse.Namespace, command: str) -> int:
    bake = rollout.parse_bake(args.bake, command, failover.DEFAULT_BAKE_SECONDS)
    if not args.max_lag_ms.isdigit() or int(args.max_lag_ms) < 1:
        raise rollout.fail_argument(command, "--max-lag-ms", args.max_lag_ms, "use whole milliseconds >= 1", "1000")
    if args.unplanned not in {"", "yes"}:
        raise rollout.fail_argument(command, "UNPLANNED", args.unplanned, "use yes (or leave it empty)", "yes")
    to: Role = "secondary" if command == "failover" else "primary"
    unplanned = args.unplanned == "yes"
    settings = load_settings()
    if unplanned:  # the other region is lost: the survivor's copy of the control plane, and nothing started
        settings = with_home(settings, to)
    settings = engine.prepare(settings, converge=not unplanned)
    return failover.run(
        settings,
        to=to,
        unplanned=unplanned,
        max_lag_ms=int(args.max_lag_ms),
        bake_seconds=bake,
    )


def cmd_db_migrate(_: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings, synthesize=False)
    console.say(ledger_migrations.migrate(settings))
    return 0


def cmd_db_status(_: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.is_local:  # reads the local instances as they are: starts nothing
        rows = ledger_status.local_status(settings)
    else:
        settings = engine.prepare(settings, synthesize=False)
        rows = ledger_status.aws_status(settings)
    for line in ledger_status.table(rows):
        console.say(line)
    writer = ledger_status.writer_of(rows)
    console.say(f"writer: the {writer} region ({settings.regions.of(writer)})" if writer else "writer: NONE")
    return 0 if writer else 1


def cmd_reconcile(_: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings, synthesize=False)
    return reconcile.run(settings)


def cmd_smoke(args: argparse.Namespace) -> int:
    count = smoke.parse_count(args.count)
    settings = load_settings()
    settings = engine.prepare(settings, synthesize=False)
    return smoke.run(settings, count)


DRILL_BAKE_SECONDS = 10


def cmd_drill(args: argparse.Namespace) -> int:
    mode = next((m for m in MODES if m == args.mode), None)
    if mode is None:
        raise rollout.fail_argument("drill", "MODE", args.mode, f"use one of {', '.join(MODES)}", "refuse")
    bake = rollout.parse_bake(args.bake, "drill", DRILL_BAKE_SECONDS)
    if args.private:
        return drill_private.run(["--mode", mode, "--bake", str(bake)])
    settings = load_settings()
    settings = engine.prepare(settings, synthesize=False)
    return drill.run(settings, mode=mode, bake_seconds=bake)


def cmd_rejoin(_: argparse.Namespace) -> int:
    settings = load_settings()
    settings = engine.prepare(settings)
    return rejoin.run(settings)


def cmd_failover(args: argparse.Namespace) -> int:
    return _switch_region(args, "failover")


def cmd_failback(args: argparse.Namespace) -> int:
    return _switch_region(args, "failback")


def cmd_write_home(_: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.is_local:  # the local target is read as it is: an emulator that is down shows as unreadable
        settings = engine.prepare(settings, synthesize=False)
    lines, home = write_home.status_lines(settings)
    for line in lines:
        console.say(line)
    console.say(f"write home: the {home} region ({settings.regions.of(home)})" if home else "write home: NONE")
    return 0 if home else 1


def cmd_runbook(_: argparse.Namespace) -> int:
    """The migration runbook on stdout (progress on stderr); values it cannot read show as unknown, never fatal."""
    console.json_mode = True
    settings = load_settings()
    if not settings.is_local:  # the local target is read as it is: an emulator that is down shows as unknown
        try:
            settings = engine.prepare(settings, synthesize=False)
        except OpsError as error:
            console.error(f"runbook: {error}; values that need AWS show as unknown")
    facts = Facts.of(settings)
    console.value(render(facts, migration_runbook.gather(settings, facts)).rstrip("\n"))
    return 0


def cmd_releases(args: argparse.Namespace) -> int:
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings, synthesize=False)
    return releases.print_releases(settings, stack, as_json=args.json)


def cmd_rollback(args: argparse.Namespace) -> int:
    if args.release and not args.release.isdigit():
        raise UsageError(
            f"rollback: RELEASE={args.release!r} is invalid: use a release number from "
            f"`make releases STACK={args.stack}`, e.g. RELEASE=3"
        )
    validate_confirm("rollback", args.confirm, "apply")
    settings = load_settings()
    stack = graph.require_stack(args.stack)
    settings = engine.prepare(settings)
    wanted = int(args.release) if args.release else None
    return rollback.rollback(settings, stack, wanted=wanted, confirm=args.confirm)


# -- the delivery pipeline (ops/pipeline/, docs/pipeline.md) -----------------------------------------------------


def cmd_workflows(args: argparse.Namespace) -> int:
    environments = pipeline_environments.in_deploy_order()
    files = pipeline_render.rendered(ROOT, docs.synthesized_dependencies(), environments)
    differing = pipeline_render.stale(files, write=not args.check)
    for path in differing:
        console.say(f"{'differs' if args.check else 'wrote'} {path.relative_to(ROOT)}")
    extra = pipeline_render.extra_workflows(ROOT, files)
    for path in extra:
        console.error(f"{path.relative_to(ROOT)} is not generated: move what it does into ops/pipeline/ or delete it")
    if not differing and not extra:
        console.say(f"workflows are current ({len(files)} files)")
    if args.check and differing:
        console.error("workflows: the files above differ from what `make workflows` writes; run it and commit them")
    return 1 if extra or (args.check and differing) else 0


def cmd_pipeline_affected(args: argparse.Namespace) -> int:
    names = [env.name for env in pipeline_environments.in_deploy_order()]
    console.value(json.dumps(pipeline_affected.affected(pipeline_affected.changed_paths(args.base), names)))
    return 0


def cmd_pipeline_summary(args: argparse.Namespace) -> int:
    console.value(pipeline_summary.from_file(Path(args.file), args.title).rstrip("\n"))
    return 0


def _add_pipeline_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser("workflows", help="write .github/workflows/ from the stack graph (and docs/pipeline.md's graph)")
    w.add_argument("--check", action="store_true", help="change nothing; exit 1 naming the files that differ")
    w.set_defaults(func=cmd_workflows)
    a = sub.add_parser("pipeline-affected", help="the environments a change since --base can affect, as JSON")
    a.add_argument("--base", required=True, help="the revision the change is compared with (merge base with HEAD)")
    a.set_defaults(func=cmd_pipeline_affected)
    m = sub.add_parser("pipeline-summary", help="an `apply --json` or `drift --json` file as a markdown table")
    m.add_argument("file")
    m.add_argument("--title", default="summary", help="the table's heading")
    m.set_defaults(func=cmd_pipeline_summary)


def _with_json(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    command.add_argument(
        "--json", action="store_true", help="print the result as one JSON document on stdout (progress: stderr)"
    )
    return command


def _add_traffic_and_release_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ro = _with_json(
        sub.add_parser("rollout", help="staged traffic shift to a region, watched by alarms and health checks")
    )
    ro.add_argument("--to", default="", help="primary | secondary (TO)")
    ro.add_argument("--steps", default="", help="percents for TO, e.g. 10,25,50,100 (STEPS; the default)")
    ro.add_argument("--bake", default="", help="seconds to watch each step (BAKE; default 300)")
    ro.add_argument("--hold", default="", help="yes: STEPS may end below 100, the split stays there (HOLD)")
    ro.add_argument(
        "--engine",
        default="",
        help="local | stepfunctions (ENGINE; default: local on the emulator, else stepfunctions)",
    )
    ro.add_argument("--dry-run", action="store_true", help="check the arguments, say what would run, change nothing")
    ro.set_defaults(func=cmd_rollout)
    sub.add_parser(
        "rollout-status", help="follow the running rollout execution (Step Functions), or show the last one"
    ).set_defaults(func=cmd_rollout_status)
    ab = sub.add_parser("rollout-abort", help="stop the running rollout execution and revert to its last good split")
    ab.add_argument("--confirm", default="", help="yes: do not ask (CONFIRM)")
    ab.set_defaults(func=cmd_rollout_abort)
    for name, func, where in (("failover", cmd_failover, "secondary"), ("failback", cmd_failback, "primary")):
        f = sub.add_parser(name, help=f"Aurora global switchover to the {where} region, then all traffic to it")
        f.add_argument("--unplanned", nargs="?", const="yes", default="", help="global failover, may lose data")
        f.add_argument("--max-lag-ms", default="1000", help="largest replica lag accepted (default 1000)")
        f.add_argument("--bake", default="", help="seconds to watch the traffic switch (BAKE; default 60)")
        f.set_defaults(func=func)
    dr = sub.add_parser("drill", help="lose the write home's region on purpose and recover; RTO, RPO, duplicates")
    dr.add_argument("--private", action="store_true", help="on a private deployment of its own (make drill)")
    dr.add_argument("--mode", default="refuse", help="how the lost region fails: refuse | timeout | 503 (MODE)")
    dr.add_argument("--bake", default="", help=f"seconds each traffic move is watched (default {DRILL_BAKE_SECONDS})")
    dr.set_defaults(func=cmd_drill)
    sub.add_parser(
        "rejoin", help="after an unplanned failover: the region that is back follows the survivor (data, DNS, home)"
    ).set_defaults(func=cmd_rejoin)
    sub.add_parser(
        "write-home", help="each region's view of the write home (the region taking payments); exit 1 if none"
    ).set_defaults(func=cmd_write_home)
    sub.add_parser(
        "runbook", help="the migration runbook (markdown) with live values: checklist, phases, rollback, failover"
    ).set_defaults(func=cmd_runbook)
    rl = _with_json(sub.add_parser("releases", help="list the recorded releases of a stack"))
    rl.add_argument("stack")
    rl.set_defaults(func=cmd_releases)
    rb = sub.add_parser("rollback", help="re-apply the previous (or a chosen) release of one stack")
    rb.add_argument("stack")
    rb.add_argument("--release", default="", help="release number (RELEASE); default: the previous release")
    rb.add_argument("--confirm", default="", help="yes: apply without asking (CONFIRM)")
    rb.set_defaults(func=cmd_rollback)


def _add_output_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "outputs", help="write and print the outputs of every deployed stack (sensitive ones masked)"
    ).set_defaults(func=cmd_outputs)
    o = sub.add_parser("output", help="print one output's value from the state, sensitive ones too (stdout only)")
    o.add_argument("stack")
    o.add_argument("name")
    o.set_defaults(func=cmd_output)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops", description="Operate the multi-region payments platform.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("tfconfig", help="write the project's Terraform CLI config").set_defaults(func=cmd_tfconfig)
    sub.add_parser("shell-env", help="print the exports an activated venv sources").set_defaults(func=cmd_shell_env)
    sub.add_parser("check-config", help="validate the configuration").set_defaults(func=cmd_check_config)
    sub.add_parser(
        "bootstrap", help="create or converge the state bucket, lock table and per-account settings"
    ).set_defaults(func=cmd_bootstrap)
    sub.add_parser("preflight", help="check the AWS account can take a first apply (aws target)").set_defaults(
        func=cmd_preflight
    )
    s = sub.add_parser("synth", help="synthesize all stacks (only when sources changed)")
    s.add_argument("--force", action="store_true", help="synthesize even when nothing changed")
    s.set_defaults(func=cmd_synth)
    _with_json(sub.add_parser("stacks", help="list the stacks and their dependencies")).set_defaults(func=cmd_stacks)
    d = sub.add_parser("diff", help="plan one stack")
    d.add_argument("stack")
    d.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    d.add_argument(
        "--refresh",
        action="store_true",
        help="always run a full plan against the live resources, even when nothing changed since the last apply",
    )
    d.set_defaults(func=cmd_diff)
    for name, func in (("deploy", cmd_deploy), ("destroy", cmd_destroy)):
        c = _with_json(sub.add_parser(name, help=f"{name} the stacks of a region (or both)"))
        c.add_argument("region", choices=sorted(REGION_CHOICES))
        if name == "destroy":
            c.add_argument("--confirm", default="", help="the environment name; required for prod")
        else:
            c.add_argument("--force", action="store_true", help="plan and apply even stacks that are unchanged")
        c.set_defaults(func=func)
    a = _with_json(sub.add_parser("apply", help="apply (or --destroy) the named stacks, in the order given"))
    a.add_argument("stacks", nargs="+", metavar="STACK")
    a.add_argument("--destroy", action="store_true")
    a.add_argument("--force", action="store_true", help="apply even when unchanged since the last apply")
    a.set_defaults(func=cmd_apply)
    u = sub.add_parser("unlock", help="release a stale state lock (asks for confirmation)")
    u.add_argument("stack")
    u.add_argument("lock_id")
    u.add_argument("--confirm", default="", help="yes: do not ask")
    u.set_defaults(func=cmd_unlock)
    v = _with_json(sub.add_parser("state-versions", help="list the stored versions of a stack's state"))
    v.add_argument("stack")
    v.set_defaults(func=cmd_state_versions)
    r = sub.add_parser("state-restore", help="make an earlier state version current (asks for confirmation)")
    r.add_argument("stack")
    r.add_argument("version")
    r.add_argument("--confirm", default="", help="yes: do not ask")
    r.set_defaults(func=cmd_state_restore)
    _with_json(
        sub.add_parser(
            "state-status",
            help="each stack's state serial in both homes and the journal's, the home in use; exit 1 if it is stale",
        )
    ).set_defaults(func=cmd_state_status)
    _add_plan_commands(sub)
    sub.add_parser("security", help="checkov over every synthesized stack (aws target)").set_defaults(func=cmd_security)
    _add_output_commands(sub)
    dc = sub.add_parser("docs", help="write the tables of README.md and docs/ that come from code")
    dc.add_argument("--check", action="store_true", help="change nothing; exit 1 when a document is stale")
    dc.set_defaults(func=cmd_docs)
    for add_commands in (_add_traffic_and_release_commands, _add_local_and_ledger_commands, _add_pipeline_commands):
        add_commands(sub)
    return p


def _add_plan_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _with_json(
        sub.add_parser("drift", help="refresh-only plans of every deployed stack; exit 2 on drift")
    ).set_defaults(func=cmd_drift)
    pr = _with_json(
        sub.add_parser("plan-report", help="plan every stack (no lock); write plan-report.md and plan-report.json")
    )
    pr.add_argument("--out", default=".", metavar="DIR", help="where to write the two files (default: here)")
    pr.set_defaults(func=cmd_plan_report)


def _add_local_and_ledger_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "local-up", help="start the emulator, its table replication and the local PostgreSQL instances; bootstrap state"
    ).set_defaults(func=cmd_local_up)
    sub.add_parser(
        "local-down", help="stop the emulator, its table replication and the local PostgreSQL instances (data goes)"
    ).set_defaults(func=cmd_local_down)
    si = sub.add_parser("stand-in", help="local target, ec2 runtime: the payment server stand-ins (gap ec2-user-data)")
    si.add_argument("action", nargs="?", default="status", help=f"{' | '.join(stand_in.ACTIONS)} (default status)")
    si.set_defaults(func=cmd_stand_in)
    o = sub.add_parser(
        "outage", help="local target with fault injection: fail a region's requests and crash its PostgreSQL"
    )
    o.add_argument("--region", default="", help="primary | secondary (ROLE)")
    o.add_argument("--mode", default="", help="refuse | timeout | 503 (MODE)")
    o.add_argument("--clear", action="store_true", help="lift the fault and start the crashed PostgreSQL again")
    o.add_argument("--status", action="store_true", help="the fault in force and the requests it failed")
    o.set_defaults(func=cmd_outage)
    sub.add_parser(
        "db-migrate", help="apply the ledger's SQL migrations on the writer (deploys run them too)"
    ).set_defaults(func=cmd_db_migrate)
    sub.add_parser("db-status", help="per region: writer or standby, replication lag, last migration").set_defaults(
        func=cmd_db_status
    )
    sub.add_parser(
        "reconcile", help="payments in DynamoDB == ledger == audit objects == events; exit 2 and a table if not"
    ).set_defaults(func=cmd_reconcile)
    sm = sub.add_parser(
        "smoke", help="N payments through the client (api.<zone> as clients resolve it); exit 1 on a non-201"
    )
    sm.add_argument("--count", default="20", help="how many payments (N; default 20)")
    sm.set_defaults(func=cmd_smoke)

    k = _with_json(
        sub.add_parser("rotate-api-key", help="add an API key and make it current (--retire: drop the previous)")
    )
    k.add_argument("--retire", action="store_true", help="drop every key but the current one instead")
    k.set_defaults(func=cmd_rotate_api_key)


def _run_command(args: argparse.Namespace) -> int:
    """The command; once a signal interrupted it, whatever it ended with is reported as that interruption."""
    try:
        code = int(args.func(args))
    except TerraformError as error:
        if interrupt.received() is None:
            raise
        console.error(f"error: {error}")
    signum = interrupt.received()
    if signum is not None:
        raise interrupt.Interrupted(signum)
    return code


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    engine.register_before_stack(api_key.before_stack)  # the API key secret's value and replica, per stack
    console.json_mode = bool(getattr(args, "json", False))
    try:
        with interrupt.handled():
            return _run_command(args)
    except ConfigError as error:
        for line in error.lines:
            console.error(f"config error: {line}")
        return 2
    except UnknownStackError as error:
        console.error(str(error))
        return 1
    except TerraformError as error:
        console.error(f"error: {error}")
        return 1
    except OpsError as error:
        if str(error):
            console.error(str(error))
        return error.exit_code
