"""`make preflight`: will a first apply on this AWS account work? One line per check, ok or FAIL with the fix.

Names, versions and numbers come from the synthesized aws JSON (`ops.deploy.synth_facts`), never from a copy.
On an emulator endpoint (`AWS_ENDPOINT_URL`), a check the emulator cannot answer is skipped with a line naming its
gap in `shared.local_target.GAPS`.
"""

from __future__ import annotations

import contextlib
import itertools
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from config.schema import RDS_CA_BUNDLE_URL
from config.settings import Settings
from ops.build.synth import synth
from ops.core.aws_access import BUCKET_FORBIDDEN, BUCKET_MISSING, error_code, head_bucket
from ops.core.aws_clients import client
from ops.core.console import console
from ops.core.endpoints import is_emulator
from ops.core.errors import UsageError
from ops.core.paths import ROOT, outdir
from ops.deploy.synth_facts import AuroraInstance, AuroraVersion, Facts, read_facts
from shared.pipeline import deploy_role_name, plan_role_name

MIN_UNRESERVED_CONCURRENCY = 100  # Lambda keeps this much unreserved; reserving into it fails
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"  # Service Quotas code of "Concurrent executions"
BOOTSTRAP_FIX = "run `make bootstrap`"


@dataclass(frozen=True)
class Result:
    check: str
    ok: bool | None  # None: skipped (an emulator gap)
    detail: str

    @property
    def line(self) -> str:
        status = {True: "ok", False: "FAIL", None: "skip"}[self.ok]
        return f"{status:<4}  {self.check}: {self.detail}"


def ok(check: str, detail: str) -> Result:
    return Result(check, True, detail)


def fail(check: str, problem: str, fix: str) -> Result:
    return Result(check, False, f"{problem} -- fix: {fix}")


def skipped(check: str, gap: str) -> Result:
    return Result(check, None, f"not answered by the emulator (gap {gap})")


def check_credentials(sts: Any, allowed: set[str], profile: str) -> Result:
    name = "credentials and account"
    who = f"profile {profile}" if profile else "the default credentials"
    try:
        account = str(sts.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as error:
        return fail(name, f"{who} do not work ({error})", "log in (e.g. `aws sso login`) or export valid credentials")
    if not allowed:
        return fail(name, "the synthesized stacks allow no account", "set PAYMENTS_AWS_ACCOUNT_ID (aws.account_id)")
    if account not in allowed:
        return fail(
            name,
            f"{who} belong to account {account}; the stacks allow only {', '.join(sorted(allowed))}",
            "use credentials of that account, or fix PAYMENTS_AWS_ACCOUNT_ID (aws.account_id)",
        )
    return ok(name, f"account {account}, as aws.account_id requires")


def check_state_bucket(s3: Any, bucket: str) -> Result:
    error = head_bucket(s3, bucket)
    if error is None:
        return ok("state bucket", f"{bucket} exists")
    if error_code(error) in BUCKET_MISSING:
        return fail("state bucket", f"{bucket} does not exist", BOOTSTRAP_FIX)
    return fail(
        "state bucket",
        f"{bucket} is not readable with these credentials ({error_code(error)})",
        "grant s3:ListBucket on it, or, when another account owns the name, set state.bucket",
    )


def check_lock_table(dynamodb: Any, table: str) -> Result:
    try:
        dynamodb.describe_table(TableName=table)
    except dynamodb.exceptions.ResourceNotFoundException:
        return fail("lock table", f"{table} does not exist", BOOTSTRAP_FIX)
    return ok("lock table", f"{table} exists")


def check_api_gateway_account(apigateway: Any, region: str) -> Result:
    name = f"API Gateway CloudWatch role ({region})"
    role = apigateway.get_account().get("cloudwatchRoleArn")
    if not role:
        return fail(name, "no CloudWatch Logs role set: stages that log would fail", BOOTSTRAP_FIX)
    return ok(name, role)


def check_pipeline_roles(iam: Any, settings: Settings) -> Result:
    """With pipeline.github_repository set, the workflows assume the GitHub deploy and plan roles bootstrap makes."""
    name = "GitHub pipeline roles"
    missing = []
    for role in (deploy_role_name(settings), plan_role_name(settings)):
        try:
            iam.get_role(RoleName=role)
        except iam.exceptions.NoSuchEntityException:
            missing.append(role)
    if missing:
        return fail(
            name,
            f"{', '.join(missing)} missing: the workflows of {settings.pipeline.github_repository} cannot assume them",
            BOOTSTRAP_FIX,
        )
    return ok(name, f"{deploy_role_name(settings)} and {plan_role_name(settings)} exist")


def check_lambda_concurrency(lambda_client: Any, region: str, planned: dict[str, int]) -> Result:
    """Unreserved concurrency after the stacks' reservations, counting back what our functions already hold."""
    name = f"Lambda concurrency ({region})"
    unreserved = int(lambda_client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"])
    held = 0
    for function in planned:
        with contextlib.suppress(lambda_client.exceptions.ResourceNotFoundException):
            current = lambda_client.get_function_concurrency(FunctionName=function)
            held += int(current.get("ReservedConcurrentExecutions", 0))
    left = unreserved + held - sum(planned.values())
    if left < MIN_UNRESERVED_CONCURRENCY:
        return fail(
            name,
            f"reserving {sum(planned.values())} leaves {left} unreserved; Lambda needs {MIN_UNRESERVED_CONCURRENCY}",
            f"raise the quota 'Concurrent executions' ({LAMBDA_CONCURRENCY_QUOTA}) in {region} with Service Quotas, "
            "or reserve less (compute.lambda_p99_latency_ms, or compute.reserve_concurrency = false)",
        )
    return ok(name, f"{left} left unreserved after reserving {sum(planned.values())}")


def check_rds_ca_bundle(path: str) -> Result:
    """data.rds_ca_bundle names a PEM bundle of CA certificates (the functions verify the database against it)."""
    name = "RDS CA bundle (data.rds_ca_bundle)"
    fix = f"download {RDS_CA_BUNDLE_URL} and set data.rds_ca_bundle to its path"
    if not path:
        return fail(name, "not set", fix)
    bundle = ROOT / path
    try:
        text = bundle.read_text(encoding="ascii")
        context = ssl.create_default_context(cafile=str(bundle))
    except (OSError, UnicodeDecodeError, ssl.SSLError) as error:
        return fail(name, f"{path} is not a readable PEM bundle ({type(error).__name__})", fix)
    certificates = len(context.get_ca_certs())
    if "-----BEGIN CERTIFICATE-----" not in text or not certificates:
        return fail(name, f"{path} holds no PEM CA certificate", fix)
    return ok(name, f"{path}: {certificates} CA certificate(s)")


def check_engine_version(rds: Any, wanted: AuroraVersion) -> Result:
    name = f"Aurora {wanted.engine} {wanted.version} ({wanted.region})"
    found = rds.describe_db_engine_versions(Engine=wanted.engine, EngineVersion=wanted.version)["DBEngineVersions"]
    fix = (
        f"pin a version that `aws rds describe-db-engine-versions --engine {wanted.engine} --region {wanted.region}` "
        "lists with SupportsGlobalDatabases (data.aurora_engine_version)"
    )
    if not found:
        return fail(name, "not offered in this region", fix)
    if not any(version.get("SupportsGlobalDatabases") for version in found):
        return fail(name, "offered, but not for global databases", fix)
    return ok(name, "offered, with global database support")


def check_instance_class(rds: Any, wanted: AuroraInstance) -> Result:
    name = f"{wanted.instance_class} for {wanted.engine} {wanted.version} ({wanted.region})"
    options = rds.describe_orderable_db_instance_options(
        Engine=wanted.engine, EngineVersion=wanted.version, DBInstanceClass=wanted.instance_class
    )["OrderableDBInstanceOptions"]
    # Filtered again here: the emulator ignores the class filter, and the check must not pass on a mere answer.
    wanted_key = (wanted.instance_class, wanted.version)
    options = [o for o in options if (o["DBInstanceClass"], o["EngineVersion"]) == wanted_key]
    if not options:
        return fail(
            name,
            "not orderable",
            "choose a class `aws rds describe-orderable-db-instance-options` lists (data.aurora_instance_class)",
        )
    return ok(name, "orderable")


def check_zones(ec2: Any, region: str, names: set[str], ids: set[str], references: set[str]) -> Result:
    name = f"availability zones ({region})"
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
    missing = sorted(names - {z["ZoneName"] for z in zones}) + sorted(ids - {z["ZoneId"] for z in zones})
    if missing:
        return fail(name, f"not available to this account: {', '.join(missing)}", "use zones this account lists")
    if len(references) > len(zones):
        return fail(name, f"{len(references)} zones needed, {len(zones)} available", "lower network.az_count")
    return ok(name, ", ".join(sorted(names | ids)) or f"{len(references)} resolved at plan time")


def check_bucket_name(s3: Any, bucket: str) -> Result:
    name = f"bucket name {bucket}"
    error = head_bucket(s3, bucket)
    if error is None:
        return ok(name, "already ours")
    if error_code(error) in BUCKET_MISSING:
        return ok(name, "free")
    if error_code(error) in BUCKET_FORBIDDEN:
        return fail(name, "taken by another account (403)", "choose another project or environment suffix")
    raise error


Check = tuple[str, Any, str | None, Callable[[], Result]]  # (name, client, emulator gap or None, the check)


def _run(check: Check) -> Result:
    """A check the emulator cannot answer is skipped there; a failing call (permissions, throttling) is a FAIL
    line, not a traceback."""
    name, api, gap, run = check
    if gap and is_emulator(api):
        return skipped(name, gap)
    try:
        return run()
    except (BotoCoreError, ClientError) as error:
        return fail(name, f"the check's AWS call failed ({error})", "allow the read-only call, then run it again")


def _state_and_account_settings(settings: Settings) -> list[Check]:
    region = settings.state_region
    s3, dynamodb = client(settings, "s3", region), client(settings, "dynamodb", region)
    checks: list[Check] = [
        ("state bucket", s3, None, partial(check_state_bucket, s3, settings.state_bucket)),
        ("lock table", dynamodb, None, partial(check_lock_table, dynamodb, settings.state.lock_table)),
    ]
    for region in (settings.regions.primary, settings.regions.secondary):
        api = client(settings, "apigateway", region)
        checks.append((f"API Gateway ({region})", api, None, partial(check_api_gateway_account, api, region)))
    if settings.pipeline.github_repository:
        iam = client(settings, "iam", settings.state_region)
        checks.append(("GitHub pipeline roles", iam, None, partial(check_pipeline_roles, iam, settings)))
    return checks


def _synthesized(settings: Settings, facts: Facts) -> list[Check]:
    checks: list[Check] = []
    for region, planned in sorted(facts.reserved_concurrency.items()):
        api = client(settings, "lambda", region)
        run = partial(check_lambda_concurrency, api, region, planned)
        checks.append((f"Lambda concurrency ({region})", api, "lambda-account-settings", run))
    for version in sorted(facts.aurora_versions, key=str):
        api = client(settings, "rds", version.region)
        run = partial(check_engine_version, api, version)
        checks.append((f"Aurora {version.version} ({version.region})", api, "rds-engine-catalogue", run))
    for instance in sorted(facts.aurora_instances, key=str):
        api = client(settings, "rds", instance.region)
        run = partial(check_instance_class, api, instance)
        checks.append((f"{instance.instance_class} ({instance.region})", api, "rds-engine-catalogue", run))
    for region in sorted(set(facts.zone_names) | set(facts.zone_ids) | set(facts.zone_references)):
        api = client(settings, "ec2", region)
        zones = (facts.zone_names[region], facts.zone_ids[region], facts.zone_references[region])
        checks.append((f"availability zones ({region})", api, None, partial(check_zones, api, region, *zones)))
    for region, bucket in sorted(facts.buckets):
        api = client(settings, "s3", region)
        checks.append((f"bucket name {bucket}", api, None, partial(check_bucket_name, api, bucket)))
    return checks


def account_checks(settings: Settings, facts: Facts) -> Iterator[Result]:
    """The checks in order; stops after the credentials check when it fails (everything else needs them)."""
    profile = settings.aws.profile
    try:
        sts = client(settings, "sts", settings.state_region)
    except BotoCoreError as error:  # e.g. a profile that is not configured
        yield fail("credentials and account", str(error), "configure the profile (aws.profile) or unset it")
        return
    first = _run(
        ("credentials and account", sts, None, partial(check_credentials, sts, facts.allowed_account_ids, profile))
    )
    yield first
    if not first.ok:
        return
    for check in [*_state_and_account_settings(settings), *_synthesized(settings, facts)]:
        yield _run(check)


def run(settings: Settings) -> int:
    """Print one line per check; 1 when any failed."""
    if settings.is_local:
        raise UsageError(
            "preflight checks an AWS account: set PAYMENTS_TARGET=aws (against an emulator: also AWS_ENDPOINT_URL)"
        )
    synth(settings)
    failed = 0
    results = account_checks(settings, read_facts(outdir()))
    for result in itertools.chain([check_rds_ca_bundle(settings.data.rds_ca_bundle)], results):
        console.say(result.line)
        failed += result.ok is False
    console.say(f"preflight: {failed} check(s) failed" if failed else "preflight: all checks passed")
    return 1 if failed else 0
