"""Decorator routes for REST (API Gateway v1 and v2), GraphQL (AppSync) and direct invokes.

Registration writes route records of the route model (routemodel.py), the same records the stack's
scanner builds from the source and both OpenAPI documents are written from. At runtime a REST event
is served by the route API Gateway already resolved (`resource`, or the v2 `routeKey`): a dictionary
lookup, as Chalice does; only the catch-all and the any-method fallbacks, which exist so unknown
paths and methods get the same 404/405 JSON as locally, go through the route model's matcher.
GraphQL goes through Powertools' AppSyncResolver. Errors follow one policy (`_failure`): an ApiError
is the client's answer, anything else a logged 500 that never shows a stack trace or SQL.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lambdakit import observability
from lambdakit.authorization import authorize
from lambdakit.binding import Binding, spec_of
from lambdakit.errors import (
    ApiError,
    BadRequest,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from lambdakit.jsonio import dumps, loads_body, snake_case, snakify, to_plain
from lambdakit.log import logger
from lambdakit.routemodel import (
    DirectRoute,
    GraphqlRoute,
    Match,
    RestRoute,
    RouteError,
    RouteTable,
    check_direct,
    check_graphql,
    check_rest,
    direct_route,
    graphql_route,
    rest_route,
)
from lambdakit.settings import response_headers

# Lambda refuses synchronous payloads over 6 MB; answering 413 here makes local match deployed.
MAX_BODY_BYTES = 6 * 1024 * 1024
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)
_JSON_HEADERS = {"Content-Type": "application/json"}
_UNRECOGNISED = "unrecognised event: expected API Gateway, AppSync or {route, args}"
_DECLARED = ("body", "response", "params", "summary", "auth", "groups", "scopes")
_MARK = "__lambdakit_endpoint__"


class Endpoint:
    """One route function, however many routes serve it: the callable to call, its spec and binding.

    `@transaction` may sit above or below the route decorators: when it wraps a function that is
    already routed, it hands its wrapper to `retarget`, so the router calls the fully decorated function.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.target = fn
        self.declared: dict[str, Any] = {}
        self.routers: list[Router] = []
        self._build()

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
            # Routes registered before this declaration carry the old spec: their routers re-read it.
            self._build()
            for router in self.routers:
                router._recheck(self)

    def retarget(self, wrapper: Callable[..., Any]) -> None:
        """Serve through `wrapper` (a decorator applied after the route decorators) and re-check every route."""
        self.target = wrapper
        setattr(wrapper, _MARK, self)
        self._build()
        for router in self.routers:
            router._recheck(self)

    def _build(self) -> None:
        self.spec = spec_of(self.target, **{k: v for k, v in self.declared.items() if k in _DECLARED})
        self.binding = Binding(self.spec)

    def call(self, inputs: dict[str, Any], injected: Callable[[str], Any] | None = None) -> Any:
        """Call the route function with its inputs bound to its parameters (and caller/request when declared)."""
        kwargs = self.binding.bind(inputs)
        if self.binding.injected and injected is not None:
            for param in self.binding.injected:
                kwargs[param.name] = injected(param.type)
        return self.target(**kwargs)


def routed(fn: Callable[..., Any]) -> Endpoint | None:
    """The endpoint of a function some router serves, or None (for `@transaction` to retarget)."""
    endpoint = getattr(fn, _MARK, None)
    return endpoint if isinstance(endpoint, Endpoint) else None


def _proxy_response(
    status: int,
    body: str,
    headers: Mapping[str, str],
    http_api: bool,
    *,
    cookies: tuple[str, ...] | list[str] = (),
    is_base64: bool = False,
) -> dict[str, Any]:
    """The answer API Gateway expects: `multiValueHeaders` for REST (v1), `headers` and `cookies` for HTTP APIs (v2)."""
    headers = observability.with_request_id(headers)
    extra = response_headers()
    if extra:
        headers = {**headers, **extra}
    if http_api:
        return {
            "statusCode": status,
            "body": body,
            "isBase64Encoded": is_base64,
            "headers": dict(headers),
            "cookies": list(cookies),
        }
    multi = {name: [value] for name, value in headers.items()}
    if cookies:
        multi["Set-Cookie"] = list(cookies)
    return {"statusCode": status, "body": body, "isBase64Encoded": is_base64, "multiValueHeaders": multi}


def _error_response(exc: ApiError, http_api: bool) -> dict[str, Any]:
    headers = dict(_JSON_HEADERS)
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return _proxy_response(exc.status, dumps({"message": exc.message}), headers, http_api)


def _success_response(result: Any, status: int, http_api: bool) -> dict[str, Any]:
    """Plain data as JSON in the route's status (204 for None), or a Response as it asks."""
    if not _is_response(result):
        if result is None:
            return _proxy_response(204, "", {}, http_api)
        return _proxy_response(status, dumps(result), _JSON_HEADERS, http_api)
    body, is_base64, content_type = result.body, False, result.content_type
    if isinstance(body, (bytes, bytearray, memoryview)):
        body, is_base64 = base64.b64encode(bytes(body)).decode("ascii"), True
        content_type = content_type or "application/octet-stream"
    elif isinstance(body, str):
        content_type = content_type or "text/plain; charset=utf-8"
    elif body is not None:
        body, content_type = dumps(body), content_type or "application/json"
    headers = dict(result.headers)
    if content_type and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = content_type
    return _proxy_response(
        status if result.status is None else result.status,
        body or "",
        headers,
        http_api,
        cookies=tuple(result.cookies),
        is_base64=is_base64,
    )


def _header(headers: Any, name: str) -> str | None:
    """A request header by case-insensitive name (the last one wins, as in a case-insensitive dict)."""
    found = None
    if isinstance(headers, dict):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == name:
                found = value
    return found


def _query_inputs(event: dict, http_api: bool, wants_list: Callable[[str], bool]) -> dict[str, Any]:
    """Query parameters by snake_case name: a list for `list[...]` parameters, else the value as sent.

    A REST API (v1) gives every value in `multiValueQueryStringParameters` and the last one in
    `queryStringParameters`; an HTTP API (v2) joins repeated values with commas, so only a list
    parameter is split on them (`?name=Smith,John` stays one value).
    """
    single = event.get("queryStringParameters") or {}
    multi = {} if http_api else (event.get("multiValueQueryStringParameters") or {})
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise BadRequest(_UNRECOGNISED)
    inputs: dict[str, Any] = {}
    for name in dict.fromkeys([*single, *multi]):
        key = snake_case(str(name))
        if wants_list(key):
            value: Any = multi.get(name) or str(single[name]).split(",")
        else:
            value = single[name] if name in single else (multi[name] or [None])[-1]
        inputs[key] = snakify(value, name)
    return inputs


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


def _failure(exc: BaseException, where: str) -> ApiError:
    """The one error policy: an ApiError is the answer (5xx logged), anything else a logged, detail-free 500."""
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            _log_failure(exc, where)
        return exc
    _log_failure(exc, where)
    return InternalError()


class Router:
    """Collects routes from decorators (and from other routers it includes) and dispatches any Lambda event."""

    def __init__(self) -> None:
        self._registrations: list[tuple[Endpoint, str, tuple, dict[str, Any]]] = []
        self._included: list[Router] = []
        self._parents: list[Router] = []
        self._table: RouteTable | None = None
        self._endpoints: dict[tuple[str, Any], Endpoint] = {}
        self._appsync: Any = None

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

    def _register(
        self, kind: str, args: tuple, options: dict[str, Any], declared: dict[str, Any]
    ) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            if inspect.iscoroutinefunction(inspect.unwrap(fn)):
                raise RouteError(f"{fn.__name__}() is async; route functions are plain functions")
            endpoint = Endpoint.of(fn)
            endpoint.declare(declared)
            record = _checked_record(endpoint, kind, args, options)
            # Checked against what is here before anything changes: a refused route leaves the router as it was.
            self.routes.add(record)
            self._registrations.append((endpoint, kind, args, options))
            self._endpoints[(kind, record.key)] = endpoint
            endpoint.routers.append(self)
            self._appsync = None
            for parent in self._parents:
                parent._invalidate()
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
        self._appsync = None
        for parent in self._parents:
            parent._invalidate()

    def _recheck(self, endpoint: Endpoint) -> None:
        """The routes of `endpoint` after it changed (retargeted), checked now, at import; the table later."""
        for registered, kind, args, options in self._registrations:
            if registered is endpoint:
                _checked_record(endpoint, kind, args, options)
        self._invalidate()

    @property
    def routes(self) -> RouteTable:
        """Every route this router serves, as route-model records (what the documents and the stack read)."""
        if self._table is None:
            table = RouteTable()
            endpoints: dict[tuple[str, Any], Endpoint] = {}
            for router in self._all_routers():
                for endpoint, kind, args, options in router._registrations:
                    record = _checked_record(endpoint, kind, args, options)
                    try:
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
        """Answer any supported event: REST v1 (default), HTTP API v2, AppSync, or a direct invoke."""
        if self._table is None:
            self.routes  # noqa: B018
        observability.start_request(event, context)
        if isinstance(event, dict):
            if "httpMethod" in event:
                return self._rest(event, context, http_api=False)
            if event.get("version") == "2.0" and "requestContext" in event:
                return self._rest(event, context, http_api=True)
            info = event.get("info")
            if isinstance(info, dict) and "fieldName" in info:
                return self._graphql(event, context)
            if "route" in event:
                return self._direct(event, context)
        return {"error": {"status": 400, "message": _UNRECOGNISED}}

    # -- REST -------------------------------------------------------------------------------------
    def _rest(self, event: dict, context: Any, *, http_api: bool) -> dict[str, Any]:
        """Find the route, bind its inputs, call it and build the proxy response; errors become `{"message"}`."""
        where = "rest"
        try:
            method, path, route, path_parameters = self._resolve(event, http_api)
            where = f"{method} {path}"
            endpoint = self._endpoints[("rest", route.key)]
            injected = _injector(event, context, "http" if http_api else "rest")
            authorize(endpoint.spec, "rest", injected)  # before the body is read, as the gateway would
            result = endpoint.call(self._rest_inputs(event, endpoint, path_parameters, http_api), injected)
            response = _success_response(result, route.status, http_api)
            if method == "HEAD" and route.method == "GET":
                response.update(body="", isBase64Encoded=False)  # the GET's status and headers, no body
            return response
        except Exception as exc:
            return _error_response(_failure(exc, where), http_api)

    def _resolve(self, event: dict, http_api: bool) -> tuple[str, str, RestRoute, dict[str, str]]:
        """Method, path, route and path parameters: from API Gateway's own resolution when it named a route."""
        if http_api:
            context = event.get("requestContext")
            http = context.get("http") if isinstance(context, dict) else None
            method = http.get("method") if isinstance(http, dict) else None
            path = event.get("rawPath")
            if not isinstance(method, str) or not isinstance(path, str):
                raise BadRequest(_UNRECOGNISED)
            method = method.upper()
            route_key = event.get("routeKey")
            resource = route_key.split(" ", 1)[1] if isinstance(route_key, str) and " " in route_key else None
            path = _without_stage(path, context.get("stage"))
        else:
            method, path = event.get("httpMethod"), event.get("path")
            if not isinstance(method, str) or not isinstance(path, str):
                raise BadRequest(_UNRECOGNISED)
            method = method.upper()
            resource = event.get("resource")
        if isinstance(resource, str):
            route = self._table.rest_route(method, resource)  # type: ignore[union-attr]
            parameters = event.get("pathParameters")
            if route is not None and (isinstance(parameters, dict) or not route.path.parameters):
                return method, path, route, parameters or {}
        found = self._table.match(method, path, ignore_trailing_slash=not http_api)  # type: ignore[union-attr]
        if found.route is None and method == "HEAD":
            # HEAD on a path with a GET is that GET without its body (API Gateway sends it through ANY).
            found = self._table.match("GET", path, ignore_trailing_slash=not http_api)  # type: ignore[union-attr]
        if found.route is None:
            if found.allowed:
                raise MethodNotAllowed(f"method {method} not allowed on {path}", list(found.allowed))
            raise NotFound(f"no route for {method} {path}")
        return method, path, found.route, found.path_parameters

    @staticmethod
    def _rest_inputs(event: dict, endpoint: Endpoint, path_parameters: dict, http_api: bool) -> dict[str, Any]:
        has_query = event.get("queryStringParameters") or event.get("multiValueQueryStringParameters")
        inputs = _query_inputs(event, http_api, endpoint.binding.wants_list) if has_query else {}
        for name, value in path_parameters.items():
            key = snake_case(str(name))
            if key in inputs:
                raise BadRequest(f"{name}: given in the path, so it cannot be a query parameter too")
            inputs[key] = snakify(value, name)
        raw = event.get("body")
        if raw:
            content_type = _header(event.get("headers"), "content-type")
            inputs["body"] = snakify(_parse_body(raw, event.get("isBase64Encoded"), content_type))
        return inputs

    # -- GraphQL ----------------------------------------------------------------------------------
    def _graphql(self, event: dict, context: Any) -> Any:
        info = event["info"]
        key = (info.get("parentTypeName"), info.get("fieldName"))
        if ("graphql", key) not in self._endpoints:
            raise NotFound(f"no resolver for GraphQL field {key[0]}.{key[1]}")
        if not isinstance(event.get("arguments", {}), dict):
            raise BadRequest("arguments: must be an object")
        app = self._appsync
        if app is None:
            # Imported on the first GraphQL event only: a REST-only function never loads the event handler.
            from aws_lambda_powertools.event_handler import AppSyncResolver

            app = AppSyncResolver()
            for route in self._table.graphql:  # type: ignore[union-attr]
                endpoint = self._endpoints[("graphql", route.key)]
                app.resolver(type_name=route.type_name, field_name=route.field)(self._graphql_endpoint(endpoint))
            self._appsync = app
        return app.resolve(event, context)

    def _graphql_endpoint(self, endpoint: Endpoint) -> Callable[..., Any]:
        def resolve(**arguments: Any) -> Any:
            try:
                injected = _injector(self._appsync.current_event.raw_event, None, "graphql")
                authorize(endpoint.spec, "graphql", injected)
                result = endpoint.call(snakify(arguments), injected)
                return to_plain(result.body if _is_response(result) else result)
            except Exception as exc:
                # A fresh exception: AppSync shows its type and message, and nothing else travels with it.
                raise _clean(_failure(exc, f"graphql {endpoint.name}")) from None

        return resolve

    # -- direct -----------------------------------------------------------------------------------
    def _direct(self, event: dict, context: Any) -> dict[str, Any]:
        name = event.get("route")
        try:
            endpoint = self._endpoints.get(("direct", name)) if isinstance(name, str) else None
            if endpoint is None:
                if isinstance(name, str):
                    raise NotFound(f"unknown direct route {name!r}")
                raise BadRequest("route: must be the name of a direct route")
            args = event.get("args", {})
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise BadRequest("args: must be an object")
            injected = _injector(event, context, "direct")
            authorize(endpoint.spec, "direct", injected)
            result = endpoint.call(snakify(args), injected)
            return {"data": to_plain(result.body if _is_response(result) else result)}
        except Exception as exc:
            failure = _failure(exc, f"direct {name}")
            error: dict[str, Any] = {"status": failure.status, "message": failure.message}
            if getattr(failure, "retry_after", None) is not None:
                error["retryAfter"] = failure.retry_after
            return {"error": error}


def _import_request() -> Any:
    """lambdakit.request, imported by the first route that asks for its caller or request: most never do."""
    from lambdakit import request

    return request


def _is_response(result: Any) -> bool:
    """Whether a route returned a Response; until one is made, lambdakit.response is not even imported."""
    module = sys.modules.get("lambdakit.response")
    return module is not None and isinstance(result, module.Response)


def _checked_record(
    endpoint: Endpoint, kind: str, args: tuple, options: dict[str, Any]
) -> RestRoute | GraphqlRoute | DirectRoute:
    """The record of one registration; RouteError naming the function's file and line when it cannot be."""
    try:
        return _record(endpoint, kind, args, options)
    except RouteError as exc:
        raise RouteError(f"{endpoint.where}: {exc}") from None


def _record(
    endpoint: Endpoint, kind: str, args: tuple, options: dict[str, Any]
) -> RestRoute | GraphqlRoute | DirectRoute:
    common = {"module": endpoint.fn.__module__, "spec": endpoint.spec, "where": endpoint.where}
    if kind == "rest":
        return rest_route(*args, endpoint.name, **options, **common)
    if kind == "graphql":
        return graphql_route(*args, endpoint.name, **common)
    return direct_route(*args, endpoint.name, **common)


def _injector(event: dict, context: Any, source: str) -> Callable[[str], Any]:
    """Builds the Caller or Request of this event when first asked for (by the check or the function), once."""
    built: dict[str, Any] = {}

    def injected(kind: str) -> Any:
        if kind not in built:
            built[kind] = _injected(kind, event, context, source)
        return built[kind]

    return injected


def _injected(kind: str, event: dict, context: Any, source: str) -> Any:
    """The Caller or Request a route declared, built from the event only when asked for."""
    requests = sys.modules.get("lambdakit.request") or _import_request()
    http_api = source == "http"
    if kind == "caller_kind" and source in ("rest", "http"):
        return requests.rest_caller_kind(event, http_api)
    if kind == "caller_groups" and source == "rest":
        return requests.rest_groups(event)
    if kind in ("caller_kind", "caller_groups", "caller_scopes"):
        caller = _injected("caller", event, context, source)
        return {"caller_kind": caller.kind, "caller_groups": caller.groups, "caller_scopes": caller.scopes}[kind]
    if kind == "caller":
        if source in ("rest", "http"):
            return requests.rest_caller(event, http_api)
        return requests.graphql_caller(event) if source == "graphql" else requests.direct_caller(event)
    if source in ("rest", "http"):
        return requests.rest_request(event, context, http_api)
    return requests.graphql_request(event, context) if source == "graphql" else requests.direct_request(event, context)


def _without_stage(path: str, stage: Any) -> str:
    """The path without its stage prefix (`/dev/x` on stage dev); as is on `$default` or a custom domain."""
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = f"/{stage}"
        if path == prefix:
            return "/"
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


def _clean(exc: ApiError) -> ApiError:
    """A copy of `exc` without its cause or traceback, safe to raise out of the Lambda."""
    clean = ApiError.__new__(type(exc))
    ApiError.__init__(clean, exc.message)
    if isinstance(exc, MethodNotAllowed):
        clean.allowed = exc.allowed
    return clean


def _parse_body(raw: Any, is_base64: Any, content_type: str | None) -> Any:
    """Decode and parse a REST body: 413 when too large, 415 when not JSON, 400 when not valid UTF-8 JSON."""
    if not isinstance(raw, str):
        raise BadRequest("body: must be text")
    if content_type and not _JSON_TYPE.match(content_type.strip()):
        raise UnsupportedMediaType(f"content-type {content_type!r} is not supported: send application/json")
    if not is_base64:
        # Already text: a str of n characters is at most 4n bytes, so a small one needs no encoding to measure.
        if len(raw) * 4 > MAX_BODY_BYTES and len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body: larger than {MAX_BODY_BYTES} bytes")
        return loads_body(raw)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("body: invalid base64 encoding") from None
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body: is not valid UTF-8") from None
    return loads_body(text)
