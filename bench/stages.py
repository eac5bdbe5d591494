"""What one request costs, stage by stage, measured inside real requests to the local server's app.

The local server's ASGI app is driven in this process (no sockets: uvicorn's HTTP parsing is not in
these figures, `serve_vs_bare` measures that floor under load) with this process and the database's
backends on one CPU. Each stage is a function of the request path; for the profile it is wrapped with
a timer in the module that calls it, so a stage is timed where it runs, among the others, with the
caches as a request leaves them (a stage called alone in a loop looks up to three times cheaper).
A stage's time excludes the stages it calls; what no stage covers (the ASGI call, the router's and the
server's own lines) is `glue`. The wrappers' own cost, calibrated, is taken off each stage.

    python -m bench.stages            print the profile of a signed-in GET and POST /widgets
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from bench.common import SRC, bench_database, lambda_module, one_cpu, socket_url, write_src

# The signed-in caller of the profile: what `make serve` with its default `auth` (cognito) sees.
_USER, _GROUPS = "bench", ("staff",)
_NEW_WIDGET = {"name": "Bench", "maker": "Mark", "status": "listed"}

# (module, attribute path, stage). The module is the one whose code calls the stage, so the wrapper is
# what that code finds; a stage the checkout does not have is left out (the profile runs on older ones).
SERVER_STAGES = (
    ("local.server", "LambdaApp._match", "route matched"),
    ("local.auth", "LocalGate.request", "gate: bearer token checked"),
    ("local.server", "rest_v1_event", "event built"),
    ("local.server", "attach_rest", "identity put in the event"),
    ("local.server", "too_large", "event size counted (Lambda's payload limit)"),
    ("local.server", "invoke", "invocation: timeout, request id, context"),
    ("local.server", "http_response", "answer written as HTTP"),
    ("local.server", "LambdaApp._access", "access log line"),
    ("local.server", "access_line", "access log line"),
    ("local.server", "_log", "access log line"),
)
HANDLER_STAGES = (
    ("lambdakit.router", "Router.handle", "router: event read, steps called, errors caught"),
    ("lambdakit.observability", "start_request", "request ids"),
    ("lambdakit.proxy", "resolve", "route resolved"),
    ("lambdakit.router", "authorize", "caller and groups checked"),
    ("lambdakit.proxy", "inputs", "inputs read (query, path, body)"),
    ("lambdakit.proxy", "_parse_body", "inputs read (query, path, body)"),
    ("lambdakit.router", "Endpoint.call", "inputs bound, route called"),
    ("lambdakit.validation", "validate", "body validated (JSON Schema)"),
    ("db_utils", "_run", "@transaction and the route's own lines"),
    ("db_utils", "DictCursor.execute", "SQL sent, answer read (driver, database)"),
    ("db_utils", "TrackedConnection.commit", "SQL sent, answer read (driver, database)"),
    ("db_utils", "DictCursor.fetchone", "row typed by the driver, as a dict"),
    ("lambdakit.proxy", "dumps", "row to JSON"),
    ("lambdakit.proxy", "success", "answer built (status, headers)"),
)
GLUE = "glue (ASGI call, router, server lines)"
TOTAL = "request, in-process"


class _Timers:
    """Exclusive time per stage: a stage's own time, less the stages it calls."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack = [0.0]

    def wrap(self, fn: Any, stage: str) -> Any:
        clock, stack, spent, calls = time.perf_counter, self._stack, self.spent, self.calls

        def timed(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = clock() - start
                inner = stack.pop()
                spent[stage] += elapsed - inner
                calls[stage] += 1
                stack[-1] += elapsed

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed

    def reset(self) -> None:
        self.spent.clear()
        self.calls.clear()
        self._stack[:] = [0.0]


def _resolve(module_name: str, path: str) -> tuple[Any, str] | None:
    """(object holding the attribute, attribute name), or None when this checkout has no such stage."""
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
    if owner is None or not hasattr(owner, name):
        return None
    return owner, name


@contextlib.contextmanager
def _wrapped(timers: _Timers, stages: tuple[tuple[str, str, str], ...]) -> Iterator[list[str]]:
    """Every stage found wrapped with a timer while the block runs; yields the stages found."""
    undo, found = [], []
    for module_name, path, stage in stages:
        target = _resolve(module_name, path)
        if target is None:
            continue
        owner, name = target
        # On a class, the function itself (a method it inherits from C is wrapped, then removed again).
        own = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)
        if isinstance(own, (staticmethod, classmethod)):
            continue
        setattr(owner, name, timers.wrap(own if own is not None else getattr(owner, name), stage))
        undo.append((owner, name, own))
        found.append(stage)
    try:
        yield list(dict.fromkeys(found))
    finally:
        for owner, name, own in reversed(undo):
            if own is None:
                delattr(owner, name)
            else:
                setattr(owner, name, own)


class _Asgi:
    """Drives the local server's ASGI app in this process: one request shape, no sockets."""

    def __init__(self, app: Any, scope: dict, body: bytes = b"") -> None:
        self.app, self.scope, self.body, self.status = app, scope, body, 0
        self.loop = asyncio.new_event_loop()

    async def _receive(self) -> dict:
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def _send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]

    async def _many(self, count: int) -> None:
        for _ in range(count):
            await self.app(self.scope, self._receive, self._send)

    def start(self) -> None:
        """The app's start-up (the handler's import, the gate's key), as a worker runs it."""
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

        async def receive() -> dict:
            return messages.pop(0)

        async def send(message: dict) -> None:
            return None

        self.loop.run_until_complete(self.app({"type": "lifespan"}, receive, send))

    def requests(self, count: int) -> float:
        """Seconds per request for `count` requests one after another."""
        start = time.perf_counter()
        self.loop.run_until_complete(self._many(count))
        return (time.perf_counter() - start) / count


def _server_app(url: str) -> Any:
    """The local server's app on the bench's source, signed-in callers required (the template's `auth`)."""
    os.environ.update({"LOCAL_SRC_DIR": str(SRC), "STACK_AUTH": "cognito", "LOCAL_ACCESS_LOG": "1", "NO_COLOR": "1"})
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    lambda_module(url)  # the bench's source first on the path, the function's variables as the bench sets them
    from local import server

    return server.LambdaApp()


def _scope(method: str, path: str, token: str, body: bytes) -> dict:
    headers = [(b"host", b"127.0.0.1:3000"), (b"user-agent", b"wrk"), (b"authorization", f"Bearer {token}".encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
    }


def _calibrate(timers: _Timers, calls: int = 20_000) -> float:
    """Seconds a wrapper adds to one call (taken off each stage)."""

    def nothing() -> None:
        return None

    wrapped = timers.wrap(nothing, "calibration")
    costs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            nothing()
        bare = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            wrapped()
        costs.append((time.perf_counter() - start - bare) / calls)
    timers.reset()
    return max(0.0, statistics.median(costs))


def profile(url: str, requests: int = 2000, rounds: int = 5) -> dict[str, Any]:
    """Each stage's µs in a signed-in GET /widgets/1 and POST /widgets, medians of `rounds` runs of `requests`."""
    app = _server_app(url)
    from local.tokens import issue_token

    token = issue_token(_USER, _GROUPS)
    body = json.dumps(_NEW_WIDGET).encode()
    drivers = {
        "GET /widgets/1": _Asgi(app, _scope("GET", "/widgets/1", token, b"")),
        "POST /widgets": _Asgi(app, _scope("POST", "/widgets", token, body), body),
    }
    timers = _Timers()
    overhead = _calibrate(timers)
    # The access log is on, as `make serve` has it; its lines go nowhere.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        drivers["GET /widgets/1"].start()
        for name, driver in drivers.items():
            driver.requests(max(50, requests // 10))  # warm
            if driver.status >= 300:
                raise RuntimeError(f"{name} answered {driver.status}")
        unwrapped: dict[str, list[float]] = {name: [] for name in drivers}
        samples: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in drivers}
        for _ in range(rounds):  # plain and timed runs alternate, so a busy spell of the machine hits both
            for name, driver in drivers.items():
                unwrapped[name].append(driver.requests(requests))
            with _wrapped(timers, SERVER_STAGES + HANDLER_STAGES) as found:
                for name, driver in drivers.items():
                    timers.reset()
                    seconds = driver.requests(requests)
                    calls = sum(timers.calls.values()) / requests
                    samples[name][GLUE].append(max(0.0, seconds - sum(timers.spent.values()) / requests))
                    samples[name][GLUE][-1] = max(0.0, samples[name][GLUE][-1] - overhead * calls)
                    for stage in found:
                        if not timers.calls[stage]:
                            continue  # not a stage of this request (no body to validate on a GET)
                        per_call = timers.calls[stage] / requests
                        spent = timers.spent[stage] / requests - overhead * per_call
                        samples[name][stage].append(max(0.0, spent))
    result: dict[str, Any] = {"order": [], "us": {}}
    for name in drivers:
        stages = {stage: statistics.median(values) * 1e6 for stage, values in samples[name].items()}
        stages[GLUE] = stages.pop(GLUE)
        stages[TOTAL] = statistics.median(unwrapped[name]) * 1e6  # without the timers
        result["us"][name] = {stage: round(us, 1) for stage, us in stages.items()}
    seen = [stage for _, _, stage in SERVER_STAGES + HANDLER_STAGES]
    result["order"] = [*dict.fromkeys(s for s in seen if any(s in us for us in result["us"].values())), GLUE, TOTAL]
    return result


def table(profiled: dict[str, Any]) -> str:
    """The profile as a Markdown table: one row per stage, a column per request."""
    names = list(profiled["us"])
    rows = ["| stage | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for stage in profiled["order"]:
        shown = []
        for name in names:
            us = profiled["us"][name].get(stage)
            shown.append("-" if us is None else f"{us:.1f} µs")
        label = f"**{stage}**" if stage == TOTAL else stage
        rows.append(f"| {label} | " + " | ".join(shown) + " |")
    return "\n".join(rows)


def main() -> int:
    """Profile on a bench database of its own and print the table."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    write_src()
    with bench_database() as server, one_cpu(server):
        profiled = profile(socket_url(server))
    print(table(profiled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
