"""A stand-in for the payment server in tests of the local stand-in and the client's load balancer path (the real
server, `lambda_src.payment_server`, is tested on its own): it listens where the stand-in's environment says,
answers `HEALTH_PATH` 200 and every other request with what it received and the environment it was started with.

    python -m tests.unit.stand_in_echo
"""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ops.local.processor import BIND_VARIABLE, PORT_VARIABLE
from shared.processor_runtime import HEALTH_PATH

DELAY_HEADER = "X-Test-Delay"
SHOWN = ("API_BASE_PATH", "AWS_ENDPOINT_URL", "AWS_REGION", "MARKER", "PAYMENTS_TABLE", BIND_VARIABLE, PORT_VARIABLE)


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        time.sleep(float(self.headers.get(DELAY_HEADER) or 0))  # a slow server, for the load balancer's timeout
        if self.path == HEALTH_PATH:
            body = b'{"status": "ok"}'
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.dumps(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": self.rfile.read(length).decode() if length else None,
                    "environment": {name: os.environ.get(name) for name in SHOWN},
                    "pid": os.getpid(),
                }
            ).encode()
        self.send_response(200 if self.path == HEALTH_PATH else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    ThreadingHTTPServer((os.environ[BIND_VARIABLE], int(os.environ[PORT_VARIABLE])), Echo).serve_forever()


if __name__ == "__main__":
    main()
