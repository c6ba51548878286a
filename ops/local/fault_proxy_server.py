"""The fault proxy process: answers on local.port in front of the emulator (moto on local.port + 3) and forwards
every request to it, except those a region outage fails (`ops.local.fault_proxy`). Loopback only.

python -m ops.local.fault_proxy_server --host 127.0.0.1 --port 4566 --upstream-port 4569

Each client connection is served by its own thread with its own kept-alive connection to the emulator, so many
concurrent clients (Terraform, boto3 pools) are forwarded as they would reach the emulator itself. Control, on the
proxy: `GET /_fault` (the fault and the counts), `PUT /_fault` with {"region", "mode"}, `DELETE /_fault`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ops.local.fault_proxy import (
    CONTROL_PATH,
    TIMEOUT_HOLD_SECONDS,
    BadFault,
    Fault,
    FaultState,
    Scope,
    caller_of,
    credential_scope,
    parse_fault,
    service_unavailable,
)

UPSTREAM_TIMEOUT_SECONDS = 300.0
IDLE_CLIENT_SECONDS = 600.0  # a kept-alive client connection idle this long is closed (with its upstream one)
BLOCK = 64 * 1024
# Headers that describe one hop, not the request or response: each side of the proxy has its own.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"}
)
_NO_BODY_STATUSES = (204, 304)


def _no_delay(sock: socket.socket) -> None:
    """Headers and body go out in separate writes: without this, Nagle + delayed ACKs add ~40 ms per response."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True  # a held `timeout` request never delays the process's exit
    request_queue_size = 1024  # bursts of new connections (Terraform opens dozens at once) are not refused

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], state: FaultState) -> None:
        super().__init__(address, ProxyHandler)
        self.upstream = upstream
        self.state = state


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive towards the client
    timeout = IDLE_CLIENT_SECONDS
    server: ProxyServer
    _upstream: http.client.HTTPConnection | None = None

    def setup(self) -> None:
        super().setup()
        _no_delay(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._drop_upstream()

    def log_message(self, format: str, *args: object) -> None:  # the base class's signature
        pass  # one line per request would cost more than forwarding it; faults and errors are logged below

    def log_error(self, format: str, *args: object) -> None:
        sys.stderr.write(f"fault proxy: {format % args}\n")

    def do_GET(self) -> None:  # http.server dispatches on do_<METHOD>
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        if path == CONTROL_PATH:
            self._control()
            return
        scope = credential_scope(self.headers.get("Authorization"), query)
        fault = self.server.state.decide(scope, caller_of(self.headers.get("User-Agent")))
        if fault is not None and scope is not None:
            self._fail(fault, scope)
            return
        body = self._read_body()
        try:
            response = self._send_upstream(body)
        except (OSError, http.client.HTTPException) as error:
            self._answer(502, {"error": f"the emulator behind the fault proxy did not answer: {error}"})
            return
        self._relay(response)

    # -- failing a request -------------------------------------------------------------------------------------

    def _fail(self, fault: Fault, scope: Scope) -> None:
        if fault.mode == "503":
            self._read_body()  # the connection stays usable for the client's next request
            headers, body = service_unavailable({k.lower(): v for k, v in self.headers.items()}, scope)
            self.send_response_only(503, "Service Unavailable")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        if fault.mode == "timeout":
            self.server.state.wait_for_change(TIMEOUT_HOLD_SECONDS)
        self.close_connection = True  # `refuse`, or a held `timeout`: closed without a byte of answer

    # -- control -----------------------------------------------------------------------------------------------

    def _control(self) -> None:
        state = self.server.state
        if self.command == "PUT":
            try:
                fault = parse_fault(self._read_body())
            except BadFault as error:
                self._answer(400, {"error": f"PUT {CONTROL_PATH}: {error}"})
                return
            state.set(fault)
            self.log_error("fault set: %s %s", fault.region, fault.mode)
        elif self.command == "DELETE":
            self._read_body()
            state.clear()
            self.log_error("fault cleared")
        elif self.command != "GET":
            self._read_body()
            self._answer(405, {"error": f"{self.command} {CONTROL_PATH}: use GET, PUT or DELETE"})
            return
        self._answer(200, state.report())

    def _answer(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # -- forwarding --------------------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _drop_upstream(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None

    def _send_upstream(self, body: bytes) -> http.client.HTTPResponse:
        """Forward the request on this client's upstream connection; one retry on a fresh connection when a kept
        -alive one turns out closed (the emulator never saw the request then)."""
        has_body = body or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        for attempt in range(2):
            reused = self._upstream is not None
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(*self.server.upstream, timeout=UPSTREAM_TIMEOUT_SECONDS)
                self._upstream.connect()
                assert self._upstream.sock is not None
                _no_delay(self._upstream.sock)
            upstream = self._upstream
            try:
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        upstream.putheader(name, value)
                if has_body:
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body or None)
                return upstream.getresponse()
            except (ConnectionError, http.client.BadStatusLine):
                self._drop_upstream()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _relay(self, response: http.client.HTTPResponse) -> None:
        """The emulator's answer to the client as it comes: status, end-to-end headers, body (chunked when the
        emulator gave no length)."""
        no_body = self.command == "HEAD" or response.status in _NO_BODY_STATUSES or response.status < 200
        length = response.getheader("Content-Length")
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        chunked = not no_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        try:
            self.end_headers()
            while not no_body and (block := response.read(BLOCK)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # the client (or the emulator) went away mid-answer
            self._drop_upstream()
            return
        response.read()  # HEAD and friends: nothing, but the response must be finished to reuse the connection
        if response.will_close:
            self._drop_upstream()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback fault proxy in front of the local emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ProxyServer((args.host, args.port), (args.host, args.upstream_port), FaultState())
    sys.stderr.write(f"fault proxy: {args.host}:{args.port} -> {args.host}:{args.upstream_port}\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
