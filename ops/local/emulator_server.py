"""The local emulator process: moto's server, with DynamoDB requests serialized (`ops.local.serialize`), Step
Functions executions run (gap `stepfunctions-executions`) with AWS SDK integrations shaped as on AWS
(`ops.local.sfn_sdk_shapes`, gap `sfn-sdk-integration-shapes`) and the context object's times as on AWS
(`ops.local.sfn_context`, gap `sfn-context-times`), state machine definitions validated
(`ops.local.sfn_validation`, gap `sfn-validate-definition`) and their versions listed (`ops.local.sfn_versions`,
gap `sfn-list-versions`).

python -m ops.local.emulator_server --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from moto.core.config import default_user_config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from ops.local.serialize import serialize_dynamodb
from ops.local.sfn_context import context_times_as_aws
from ops.local.sfn_sdk_shapes import shape_sdk_integrations
from ops.local.sfn_validation import answer_validate_definition
from ops.local.sfn_versions import answer_list_versions


def run_state_machines() -> None:
    """Turn on moto's Step Functions executor, as `POST /moto-api/config` would, before the first request: moto
    picks the backend (executing or not) per request from this setting, so state machines created before a later
    switch would live in the other backend."""
    default_user_config["stepfunctions"] = {"execute_state_machine": True}


def step_functions_as_on_aws() -> None:
    """Every Step Functions gap the process fills itself (the validation call is answered by the WSGI layer)."""
    run_state_machines()
    shape_sdk_integrations()
    context_times_as_aws()
    answer_list_versions()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local AWS emulator (moto) for the payments platform")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's own server does; used in generated URLs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    step_functions_as_on_aws()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]
    served = answer_validate_definition(serialize_dynamodb(app))
    run_simple(args.host, args.port, served, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
