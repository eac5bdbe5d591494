"""An API Gateway look-alike on localhost: each worker process is one Lambda execution environment.

Every worker imports the handler once and serves one request at a time, as Lambda does: its own
module state, its own cached connection. That is why the app is a plain ASGI callable that calls the
handler synchronously: the event loop only parses HTTP and keeps idle keep-alive connections open.
uvicorn (with httptools) does the HTTP; it is well kept and fast, and its workers are processes.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from local import memory
from local.auth import AppSyncRules, LocalGate, Refusal, attach_http, attach_rest, document_access
from local.events import http_api_event, http_response, rest_v1_event
from local.invoke import event_bytes, invoke, new_request_id, payload_limit, too_large
from local.uploads import LARGE_BYTES, MAX_HEADER_BYTES, MAX_REQUEST_BYTES, Uploads, header_bytes

ROOT = Path(__file__).resolve().parent.parent
# LOCAL_SRC_DIR serves another copy of src/ (the reload tests edit a copy, never the real one).
SRC = Path(os.environ.get("LOCAL_SRC_DIR") or ROOT / "src").resolve()
# API Gateway's own request limits (local/uploads.py); under them, Lambda's 6 MiB on the whole event applies.
_TOO_LARGE = b'{"message":"request body is larger than API Gateway\'s 10 MB limit"}'
# A GraphQL body past this size parses into enough objects to be worth giving back (local/memory.py).
_LARGE_QUERY_BYTES = 64 * 1024
_HEADERS_TOO_LARGE = b'{"message":"request line and headers are larger than API Gateway\'s 10240 bytes"}'
_BAD_GATEWAY = b'{"message":"Internal server error"}'
_JSON = [("content-type", "application/json")]
_NO_BODY = (204, 304)  # answers that carry no length (RFC 9110)
_FRAMING = (b"content-length", b"transfer-encoding")
_STATUS_COLOURS = {2: "32", 3: "36", 4: "33", 5: "31"}  # green, cyan, yellow, red
# Routes matched per worker, by method and path: matching runs the route table's regexes (7 µs).
_MATCHES_KEPT = 4096
# Swagger UI's files come from the `swagger-ui-py` package (dev requirements): /docs works offline.
DOCS_PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>API docs (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body>
</html>
"""
_DOCS_ASSETS = {
    "/docs/swagger-ui.css": "text/css; charset=utf-8",
    "/docs/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}


def swagger_ui_dir() -> Path | None:
    """Where the installed swagger-ui-py package keeps Swagger UI's built files (None when absent)."""
    import importlib.util

    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return static if static.is_dir() else None


_pid = os.getpid()  # the worker's, for its access lines (os.getpid() is a system call each time)


def _remember_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_remember_pid)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def use_colour(stream: Any = sys.stderr) -> bool:
    """Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def access_line(
    method: str, path: str, status: int, ms: float, route: str, *, colour: bool = False, ids: str = ""
) -> str:
    """One request in one line: method, path, status, milliseconds, the route function that served it, its ids."""
    shown = str(status)
    if colour:
        shown = f"\033[{_STATUS_COLOURS.get(status // 100, '0')}m{status}\033[0m"
    return f"{method} {path} {shown} {ms:.1f}ms {route}{ids} pid={_pid}"


class LambdaApp:
    """ASGI app that turns each HTTP request into the event the stack's API type sends (REST v1, or HTTP API v2)."""

    def __init__(self, module: str = "lambda_function") -> None:
        self.module_name = module
        self._module: Any = None
        self._graphql: Any = None
        self._openapi: bytes | None = None
        self._colour = use_colour()
        self._timeout: float | None = None
        self._uploads = Uploads()
        self._matches: dict[tuple[str, str], tuple[str, dict[str, str] | None, str, Any]] = {}
        self._access_log = os.environ.get("LOCAL_ACCESS_LOG", "1") != "0"
        self._lines: list[str] = []  # access lines not written yet

    def timeout(self) -> float:
        """The function's `timeoutSeconds` (cdk.json or TIMEOUT_SECONDS), enforced on each invocation."""
        if self._timeout is None:
            from infra.config import project_config

            self._timeout = float(project_config().timeout_seconds)
        return self._timeout

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        """Invoke the handler as Lambda would; a timeout resets this execution environment (the worker).

        `timeout` shortens the function's own (a GraphQL request's last fields get what is left of it).
        """
        seconds = self.timeout() if timeout is None else min(timeout, self.timeout())
        outcome = invoke(self.module().handler, event, seconds)
        if outcome.timed_out:
            self._say(f"function timed out after {seconds:g} s (timeoutSeconds); Lambda resets the environment")
            if os.environ.get("LOCAL_RESET_ON_TIMEOUT") == "1":
                # A graceful stop: the answer in flight is written, then the supervisor starts a fresh worker.
                os.kill(os.getpid(), signal.SIGTERM)
        elif outcome.error:
            self._say(f"handler raised {outcome.error.split(':', 1)[0]}")
        return outcome

    @functools.cached_property
    def gate(self) -> LocalGate:
        """The stack's `auth` (cdk.json, AUTH), applied as API Gateway and AppSync would."""
        return LocalGate.from_project()

    @functools.cached_property
    def http_api(self) -> bool:
        """The stack's `apiType` is `http`: requests reach the function as HTTP API (payload 2.0) events."""
        from infra.config import project_config

        return project_config().api_type == "http"

    @functools.cached_property
    def cors_origins(self) -> tuple[str, ...]:
        """The stack's `corsOrigins` (cdk.json or CORS_ORIGINS): preflight is answered for them."""
        from infra.config import project_config

        return project_config().cors_origins

    def module(self) -> Any:
        """The Lambda module, imported on first use in this worker (its cold start)."""
        if self._module is None:
            if str(SRC) not in sys.path:
                sys.path.insert(0, str(SRC))
            use_function_environment()
            os.environ["AUTH"] = self.gate.mode  # as the stack sets it on the function
            if self.cors_origins:
                os.environ.setdefault("CORS_ALLOW_ORIGIN", self.cors_origins[0])
            self._module = importlib.import_module(self.module_name)
        return self._module

    def router(self) -> Any:
        """The Lambda module's router: its public `match` and `routes` are all the server reads."""
        return self.module().router

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str] | None, str, Any]:
        """The resource and path parameters API Gateway would report, the route function's name, and its record.

        Kept per method and path: a worker's routes do not change (an edit restarts the workers).
        """
        key = (method, path)
        matched = self._matches.get(key)
        if matched is None:
            found = self.router().match(method, path)
            if found.route is None:
                matched = ("/{proxy+}", None, "-", None)
            else:
                matched = (found.route.path.text, found.path_parameters, found.route.function, found.route)
            if len(self._matches) >= _MATCHES_KEPT:
                self._matches.clear()
            self._matches[key] = matched
        resource, parameters, function, route = matched
        # The event's own copy of the path parameters: a handler may change what it was given.
        return resource, None if parameters is None else dict(parameters), function, route

    def graphql(self) -> Any:
        """The AppSync look-alike for this worker, built on first use from SRC/schema.graphql."""
        if self._graphql is None:
            from local.graphql import GraphqlEndpoint
            from local.graphql_limits import GraphqlLimits

            routes = self.router().routes.graphql
            self._graphql = GraphqlEndpoint(SRC / "schema.graphql", self.invoke, routes, GraphqlLimits.from_project())
            if self.gate.mode != "none" or self.gate.api_keys:
                self._graphql.use_auth(AppSyncRules.from_project(self._graphql.sdl))
            if self._graphql.unknown:
                self._say(f"graphql: routes with no field in schema.graphql: {', '.join(self._graphql.unknown)}")
        return self._graphql

    def _serve_docs(self, path: str) -> tuple[int, list, bytes, str]:
        """`/openapi.json` (the routes' OpenAPI 3.1, lambdakit/openapi.py) and `/docs` (Swagger UI on it)."""
        if path == "/docs":
            return 200, [("content-type", "text/html; charset=utf-8")], DOCS_PAGE, "docs"
        if path in _DOCS_ASSETS:
            static = swagger_ui_dir()
            if static is None:
                message = b'{"message":"Swagger UI is not installed: pip install -r requirements-dev.txt"}'
                return 404, _JSON, message, "docs"
            return 200, [("content-type", _DOCS_ASSETS[path])], (static / Path(path).name).read_bytes(), "docs"
        if self._openapi is None:
            from lambdakit.openapi import client_document

            document = client_document(self.router().routes, title=api_title(), access=document_access())
            self._openapi = json.dumps(document, indent=2).encode()
        return 200, _JSON, self._openapi, "openapi"

    def _warm_graphql(self) -> None:
        """Build the schema at start-up, so the first GraphQL request is not the slow one."""
        if (SRC / "schema.graphql").is_file():
            try:
                self.graphql()
            except Exception as exc:  # the request that needs it reports it; plain REST still works
                self._say(f"graphql: cannot load src/schema.graphql: {exc}")

    def _serve_graphql(
        self, method: str, headers: list[tuple[str, str]], body: bytes, scope: dict
    ) -> tuple[int, list, bytes, str]:
        if not (SRC / "schema.graphql").is_file():
            return 404, _JSON, b'{"message":"no GraphQL here: src/schema.graphql does not exist"}', "-"
        if method != "POST":
            message = b'{"message":"send GraphQL as POST with a JSON body {query, variables}"}'
            return 405, [*_JSON, ("allow", "POST")], message, "-"
        try:
            endpoint = self.graphql()
        except Exception as exc:  # a broken schema is the developer's to fix: say what is wrong
            message = json.dumps({"message": f"src/schema.graphql: {exc}"}).encode()
            return 500, _JSON, message, "-"
        status, answer, fields = endpoint.answer(body, dict(headers), scope=scope)
        route = "graphql " + (",".join(self._graphql_functions(fields)) or "-")
        return status, _JSON, json.dumps(answer, separators=(",", ":")).encode(), route

    def _graphql_functions(self, fields: list[str]) -> list[str]:
        table = self.router().routes
        names = []
        for field in dict.fromkeys(fields):
            route = table.graphql_route(*field.split(".", 1))
            names.append(route.function if route else field)
        return names

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    memory.keep_large_blocks_returnable()
                    self.module()
                    self._warm_graphql()
                    self.gate.warm()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self._flush_access()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        # A REST route's event cannot take a body past Lambda's payload limit: past it, only its size is kept.
        keep = MAX_REQUEST_BYTES if path == "/graphql" else payload_limit()
        upload = await self._uploads.read(receive, keep)
        try:
            status, headers, data, route, ids = self._answer(method, path, scope, upload)
            # API Gateway sends an answer's length, whatever the function set (uvicorn would send chunks).
            sized = status not in _NO_BODY and method != "HEAD"
            dropped = _FRAMING if sized else ()
            raw = [(n, v.encode("latin-1")) for k, v in headers if (n := k.lower().encode("latin-1")) not in dropped]
            if sized:
                raw.append((b"content-length", str(len(data)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": data})
        finally:
            upload.release()
        # A large body or answer, or a large GraphQL request (its parsed query is many small objects).
        if upload.large or len(data) > LARGE_BYTES or (path == "/graphql" and upload.size > _LARGE_QUERY_BYTES):
            del upload, data
            memory.give_back()
        if self._access_log:
            elapsed = (time.perf_counter() - started) * 1000
            self._access(access_line(method, path, status, elapsed, route, colour=self._colour, ids=ids))

    def _answer(self, method: str, path: str, scope: dict, upload: Any) -> tuple[int, list, bytes, str, str]:
        """Status, headers, body, the route function that served it, and its ids, for one HTTP request."""
        body = upload.data
        route = "-"
        ids = ""  # the request ids every log line of the request carries, as on Lambda
        headers_in = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        if header_bytes(scope) > MAX_HEADER_BYTES:
            status, headers, data = 431, _JSON, _HEADERS_TOO_LARGE
        elif upload.over_gateway_limit:
            status, headers, data = 413, _JSON, _TOO_LARGE
        elif path == "/graphql":
            status, headers, data, route = self._serve_graphql(method, headers_in, body, scope)
        else:
            resource, path_parameters, route, record = self._match(method, path)
            decision = self.gate.request(record, scope, headers_in, body)
            if route == "-" and method == "GET" and (path in ("/openapi.json", "/docs") or path in _DOCS_ASSETS):
                status, headers, data, route = self._serve_docs(path)
            elif method == "OPTIONS" and self.cors_origins and record is None:
                # The REST stack answers preflight with a mock, before any authorizer: so does this server.
                status, headers, data, route = 204, preflight_headers(self.cors_origins[0]), b"", "cors"
            elif isinstance(decision, Refusal):  # API Gateway's answer: the function never runs
                status, headers, data = decision.status, _JSON, json.dumps({"message": decision.message}).encode()
            elif not upload.kept_all:
                message = (
                    f"request too large: its Lambda event is more than {upload.size} bytes (its body alone),"
                    f" Lambda takes under {payload_limit()}"
                )
                status, headers, data = 413, _JSON, json.dumps({"message": message}).encode()
            else:
                event = self._event(
                    scope, headers_in, body, resource=resource, path_parameters=path_parameters, identity=decision
                )
                if too_large(event):
                    size = event_bytes(event)
                    message = (
                        f"request too large: its Lambda event is {size} bytes, Lambda takes under {payload_limit()}"
                    )
                    status, headers, data = 413, _JSON, json.dumps({"message": message}).encode()
                else:
                    outcome = self.invoke(event)
                    gateway_id = event["requestContext"]["requestId"]
                    ids = f" correlation_id={gateway_id} function_request_id={outcome.request_id}"
                    if outcome.timed_out or outcome.error:
                        status, headers, data = 502, _JSON, _BAD_GATEWAY  # what API Gateway answers for both
                    else:
                        status, headers, data = http_response(outcome.result)
        return status, headers, data, route, ids

    def _event(
        self,
        scope: dict,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        resource: str,
        path_parameters: dict[str, str] | None,
        identity: Any,
    ) -> dict[str, Any]:
        """The event the stack's API type hands the function: REST (v1), or an HTTP API's payload 2.0."""
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        common = {
            "path_parameters": path_parameters,
            "source_ip": (scope.get("client") or ("127.0.0.1", 0))[0],
            "request_id": new_request_id(),
        }
        if self.http_api:
            route_key = "ANY /{proxy+}" if resource == "/{proxy+}" else f"{method} {resource}"
            event = http_api_event(method, path, query, headers, body, route_key=route_key, **common)
            return attach_http(event, identity)
        event = rest_v1_event(method, path, query, headers, body, resource=resource, **common)
        return attach_rest(event, identity)

    def _access(self, line: str) -> None:
        """Keep an access line; the lines of the next 50 ms are written together.

        A write to the terminal or pipe is the dearest part of a line: under load one write serves many
        requests, and a line still shows within 50 ms. The lines wait here, not in sys.stderr's buffer,
        which PYTHONUNBUFFERED (set by many IDEs and container images) turns into one write per line.
        """
        self._lines.append(line)
        if len(self._lines) == 1:
            import asyncio  # loaded already: uvicorn runs on it

            asyncio.get_running_loop().call_later(0.05, self._flush_access)

    def _say(self, line: str) -> None:
        """A message of the server's own, after the access lines still waiting, so the log keeps its order."""
        self._flush_access()
        _log(line)

    def _flush_access(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # the stream went away (the server is stopping)
            pass


app = LambdaApp()


def serve(port: int, workers: int, host: str = "127.0.0.1", sock: socket.socket | None = None) -> None:
    """Run the API on host:port with `workers` execution environments (blocks until Ctrl-C).

    `sock` is a socket that is already listening: the reloader keeps one open across restarts, so
    requests that arrive while the workers restart wait in its backlog instead of being refused.
    """
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "http": "local.one_write:OneWriteHttpToolsProtocol",  # httptools; an answer's head and body in one write
        "loop": "local.event_loop:new_event_loop",  # a client's connections spread over the workers
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        # API Gateway's sourceIp is the peer's address, whatever X-Forwarded-For a client sends, and its
        # answers carry no `server` header: uvicorn would take the first from a local client and add the second.
        "proxy_headers": False,
        "server_header": False,
    }
    if sock is None:
        # Not uvicorn's own socket: it is made without IPPROTO_TCP, so asyncio leaves Nagle on for the
        # connections it accepts, and each answer (head and body written apart) waits ~40 ms for the
        # client's delayed ACK: about 20 requests a second per connection instead of thousands.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    from uvicorn.supervisors import Multiprocess

    from local import background

    config = uvicorn.Config("local.server:app", **options)
    consuming = background.start(SRC, app.timeout())  # queues and schedules: one more environment beside these
    try:
        if workers > 1:
            # Workers are restarted by the supervisor, so a timed-out one can go, as a Lambda environment does.
            os.environ["LOCAL_RESET_ON_TIMEOUT"] = "1"
            Multiprocess(config, sockets=[sock]).run()
        else:
            # One worker runs in this process (an IDE's breakpoints hit); after a timeout it is kept.
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn has already stopped gracefully; it raises Ctrl-C again for its caller, which this is.
        _log("stopped")
    finally:
        background.stop(consuming)


def use_function_environment() -> None:
    """What the stack sets on the function and a local run needs too, unless the shell set it already.

    The service name (every log line's `service`). Metric lines and X-Ray subsegments are for CloudWatch
    and X-Ray, which are not here: off, so they cost nothing and print nothing, unless asked for with
    POWERTOOLS_METRICS_DISABLED=false or POWERTOOLS_TRACE_DISABLED=false (Powertools' own switches).
    """
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", api_title())
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def preflight_headers(origin: str) -> list[tuple[str, str]]:
    """What the REST stack's OPTIONS mock answers (lambdakit/openapi.py), as HTTP headers."""
    from lambdakit.openapi import CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS

    return [
        ("access-control-allow-origin", origin),
        ("access-control-allow-methods", CORS_ALLOW_METHODS),
        ("access-control-allow-headers", CORS_ALLOW_HEADERS),
    ]


def api_title() -> str:
    """The API's name in documents and banners: the stack's `serviceName` (cdk.json or SERVICE_NAME)."""
    from infra.config import project_config

    return project_config().service_name


def banner(host: str, port: int, workers: int, database: str, reload: bool) -> str:
    """What the developer needs first: where the API answers, its routes, and which database it uses."""
    base = f"http://{host}:{port}"
    lines = [
        f"serving the Lambda on {base}  ({workers} workers, each one request at a time, like Lambda)",
        f"  REST      {_routes_line(base)}",
        f"  GraphQL   POST {base}/graphql",
        f"  OpenAPI   {base}/openapi.json    Swagger UI {base}/docs",
        f"  database  {database}",
        f"  auth      {_auth_line()}",
        f"  reload    {'on: edits to ' + _shown(SRC) + ' restart the workers' if reload else 'off'}",
        *_background_lines(),
    ]
    lines += [f"  warning   {line}" for line in unincluded_lines()]
    return "\n".join(lines)


def unincluded_lines(src: Path = SRC) -> list[str]:
    """One line per route module of `src` that nothing includes: never served, here or deployed."""
    from infra.route_check import unincluded_modules
    from infra.routes import RouteError, scan_routes

    lambda_file = src / "lambda_function.py"
    try:
        return [module.message(lambda_file) for module in unincluded_modules(scan_routes(lambda_file))]
    except RouteError:
        return []  # a module that cannot be read: the import of the workers reports it, with its traceback


def _auth_line() -> str:
    """What a request needs, as the stack's `auth` says (the first thing a 401 makes one look for)."""
    mode = LocalGate.from_project().mode
    if mode in ("cognito", "jwt"):
        return f'{mode}: -H "Authorization: Bearer $(python run_local.py token --user you --groups staff)"'
    if mode == "iam":
        return 'iam: sign with the local keys, eval "$(python run_local.py credentials)"'
    return "none: every route is public (AUTH=none)"


def _routes_line(base: str) -> str:
    """The REST routes as the scanner reads them from the source (nothing is imported for the banner)."""
    from infra.routes import RouteError, scan_routes

    try:
        rest = scan_routes(SRC / "lambda_function.py").rest
    except RouteError as exc:
        return f"{base}  (routes not readable yet: {exc})"
    if not rest:
        return f"{base}  (no REST routes yet)"
    shown = ", ".join(f"{r.method} {r.path.text}" for r in rest[:4])
    more = f", and {len(rest) - 4} more" if len(rest) > 4 else ""
    return f"{base}  {shown}{more}"


def _background_lines() -> list[str]:
    """The jobs (with their timetable) and the queues (with their consumer), as the scanner reads them."""
    from infra.routes import RouteError, scan_routes
    from lambdakit.outbox import scheduled_jobs
    from local.background import schedules_on

    try:
        routes = scan_routes(SRC / "lambda_function.py")
    except RouteError:
        return []
    lines = []
    jobs = scheduled_jobs(routes.jobs, bool(routes.queues))
    if jobs:
        shown = ", ".join(f"{j.name} {j.expression}{' ' + j.timezone if j.timezone else ''}" for j in jobs)
        state = "on their timetable (SCHEDULES=off to stop)" if schedules_on() else "off (SCHEDULES=off)"
        lines.append(f"  jobs      {shown}; {state}; one now: make run-local JOB=name")
    for consumer in routes.queues:
        lines.append(
            f"  queue     {consumer.queue} -> {consumer.function}() (batches of {consumer.batch_size},"
            f" dead-lettered after {consumer.max_receives} tries)"
        )
    return lines


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) + "/"
    except ValueError:
        return str(path) + "/"


def main(argv: list[str] | None = None) -> int:
    """`python -m local.server --fd N`: the worker pool the reloader starts on its listening socket."""
    parser = argparse.ArgumentParser(prog="python -m local.server")
    parser.add_argument("--fd", type=int, required=True, help="a listening socket inherited from the reloader")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd)  # family and type are read from the descriptor
    host, port = sock.getsockname()[:2]
    serve(port, args.workers, host, sock=sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
