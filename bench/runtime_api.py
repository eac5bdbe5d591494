"""A stand-in for the Lambda Runtime API: hands one event to a fresh runtime and notes when its answer arrives.

AWS's runtime interface client (awslambdaric, what Lambda's Python runtime runs) polls
`GET /2018-06-01/runtime/invocation/next` and posts the answer to `.../invocation/{id}/response`; this
serves exactly that, once, so a benchmark can time a cold start from process start to first answer.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PREFIX = "/2018-06-01/runtime"


class _QuietServer(ThreadingHTTPServer):
    """The benchmark kills each runtime while it polls for a second event; that reset is expected, not news."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class RuntimeApi:
    """One invocation of `event`; `answered` is set with `answer` and `answered_at` (perf_counter) when it comes."""

    def __init__(self, event: dict[str, Any], function_arn: str) -> None:
        self.answer: Any = None
        self.error: Any = None
        self.answered_at = 0.0
        self.answered = threading.Event()
        served = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path != f"{_PREFIX}/invocation/next" or served.is_set():
                    # A second poll: the one invocation is over; the benchmark ends the process now.
                    owner.answered.wait(30)
                    self._send(500, b"{}")
                    return
                served.set()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request-1")
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", function_arn)
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                now = time.perf_counter()
                if self.path.endswith("/response"):
                    owner.answer = json.loads(data or b"null")
                else:
                    owner.error = data.decode("utf-8", "replace")
                owner.answered_at = now
                self._send(202, b"{}")
                owner.answered.set()

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving (after the runtime process is gone)."""
        self.answered.set()
        self._server.shutdown()
        self._server.server_close()
