"""Terraform creates, re-plans clean and destroys a state machine through the project's emulator (gaps
`sfn-validate-definition` and `sfn-list-versions`: the provider validates the definition at plan time and lists
the machine's versions after creating it and on every refresh). Integration lane: ~40 s of Terraform against a
private emulator, no deployment of the platform."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ops.core.aws_clients import client
from ops.terraform.cli_config import write_cli_config
from shared.local_target import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from tests.unit.private_emulator import private_emulator

TERRAFORM_SECONDS = 180


def _configuration(endpoint: str, region: str, other_region: str) -> dict[str, Any]:
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Task",
                "Resource": f"arn:aws:states:{other_region}::aws-sdk:cloudwatch:describeAlarms",
                "Parameters": {"AlarmNames": ["tf-probe"]},
                "ResultSelector": {"found.$": "States.ArrayLength($.MetricAlarms)"},
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return {
        "provider": {
            "aws": {
                "region": region,
                "access_key": FAKE_ACCESS_KEY,
                "secret_key": FAKE_SECRET_KEY,
                "skip_credentials_validation": True,
                "skip_metadata_api_check": True,
                "max_retries": 1,
                "endpoints": [{service: endpoint for service in ("sfn", "iam", "sts", "logs")}],
            }
        },
        "resource": {
            "aws_iam_role": {"engine": {"name": "tf-probe-engine", "assume_role_policy": json.dumps(trust)}},
            "aws_cloudwatch_log_group": {"engine": {"name": "/aws/vendedlogs/states/tf-probe"}},
            "aws_sfn_state_machine": {
                "engine": {
                    "name": "tf-probe",
                    "role_arn": "${aws_iam_role.engine.arn}",
                    "definition": json.dumps(definition),
                    "logging_configuration": [
                        {
                            "log_destination": "${aws_cloudwatch_log_group.engine.arn}:*",
                            "include_execution_data": False,
                            "level": "ALL",
                        }
                    ],
                    "tracing_configuration": [{"enabled": True}],
                }
            },
        },
    }


def _terraform(workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TF_CLI_CONFIG_FILE": str(write_cli_config()), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        ["terraform", *arguments, "-input=false", "-no-color"],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TERRAFORM_SECONDS,
        check=False,
    )


def test_terraform_creates_replans_and_destroys_a_state_machine(tmp_path: Path) -> None:
    with private_emulator() as settings:
        primary, secondary = settings.regions.primary, settings.regions.secondary
        configuration = _configuration(settings.local.endpoint, primary, secondary)
        (tmp_path / "main.tf.json").write_text(json.dumps(configuration))

        for arguments in (("init",), ("apply", "-auto-approve")):
            done = _terraform(tmp_path, *arguments)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        replan = _terraform(tmp_path, "plan", "-detailed-exitcode")
        sfn = client(settings, "stepfunctions", primary)
        [machine] = sfn.list_state_machines()["stateMachines"]
        described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
        destroyed = _terraform(tmp_path, "destroy", "-auto-approve")

        assert replan.returncode == 0, replan.stdout[-2000:] + replan.stderr[-2000:]  # 0: no changes
        assert machine["name"] == "tf-probe"
        assert json.loads(described["definition"]) == json.loads(
            configuration["resource"]["aws_sfn_state_machine"]["engine"]["definition"]
        )
        assert described["loggingConfiguration"]["level"] == "ALL"
        assert described["tracingConfiguration"] == {"enabled": True}
        assert destroyed.returncode == 0, destroyed.stdout[-2000:] + destroyed.stderr[-2000:]
        assert sfn.list_state_machines()["stateMachines"] == []
