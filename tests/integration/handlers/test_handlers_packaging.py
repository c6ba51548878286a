"""Each Lambda directory is self-contained and runs from the root of its own zip."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

LAMBDA_SRC = Path(__file__).resolve().parents[3] / "lambda_src"
RUNTIME_PACKAGES = {"boto3", "botocore"}


def _absolute_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("function", ["payment_processor", "health"])
def test_imports_only_stdlib_boto3_and_its_own_modules(function: str) -> None:
    sources = sorted((LAMBDA_SRC / function).glob("*.py"))
    assert (LAMBDA_SRC / function / "handler.py") in sources
    for source in sources:
        foreign = _absolute_imports(source) - set(sys.stdlib_module_names) - RUNTIME_PACKAGES - {"__future__"}
        assert not foreign, f"{source.name} imports {sorted(foreign)}"


def _run_from_zip_root(function: str, tmp_path: Path, event: dict[str, Any], entry: str = "handler") -> Any:
    """Zip the directory as the infrastructure does, unpack it like Lambda (/var/task), call handler.<entry>."""
    archive = tmp_path / f"{function}.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for source in (LAMBDA_SRC / function).glob("*.py"):
            bundle.write(source, source.name)
    task = tmp_path / "task"
    shutil.unpack_archive(archive, task)
    script = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import handler
        result = getattr(handler, sys.argv[2])(json.loads(sys.argv[3]), None)
        leaked = sorted(name for name in sys.modules if name.split(".")[0] in ("lambda_src", "conftest"))
        print(json.dumps({"result": result, "leaked": leaked}))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-I", "-c", script, str(task), entry, json.dumps(event)],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    last = completed.stdout.strip().splitlines()[-1]
    output = json.loads(last)
    assert output["leaked"] == []
    return output["result"]


def test_payment_processor_runs_from_its_zip_root(api: Any, observer: Any, tmp_path: Path) -> None:
    event = api.event(
        "POST",
        "/payments",
        body=json.dumps(api.valid_body()),
        headers={"Idempotency-Key": f"zip-{uuid.uuid4().hex}"},
    )
    result = _run_from_zip_root("payment_processor", tmp_path, event)
    assert result["statusCode"] == 201
    payment_id = json.loads(result["body"])["payment_id"]
    assert observer.item(payment_id) is not None
    assert len(observer.events_for(payment_id)) == 1


def test_retry_entry_point_runs_from_its_zip_root(api: Any, tmp_path: Path) -> None:
    event = {"Records": [{"messageId": "m1", "body": "not json"}]}
    assert _run_from_zip_root("payment_processor", tmp_path, event, "retry_handler") == {"batchItemFailures": []}


def test_health_runs_from_its_zip_root(lambda_env: Any, tmp_path: Path) -> None:
    event = {"httpMethod": "GET", "path": "/health", "resource": "/health", "headers": None}
    result = _run_from_zip_root("health", tmp_path, event)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["checks"] == {"table": "ok", "bucket": "ok"}
