"""The threading HTTP server: HTTP/1.1 with keep-alive, one thread per connection, a graceful stop.

`stop()` (on SIGTERM) stops accepting, lets the requests in flight finish (at most `DRAIN_SECONDS`, the target
group's deregistration delay) and answers them with `Connection: close`; idle keep-alive connections are dropped
with the process.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .api_keys import ApiKeys
from .exchange import Incoming, Reply, respond
from .settings import ServerSettings

DRAIN_SECONDS = 30.0
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit: larger requests are refused 413
IDLE_SECONDS = 75  # longer than the load balancer's 60 s idle timeout, as AWS advises for targets


class PaymentServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection must not hold the process after a stop
    allow_reuse_address = True
    # The listen backlog: socketserver's default of 5 resets connections that arrive together (a burst of retries,
    # the load balancer opening connections) before the accept loop takes them.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, settings: ServerSettings, keys: ApiKeys) -> None:
        super().__init__((settings.bind, settings.port), Handler)
        self.settings = settings
        self.keys = keys
        self.draining = False
        self._in_flight = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def stop(self) -> None:
        """Stop accepting (callable from a signal handler: the wait for serve_forever runs in a thread)."""
        self.draining = True
        threading.Thread(target=self.shutdown, name="stop", daemon=True).start()

    def drain(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no request is in flight; False if some still were after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)


class BodyTooLarge(ValueError):
    pass


TOO_LARGE = Reply(413, {"Content-Type": "application/json"}, b'{"message": "Request Too Long"}')
BAD_REQUEST = Reply(400, {"Content-Type": "application/json"}, b'{"message": "Bad Request"}')


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "payments"
    sys_version = ""
    timeout = IDLE_SECONDS
    server: PaymentServer

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # every method is routed: API Gateway answers unknown ones itself
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: each request is logged as a JSON line by the code that answers it."""

    def _serve(self) -> None:
        with self.server.in_flight():
            request_id = str(uuid.uuid4())
            try:
                body = self._body()
            except ValueError as error:  # the rest of the body was not read: the connection cannot be reused
                reply = TOO_LARGE if isinstance(error, BodyTooLarge) else BAD_REQUEST
                self.close_connection = True
            else:
                incoming = Incoming(self.command, self.path, self.headers, body)
                reply = respond(self.server.settings, self.server.keys, incoming, request_id)
            self._send(reply)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.server.draining or self.close_connection:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
