"""The archives the synth wrote run as Lambda runs them: unpacked, imported by the handler path the function has."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.platform import Platform

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"
RUNTIME_PACKAGES = {"boto3", "botocore"}
# What each package may import beyond the standard library, boto3 and itself: the archive carries exactly these.
ARCHIVED_WITH = {
    "payment_processor": {"..common", "..ledger"},
    "health": {"..common"},
    "ledger": {"..common"},
    "common": set(),
}
DRIVER = {"ledger": {"pg8000"}}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level names of absolute imports, and the packages that relative imports beyond `.` reach."""
    tree = ast.parse(path.read_text(), filename=str(path))
    absolute: set[str] = set()
    beyond: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            absolute.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 1:
            beyond.add(f"{'.' * node.level}{(node.module or '').split('.')[0]}")
    return absolute, beyond


@pytest.mark.parametrize("package", sorted(ARCHIVED_WITH))
def test_imports_only_stdlib_boto3_its_own_modules_and_what_its_archive_carries(package: str) -> None:
    sources = sorted((LAMBDA_SRC / package).glob("*.py"))
    assert sources
    for source in sources:
        absolute, beyond = _imports(source)
        foreign = (
            absolute - set(sys.stdlib_module_names) - RUNTIME_PACKAGES - DRIVER.get(package, set()) - {"__future__"}
        )
        assert not foreign, f"{source.name} imports {sorted(foreign)}"
        allowed = ARCHIVED_WITH[package]
        assert beyond <= allowed, f"{source.name} reaches {sorted(beyond - allowed)}"


def _role_of(platform: Platform, region: str) -> str:
    return next(role for role in ("primary", "secondary") if platform.region(role) == region)


def _run_deployed(platform: Platform, region: str, function_output: str, event: Any, tmp_path: Path) -> Any:
    """Unpack the function's archive like Lambda (/var/task), import its configured handler, call it."""
    role = _role_of(platform, region)
    name = platform.outputs()[f"compute-{role}"][function_output]
    configuration = platform.client("lambda", role).get_function_configuration(FunctionName=name)
    stack_dir = platform.workdir / "cdktf.out" / "stacks" / f"compute-{role}"
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    functions = stack["resource"]["aws_lambda_function"].values()
    filename = next(f["filename"] for f in functions if f["function_name"] == name)
    archive = stack_dir / filename
    assert configuration["CodeSha256"] == base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
    task = tmp_path / "task"
    shutil.unpack_archive(archive, task, "zip")
    script = textwrap.dedent(
        """
        import importlib, json, sys
        task = sys.argv[1]
        sys.path.insert(0, task)
        module, entry = sys.argv[2].rsplit(".", 1)
        result = getattr(importlib.import_module(module), entry)(json.loads(sys.argv[3]), None)
        foreign = sorted(
            name for name, m in sys.modules.items()
            if name.split(".")[0] in ("lambda_src", "conftest", "tests")
            and not (getattr(m, "__file__", None) or "").startswith(task)
        )
        print(json.dumps({"result": result, "foreign": foreign}))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-I", "-c", script, str(task), configuration["Handler"], json.dumps(event)],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = json.loads(completed.stdout.strip().splitlines()[-1])
    assert output["foreign"] == [], "every module came from the archive"
    return output["result"]


def test_payment_processor_runs_from_its_archive(
    platform: Platform, deployed_region: dict[str, str], api: Any, observer: Any, tmp_path: Path
) -> None:
    event = api.event(
        "POST",
        "/payments",
        body=json.dumps(api.valid_body()),
        headers={"Idempotency-Key": f"zip-{uuid.uuid4().hex}"},
    )
    result = _run_deployed(platform, deployed_region["region"], "payment_function_name", event, tmp_path)
    assert result["statusCode"] == 201
    payment_id = json.loads(result["body"])["payment_id"]
    assert observer.item(payment_id) is not None
    assert len(observer.events_for(payment_id)) == 1


def test_retry_consumer_runs_from_its_archive(
    platform: Platform, deployed_region: dict[str, str], api: Any, tmp_path: Path
) -> None:
    event = {"Records": [{"messageId": "m1", "body": "not json"}]}
    result = _run_deployed(platform, deployed_region["region"], "retry_function_name", event, tmp_path)
    assert result == {"batchItemFailures": []}


def test_health_runs_from_its_archive(
    platform: Platform, deployed_region: dict[str, str], lambda_env: Any, tmp_path: Path
) -> None:
    event = {"httpMethod": "GET", "path": "/health", "resource": "/health", "headers": None}
    result = _run_deployed(platform, deployed_region["region"], "health_function_name", event, tmp_path)
    assert result["statusCode"] == 200
    assert result["headers"]["Cache-Control"] == "no-store"
    assert json.loads(result["body"])["checks"] == {"table": "ok", "bucket": "ok"}
