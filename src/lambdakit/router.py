"""Decorator routes for REST (API Gateway v1 and v2), GraphQL (AppSync) and direct invokes.

Registration writes route records of the route model (routemodel.py), the same records the stack's
scanner builds from the source and both OpenAPI documents are written from. A request reads in one
direction: the event is read into a route and an `Incoming` (lambdakit.proxy, lambdakit.request), the
caller is checked (lambdakit.authorization), the inputs are bound (lambdakit.binding), the function is
called, and its result is written as the source's answer. Errors follow one policy (`_failure`): an
ApiError is the client's answer, anything else a logged 500 that never shows a stack trace or SQL.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lambdakit import deadline, observability, proxy
from lambdakit.authorization import authorize
from lambdakit.binding import Binding, spec_of
from lambdakit.errors import ApiError, BadRequest, InternalError, MethodNotAllowed, NotFound
from lambdakit.jsonio import snakify, to_plain
from lambdakit.log import logger
from lambdakit.request import Incoming
from lambdakit.response import Response
from lambdakit.routemodel import (
    DirectRoute,
    GraphqlRoute,
    Match,
    QueueConsumer,
    RestRoute,
    RouteError,
    RouteTable,
    ScheduledJob,
    check_direct,
    check_graphql,
    check_inputs,
    check_queue,
    check_rest,
    check_schedule,
    direct_route,
    graphql_route,
    queue_consumer,
    rest_route,
    scheduled_job,
)

_DECLARED = ("body", "response", "params", "summary", "auth", "groups", "scopes")
_MARK = "__lambdakit_endpoint__"


class Endpoint:
    """One route function, however many routes serve it: the callable to call, its spec and binding.

    The callable is what the function's module finally binds to its name, so a decorator written
    above the route decorators (`@transaction`, or any that keeps `__wrapped__`) wraps what is served,
    as one written below them does.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.declared: dict[str, Any] = {}
        self.registrations: list[tuple[str, tuple, dict[str, Any]]] = []
        self._build(fn)

    @staticmethod
    def of(fn: Callable[..., Any]) -> Endpoint:
        """The endpoint of `fn`, made on its first route decorator and found again by the next ones."""
        endpoint = getattr(fn, _MARK, None)
        if not isinstance(endpoint, Endpoint):
            endpoint = Endpoint(fn)
            setattr(fn, _MARK, endpoint)
        return endpoint

    @property
    def name(self) -> str:
        """The function's name, as records and logs show it."""
        return self.fn.__name__

    @property
    def where(self) -> str:
        """file:line of the function, for error messages."""
        code = getattr(inspect.unwrap(self.fn), "__code__", None)
        return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}" if code else self.name

    def declare(self, declared: Mapping[str, Any]) -> None:
        """Schemas and docs given on a route decorator; one function declares each at most once."""
        changed = False
        for key, value in declared.items():
            if value is None:
                continue
            # groups=[...]: compared and stored as the route model stores them
            stored = tuple(value) if isinstance(value, list) else value
            if key in self.declared and self.declared[key] != stored:
                raise RouteError(f"{self.where}: {key}= is declared twice on {self.name}() with different values")
            changed = changed or self.declared.get(key) != stored
            self.declared[key] = stored
        if changed:
            # The routes registered before this declaration are checked again with it, now, at import.
            self._build(self.target)
            for kind, args, options in self.registrations:
                self.record(kind, args, options)

    def resolve(self) -> None:
        """Serve what the module binds to the function's name once it is imported (see the class)."""
        final = _final(self.fn)
        if final is not self.target:
            self._build(final)

    def _build(self, target: Callable[..., Any]) -> None:
        self.target = target
        self.spec = spec_of(target, **{k: v for k, v in self.declared.items() if k in _DECLARED})
        self.binding = Binding(self.spec)

    def record(
        self, kind: str, args: tuple, options: dict[str, Any]
    ) -> RestRoute | GraphqlRoute | DirectRoute | ScheduledJob | QueueConsumer:
        """The record of one registration; RouteError naming the function's file and line when it cannot be."""
        common = {"module": self.fn.__module__, "spec": self.spec, "where": self.where}
        try:
            if kind == "rest":
                return rest_route(*args, self.name, **options, **common)
            if kind == "graphql":
                return graphql_route(*args, self.name, **common)
            if kind == "schedule":
                expression, name = args
                return scheduled_job(name or self.name, expression, self.name, **options, **common)
            if kind == "queue":
                return queue_consumer(*args, self.name, **options, **common)
            return direct_route(*args, self.name, **common)
        except RouteError as exc:
            raise RouteError(f"{self.where}: {exc}") from None

    def call(self, inputs: dict[str, Any], incoming: Incoming) -> Any:
        """Call the function with its inputs bound to its parameters, and the caller or request where it asks."""
        kwargs = self.binding.bind(inputs)
        for param in self.binding.injected:
            kwargs[param.name] = incoming.caller if param.type == "caller" else incoming.request
        return self.target(**kwargs)

    def answer(self, arguments: Any, name: str, incoming: Incoming) -> Any:
        """Check, bind and call for a GraphQL field or a direct invoke, whose inputs come as one object (`name`)."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise BadRequest(f"{name}: must be an object")
        authorize(self.spec, incoming)
        result = self.call(snakify(arguments), incoming)
        return to_plain(result.body if isinstance(result, Response) else result)


def _final(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What the module of a module-level function binds to its name: a wrapper of `fn` (`__wrapped__`), else `fn`."""
    inner = inspect.unwrap(fn)
    if inner.__qualname__ != inner.__name__ or not hasattr(inner, "__globals__"):
        return fn  # defined inside another function: no module-level name to look up
    bound = inner.__globals__.get(fn.__name__)
    wrapped = bound
    while wrapped is not None and wrapped is not fn:
        wrapped = getattr(wrapped, "__wrapped__", None)
    return bound if wrapped is fn else fn  # type: ignore[return-value]


class Router:
    """Collects routes from decorators (and from other routers it includes) and dispatches any Lambda event."""

    def __init__(self) -> None:
        self._registrations: list[tuple[Endpoint, str, tuple, dict[str, Any]]] = []
        # This router's own routes as registered, for the checks made at import (clashes, path names).
        self._registered = RouteTable()
        self._included: list[Router] = []
        self._parents: list[Router] = []
        self._table: RouteTable | None = None
        self._endpoints: dict[tuple[str, Any], Endpoint] = {}

    # -- decorators -------------------------------------------------------------------------------
    def rest(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        body: Mapping[str, Any] | None = None,
        response: Mapping[str, Any] | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        summary: str | None = None,
        auth: str | None = None,
        groups: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
    ) -> Callable[[Callable], Callable]:
        """Serve `fn` for an API Gateway method and path (`/students/{studentId}`, `/files/{path+}`).

        `status` is the success code; `body` and `response` are JSON Schemas (Python names) of the
        request body and the answer; `params` adds constraints to parameters (`{"limit": {"maximum": 100}}`).
        `auth` overrides the stack's default ("none": public, "iam": SigV4 only); a caller needs one
        of `groups` and one of `scopes` when given (the function checks them too: 401/403).
        """
        check_rest(method, path, status)  # a malformed route fails here, at import
        declared = {"body": body, "response": response, "params": params, "summary": summary}
        declared |= {"auth": auth, "groups": groups, "scopes": scopes}
        return self._register("rest", (method, path), {"status": status}, declared)

    def graphql(
        self,
        type_name: str,
        field_name: str,
        *,
        body: Mapping[str, Any] | None = None,
        response: Mapping[str, Any] | None = None,
        auth: str | None = None,
        groups: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
    ) -> Callable[[Callable], Callable]:
        """Serve `fn` as the AppSync Lambda resolver of `type_name.field_name` (`auth`, `groups`, `scopes`: as REST)."""
        check_graphql(type_name, field_name)
        declared = {"body": body, "response": response, "auth": auth, "groups": groups, "scopes": scopes}
        return self._register("graphql", (type_name, field_name), {}, declared)

    def direct(
        self,
        name: str,
        *,
        body: Mapping[str, Any] | None = None,
        groups: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
    ) -> Callable[[Callable], Callable]:
        """Serve `fn` for direct invokes `{"route": name, "args": {...}}` (never exposed through an API).

        Invoking needs `lambda:InvokeFunction`; `groups`/`scopes` are checked against the `caller` the invoker passes.
        """
        check_direct(name)
        return self._register("direct", (name,), {}, {"body": body, "groups": groups, "scopes": scopes})

    def schedule(
        self, expression: str, *, timezone: str | None = None, name: str | None = None
    ) -> Callable[[Callable], Callable]:
        """Run `fn` on a timetable: `rate(1 hour)` or `cron(0 3 * * ? *)` (EventBridge Scheduler's forms).

        `timezone` (IANA, for cron) is the one its fields are in, UTC by default; `name` is the job's
        name (the function's by default), what `make run-local JOB=...` and the scheduled event carry.
        The function takes no inputs; a job that raises is logged, counted and retried.
        """
        check_schedule(expression, timezone)
        if name is not None:
            check_direct(name)
        return self._register("schedule", (expression, name), {"timezone": timezone}, {})

    def queue(self, queue: str, *, batch_size: int = 10, max_receives: int = 5) -> Callable[[Callable], Callable]:
        """Consume the SQS queue `queue`: `fn` gets one `Message` at a time, each in its own call.

        Messages come in batches of up to `batch_size`; a message whose call raises is delivered again,
        alone of its batch, and after `max_receives` deliveries moves to the queue's dead-letter queue.
        Send with `enqueue(queue, body)`.
        """
        check_queue(queue, batch_size, max_receives)
        return self._register("queue", (queue,), {"batch_size": batch_size, "max_receives": max_receives}, {})

    def _register(
        self, kind: str, args: tuple, options: dict[str, Any], declared: dict[str, Any]
    ) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            if inspect.iscoroutinefunction(inspect.unwrap(fn)):
                raise RouteError(f"{fn.__name__}() is async; route functions are plain functions")
            endpoint = Endpoint.of(fn)
            endpoint.declare(declared)
            record = endpoint.record(kind, args, options)
            try:
                self._registered.add(record)  # a refused route leaves the router as it was
            except RouteError as exc:
                raise RouteError(f"{endpoint.where}: {exc}") from None
            endpoint.registrations.append((kind, args, options))
            self._registrations.append((endpoint, kind, args, options))
            self._invalidate()
            return fn

        return register

    def include(self, other: Router) -> None:
        """Serve every route of `other` too (a module of routes: `router.include(students.router)`)."""
        if other is self or self in other._all_routers():
            raise RouteError("a router cannot include itself")
        self._included.append(other)
        other._parents.append(self)
        self._invalidate()
        self.routes  # noqa: B018 - building the table checks the routers together, at import

    # -- the table --------------------------------------------------------------------------------
    def _all_routers(self) -> list[Router]:
        found = [self]
        for child in self._included:
            found += child._all_routers()
        return found

    def _invalidate(self) -> None:
        """Forget this router's table and its includers': rebuilt (and so checked again) when next read."""
        self._table = None
        for parent in self._parents:
            parent._invalidate()

    @property
    def routes(self) -> RouteTable:
        """Every route this router serves, as route-model records (what the documents and the stack read)."""
        if self._table is None:
            table = RouteTable()
            endpoints: dict[tuple[str, Any], Endpoint] = {}
            for router in self._all_routers():
                for endpoint, kind, args, options in router._registrations:
                    endpoint.resolve()
                    record = endpoint.record(kind, args, options)
                    try:
                        check_inputs(record)
                        table.add(record)
                    except RouteError as exc:
                        raise RouteError(f"{endpoint.where}: {exc}") from None
                    endpoints[(kind, record.key)] = endpoint
            self._table, self._endpoints = table, endpoints
        return self._table

    def match(self, method: str, path: str) -> Match:
        """The route API Gateway (REST v1) would pick for `method path`: what the local server asks, once."""
        return self.routes.match(method.upper(), path)

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, event: Any, context: Any = None) -> Any:
        """Answer any supported event: REST v1 (default), HTTP API v2, AppSync, a direct invoke, a job, an SQS batch."""
        table = self._table if self._table is not None else self.routes
        deadline.begin(context)
        observability.start_request(event, context)
        if isinstance(event, dict):
            if "httpMethod" in event:
                return self._rest(table, event, context, http_api=False)
            if event.get("version") == "2.0" and "requestContext" in event:
                return self._rest(table, event, context, http_api=True)
            info = event.get("info")
            if isinstance(info, dict) and "fieldName" in info:
                return self._graphql(event, context, info)
            if "route" in event:
                return self._direct(event, context)
            if "job" in event or "Records" in event:
                return self._background(table, event, context)
        return {"error": {"status": 400, "message": proxy.UNRECOGNISED}}

    def _rest(self, table: RouteTable, event: dict, context: Any, *, http_api: bool) -> dict[str, Any]:
        """Route, caller, inputs, call, answer; any error becomes `{"message"}` in its status."""
        where = "rest"
        try:
            method, path, route, path_parameters = proxy.resolve(table, event, http_api)
            where = f"{method} {path}"
            endpoint = self._endpoints[("rest", route.key)]
            incoming = Incoming(event, context, "http" if http_api else "rest")
            authorize(endpoint.spec, incoming)  # before the body is read, as the gateway would
            result = endpoint.call(proxy.inputs(event, path_parameters, http_api, endpoint.binding), incoming)
            return proxy.success(result, route.status, http_api, head=method == "HEAD" and route.method == "GET")
        except Exception as exc:
            return proxy.failure(_failure(exc, where), http_api)

    def _graphql(self, event: dict, context: Any, info: dict) -> Any:
        """The field's resolver, called as AppSync's direct Lambda resolver expects: its data, or a raised error."""
        type_name, field_name = info.get("parentTypeName"), info.get("fieldName")
        field = f"{type_name}.{field_name}"
        try:
            if type_name.__class__ is not str or field_name.__class__ is not str:
                raise BadRequest("info.parentTypeName, info.fieldName: must be text")
            endpoint = self._endpoints.get(("graphql", (type_name, field_name)))
            if endpoint is None:
                raise NotFound(f"no resolver for GraphQL field {field}")
            return endpoint.answer(event.get("arguments"), "arguments", Incoming(event, context, "graphql"))
        except Exception as exc:
            # A fresh exception: AppSync shows its type and message, and nothing else travels with it.
            raise _clean(_failure(exc, f"graphql {field}")) from None

    def _direct(self, event: dict, context: Any) -> dict[str, Any]:
        """`{"data": ...}`, or `{"error": {"status", "message"}}`: a direct invoke has no HTTP status to carry it."""
        name = event.get("route")
        try:
            endpoint = self._endpoints.get(("direct", name)) if isinstance(name, str) else None
            if endpoint is None:
                if isinstance(name, str):
                    raise NotFound(f"unknown direct route {name!r}")
                raise BadRequest("route: must be the name of a direct route")
            return {"data": endpoint.answer(event.get("args"), "args", Incoming(event, context, "direct"))}
        except Exception as exc:
            failure = _failure(exc, f"direct {name}")
            error: dict[str, Any] = {"status": failure.status, "message": failure.message}
            if getattr(failure, "retry_after", None) is not None:
                error["retryAfter"] = failure.retry_after
            return {"error": error}

    def _background(self, table: RouteTable, event: dict, context: Any) -> Any:
        """A scheduled job or an SQS batch, run by lambdakit.background with the endpoints that serve them."""
        from lambdakit import background  # only the functions that run background work load it

        if "job" in event:
            name = event.get("job")
            endpoint = self._endpoints.get(("schedule", name)) if isinstance(name, str) else None
            return background.run_job(name, endpoint, event, context)
        consumers = {route.queue: self._endpoints[("queue", route.key)] for route in table.queues}
        return background.consume_batch(consumers, event, context)


def _failure(exc: BaseException, where: str) -> ApiError:
    """The one error policy: an ApiError is the answer (5xx logged), anything else a logged, detail-free 500."""
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            _log_failure(exc, where)
        return exc
    _log_failure(exc, where)
    return InternalError()


def _log_failure(exc: BaseException, route: str) -> None:
    """Log a server-side failure by type, SQLSTATE and place only: driver messages may quote SQL or data."""
    cause = exc.__cause__ if isinstance(exc, ApiError) and exc.__cause__ is not None else exc
    frames = traceback.extract_tb(cause.__traceback__) if cause.__traceback__ else []
    logger.error(
        "request failed",
        extra={
            "route": route,
            "error_type": type(cause).__name__,
            "pgcode": getattr(cause, "pgcode", None),
            "where": f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else None,
        },
    )


def _clean(exc: ApiError) -> ApiError:
    """A copy of `exc` without its cause or traceback, safe to raise out of the Lambda."""
    clean = ApiError.__new__(type(exc))
    ApiError.__init__(clean, exc.message)
    if isinstance(exc, MethodNotAllowed):
        clean.allowed = exc.allowed
    return clean
