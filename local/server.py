"""An API Gateway look-alike on localhost: each worker process is one Lambda execution environment.

Every worker imports the handler once and serves one request at a time, as Lambda does: its own
module state, its own cached connection. That is why the app is a plain ASGI callable that calls the
handler synchronously: the event loop only parses HTTP and keeps idle keep-alive connections open.
uvicorn (with httptools) does the HTTP; it is well kept and fast, and its workers are processes.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from local.events import LambdaContext, http_response, rest_v1_event

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
MAX_REQUEST_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
_TOO_LARGE = b'{"message":"request body is larger than 6 MB"}'


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class LambdaApp:
    """ASGI app that turns each HTTP request into a REST v1 event for `lambda_function.handler`."""

    def __init__(self, module: str = "lambda_function") -> None:
        self.module_name = module
        self._module: Any = None

    def module(self) -> Any:
        """The Lambda module, imported on first use in this worker (its cold start)."""
        if self._module is None:
            if str(SRC) not in sys.path:
                sys.path.insert(0, str(SRC))
            self._module = importlib.import_module(self.module_name)
        return self._module

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str] | None]:
        """The resource and path parameters API Gateway would report for this request."""
        router = getattr(self.module(), "router", None)
        for route in getattr(router, "_rest", ()):
            found = route.pattern.match(path)
            if found and route.method == method:
                return route.path, found.groupdict()
        return "/{proxy+}", None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.module()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        body, too_large = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        if too_large:
            status, headers, data = 413, [("content-type", "application/json")], _TOO_LARGE
        else:
            headers_in = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            resource, path_parameters = self._match(method, path)
            event = rest_v1_event(
                method,
                path,
                scope.get("query_string", b"").decode("latin-1"),
                headers_in,
                body,
                resource=resource,
                path_parameters=path_parameters,
                source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            )
            try:
                result = self.module().handler(event, LambdaContext())
            except Exception as exc:  # an unhandled error in Lambda becomes API Gateway's 502
                _log(f"handler raised {type(exc).__name__}")
                result = None
            status, headers, data = http_response(result)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": data})
        if os.environ.get("LOCAL_ACCESS_LOG", "1") != "0":
            elapsed = (time.perf_counter() - started) * 1000
            _log(f"{method} {path} {status} {elapsed:.1f}ms pid={os.getpid()}")


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_REQUEST_BYTES:
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), size > MAX_REQUEST_BYTES


app = LambdaApp()


def serve(port: int, workers: int, host: str = "127.0.0.1") -> None:
    """Run the API on host:port with `workers` execution environments (blocks until Ctrl-C)."""
    import uvicorn

    uvicorn.run(
        "local.server:app",
        host=host,
        port=port,
        workers=workers,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )
