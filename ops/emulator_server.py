"""The local emulator process: moto's server, with DynamoDB requests applied one at a time.

moto serves every request on its own thread and does not lock items, so two
concurrent conditional PutItems on one key can both succeed (seen with
Terraform's state lock and the payment idempotency write). DynamoDB applies
each request atomically; serializing only DynamoDB calls restores that without
slowing the other services (SQS long polls, for one, must not block the rest).

    python -m ops.emulator_server --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialize_dynamodb(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            # Materialize the body inside the lock: the write happens while the response is produced.
            return list(app(environ, start_response))

    return middleware


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local AWS emulator (moto) for the payments platform")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's own server does; used in generated URLs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]
    run_simple(args.host, args.port, serialize_dynamodb(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
