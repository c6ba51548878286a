"""A deployed function's handler, run in this process on the local target (gap `lambda-invoke`).

The emulator cannot run Lambda containers, so the handler runs here with the environment the emulator holds for
the deployed function, boto3 pointed at the emulator: the code, the variables and what they name are the
deployed ones; only the process differs. Each call is a fresh "container": cached settings and clients are reset.
The SDK's service models are the one thing kept: a container parses them at its cold start, and parsing them again
on every call made each in-process call cost half a second.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import botocore.loaders
import botocore.session

from config.settings import Settings
from ops.core.aws_clients import client
from ops.local.aws_environment import emulator_access, is_operator_override


def deployed_environment(settings: Settings, function_name: str, region: str) -> dict[str, str]:
    """The function's variables as deployed, plus what a Lambda container would add (region, credentials)."""
    configuration = client(settings, "lambda", region).get_function_configuration(FunctionName=function_name)
    variables: dict[str, str] = configuration.get("Environment", {}).get("Variables", {})
    return {**variables, **emulator_access(settings, region)}


def import_handler(module: str) -> Any:
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # lambda_src is archived as it is
    try:
        return importlib.import_module(module)
    finally:
        sys.dont_write_bytecode = previous


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ (no service-specific endpoint overrides, no profile) for the duration; restored after."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if is_operator_override(k)]:
            del os.environ[key]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


_loaders: dict[str | None, botocore.loaders.Loader] = {}
_loaders_lock = threading.Lock()


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    with _loaders_lock:
        if search_path_string not in _loaders:
            _loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return _loaders[search_path_string]


@contextmanager
def _parsed_models_kept() -> Iterator[None]:
    """Sessions made meanwhile (each container makes its own) share one loader: service models parsed once."""
    original = botocore.session.create_loader  # botocore.session imports it by name
    botocore.session.create_loader = _shared_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original


def run(settings: Settings, function_name: str, region: str, handler: str, event: Any) -> Any:
    """`handler` ("package.module.entry") called with `event` as the deployed function would run it, after the
    module's `reset_runtime()`."""
    module, _, entry = handler.rpartition(".")
    with environment(deployed_environment(settings, function_name, region)), _parsed_models_kept():
        handler_module = import_handler(module)
        handler_module.reset_runtime()
        return getattr(handler_module, entry)(event, None)
