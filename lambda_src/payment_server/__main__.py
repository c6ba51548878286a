"""`python -m lambda_src.payment_server` (from the directory that holds `lambda_src`): serve until SIGTERM.

Exit 0 after a clean stop, 1 if requests were still in flight when the drain timed out, 2 on a bad environment.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from ..payment_processor.logging_setup import get_logger
from .api_keys import ApiKeys
from .server import PaymentServer
from .settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"payment_server: {error}", file=sys.stderr)
        return 2
    server = PaymentServer(settings, ApiKeys.from_secret(settings.api_key_secret_name, settings.region))

    def stop(signum: int, frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log = get_logger()
    host, port = server.server_address[:2]
    log.info("listening", extra={"bind": host, "port": port, "region": settings.region})
    try:
        server.serve_forever()
        drained = server.drain()
    finally:
        server.server_close()
    log.info("stopped", extra={"drained": drained})
    return 0 if drained else 1


if __name__ == "__main__":
    raise SystemExit(main())
