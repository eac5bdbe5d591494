"""Decorator routes for REST (API Gateway v1 and v2), GraphQL (AppSync) and direct invokes.

GraphQL goes through Powertools' AppSyncResolver. REST events are matched and answered here: the
same proxy responses Powertools' REST resolver builds, without its per-request data classes and
middleware chain, which cost more than everything else a warm request does besides the database
(see README, Performance). This module adds one function serving three event sources with the same
inputs (see binding.py), 405 for a known path with the wrong method, camelCase JSON out, and errors
that never show a stack trace or SQL.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from lambdakit import observability
from lambdakit.binding import Binding
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
from lambdakit.settings import response_headers

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Lambda refuses synchronous payloads over 6 MB; answering 413 here makes local match deployed.
MAX_BODY_BYTES = 6 * 1024 * 1024
_SEGMENT = r"(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})"
_VALID_PATH = re.compile(rf"^(?:/|(?:/{_SEGMENT})+)$")
_PATH_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)
_JSON_HEADERS = {"Content-Type": "application/json"}

logger = Logger()


@dataclass
class Entry:
    """A route function as registered, and the callable that really serves it once decorators are done."""

    fn: Callable[..., Any]
    target: Callable[..., Any] | None = None
    binding: Binding | None = None

    def freeze(self) -> None:
        """Find the fully decorated function, so `@transaction` may sit above or below the route decorators."""
        self.target = _outermost(self.fn)
        self.binding = Binding(self.target)

    def call(self, inputs: dict[str, Any]) -> Any:
        """Call the route function with its inputs bound to its parameters."""
        return self.target(**self.binding.bind(inputs))


@dataclass
class RestRoute:
    """One `@router.rest(method, path)`."""

    method: str
    path: str
    status: int
    entry: Entry
    pattern: re.Pattern = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile("^" + _PATH_PARAMETER.sub(r"(?P<\1>[^/]+)", self.path) + "$")


def _outermost(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The module-level name of `fn` holds whatever decorators were stacked on top of it."""
    module = sys.modules.get(fn.__module__)
    if module is None or "<locals>" in fn.__qualname__:
        return fn
    candidate = getattr(module, fn.__name__, None)
    if callable(candidate) and inspect.unwrap(candidate) is inspect.unwrap(fn):
        return candidate
    return fn


def _proxy_response(status: int, body: str, headers: dict[str, str], http_api: bool) -> dict[str, Any]:
    """The answer API Gateway expects: `multiValueHeaders` for REST (v1), `headers` and `cookies` for HTTP APIs (v2)."""
    headers = observability.with_request_id(headers)
    extra = response_headers()
    if extra:
        headers = {**headers, **extra}
    if http_api:
        return {"statusCode": status, "body": body, "isBase64Encoded": False, "headers": headers, "cookies": []}
    return {
        "statusCode": status,
        "body": body,
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
    }


def _error_response(status: int, message: str, http_api: bool, headers: dict[str, str] | None = None) -> dict:
    return _proxy_response(status, dumps({"message": message}), {**(headers or {}), **_JSON_HEADERS}, http_api)


def _header(headers: Any, name: str) -> str | None:
    """A request header by case-insensitive name (the last one wins, as in a case-insensitive dict)."""
    found = None
    if isinstance(headers, dict):
        for key, value in headers.items():
            if key.lower() == name:
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
    inputs: dict[str, Any] = {}
    for name in dict.fromkeys([*single, *multi]):
        key = snake_case(name)
        if wants_list(key):
            value: Any = multi.get(name) or single[name].split(",")
        else:
            value = single[name] if name in single else multi[name][-1]
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
            "where": f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else None,
        },
    )


class Router:
    """Collects routes from decorators and dispatches any Lambda event to them."""

    def __init__(self) -> None:
        self._rest: list[RestRoute] = []
        self._graphql: dict[tuple[str, str], Entry] = {}
        self._direct: dict[str, Entry] = {}
        self._appsync: Any = None
        self._rest_by_method: dict[str, list[RestRoute]] = {}
        self._frozen = False

    # -- decorators -------------------------------------------------------------------------------
    def rest(self, method: str, path: str, *, status: int = 200) -> Callable[[Callable], Callable]:
        """Serve `fn` for an API Gateway method and path (`/students/{studentId}`); `status` is the success code."""
        method = method.upper()
        if method not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {method!r}")
        if not _VALID_PATH.match(path):
            raise ValueError(f"malformed path {path!r}: use /segment/{{param}} with letters, digits, . _ ~ -")
        if any(r.method == method and r.path == path for r in self._rest):
            raise ValueError(f"route {method} {path} is already registered")

        def register(fn: Callable) -> Callable:
            self._rest.append(RestRoute(method, path, status, Entry(fn)))
            self._frozen = False
            return fn

        return register

    def graphql(self, type_name: str, field_name: str) -> Callable[[Callable], Callable]:
        """Serve `fn` as the AppSync Lambda resolver of `type_name.field_name`."""
        if (type_name, field_name) in self._graphql:
            raise ValueError(f"GraphQL field {type_name}.{field_name} is already registered")

        def register(fn: Callable) -> Callable:
            self._graphql[(type_name, field_name)] = Entry(fn)
            self._frozen = False
            return fn

        return register

    def direct(self, name: str) -> Callable[[Callable], Callable]:
        """Serve `fn` for direct invokes `{"route": name, "args": {...}}` (never exposed through an API)."""
        if name in self._direct:
            raise ValueError(f"direct route {name!r} is already registered")

        def register(fn: Callable) -> Callable:
            self._direct[name] = Entry(fn)
            self._frozen = False
            return fn

        return register

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, event: Any, context: Any = None) -> Any:
        """Answer any supported event: REST v1 (default), HTTP API v2, AppSync, or a direct invoke."""
        if not self._frozen:
            self._freeze()
        observability.start_request(event, context)
        if isinstance(event, dict):
            if "httpMethod" in event:
                return self._rest_resolve(event, str(event["httpMethod"]).upper(), event["path"], http_api=False)
            if event.get("version") == "2.0" and "requestContext" in event:
                request = event["requestContext"]
                path = event["rawPath"]
                stage = request.get("stage", "$default")
                if stage != "$default":
                    # A named stage prefixes the raw path; routes are written without it.
                    path = path[len(stage) + 1 :]
                return self._rest_resolve(event, str(request["http"]["method"]).upper(), path, http_api=True)
            info = event.get("info")
            if isinstance(info, dict) and "fieldName" in info:
                return self._graphql_resolve(event, context)
            if "route" in event:
                return self._direct_resolve(event)
        return {
            "error": {
                "status": 400,
                "message": "unrecognised event: expected API Gateway, AppSync or {route, args}",
            }
        }

    def _freeze(self) -> None:
        for entry in self._entries():
            entry.freeze()
        self._appsync = None
        # Paths without parameters are tried first, so `/students/me` wins over `/students/{studentId}`.
        self._rest_by_method = {}
        for route in sorted(self._rest, key=lambda r: "{" in r.path):
            self._rest_by_method.setdefault(route.method, []).append(route)
        self._frozen = True

    def _entries(self) -> list[Entry]:
        return [r.entry for r in self._rest] + list(self._graphql.values()) + list(self._direct.values())

    # -- REST -------------------------------------------------------------------------------------
    def _rest_resolve(self, event: dict, method: str, path: str, *, http_api: bool) -> dict[str, Any]:
        """Match the route, bind its inputs, call it and build the proxy response; errors become `{"message"}`."""
        # REST APIs (v1) ignore trailing slashes, HTTP APIs (v2) do not; as Powertools' resolvers did.
        wanted = path if http_api else (path.rstrip("/") or "/")
        try:
            for route in self._rest_by_method.get(method, ()):
                found = route.pattern.match(wanted)
                if found:
                    return self._call_rest(route, found.groupdict(), event, http_api)
            allowed = sorted({r.method for r in self._rest if r.pattern.match(wanted)})
            if allowed:
                raise MethodNotAllowed(f"method {method} not allowed on {path}", allowed)
            raise NotFound(f"no route for {method} {path}")
        except ApiError as exc:
            if exc.status >= 500:
                _log_failure(exc, f"{method} {path}")
            # One place turns every ApiError into an answer, so a route raising MethodNotAllowed gets Allow too.
            headers = {"Allow": ", ".join(exc.allowed)} if isinstance(exc, MethodNotAllowed) else None
            return _error_response(exc.status, exc.message, http_api, headers)
        except Exception as exc:
            _log_failure(exc, f"{method} {path}")
            return _error_response(500, InternalError().message, http_api)

    @staticmethod
    def _call_rest(route: RestRoute, path_parameters: dict[str, str], event: dict, http_api: bool) -> dict[str, Any]:
        entry = route.entry
        inputs = _query_inputs(event, http_api, entry.binding.wants_list)
        for name, value in path_parameters.items():
            key = snake_case(name)
            if key in inputs:
                raise BadRequest(f"{name}: given in the path, so it cannot be a query parameter too")
            inputs[key] = snakify(value, name)
        raw = event.get("body")
        if raw:
            content_type = _header(event.get("headers"), "content-type")
            inputs["body"] = snakify(_parse_body(raw, event.get("isBase64Encoded"), content_type))
        result = entry.call(inputs)
        if result is None:
            return _proxy_response(204, "", {}, http_api)
        return _proxy_response(route.status, dumps(result), _JSON_HEADERS, http_api)

    # -- GraphQL ----------------------------------------------------------------------------------
    def _graphql_resolve(self, event: dict, context: Any) -> Any:
        app = self._appsync
        if app is None:
            # Imported on the first GraphQL event only: a REST-only function never loads the event handler.
            from aws_lambda_powertools.event_handler import AppSyncResolver

            app = AppSyncResolver()
            for (type_name, field_name), entry in self._graphql.items():
                app.resolver(type_name=type_name, field_name=field_name)(self._graphql_endpoint(entry))
            self._appsync = app
        info = event["info"]
        key = (info.get("parentTypeName"), info.get("fieldName"))
        if key not in self._graphql:
            raise NotFound(f"no resolver for GraphQL field {key[0]}.{key[1]}")
        return app.resolve(event, context)

    @staticmethod
    def _graphql_endpoint(entry: Entry) -> Callable[..., Any]:
        def endpoint(**arguments: Any) -> Any:
            try:
                return to_plain(entry.call(snakify(arguments)))
            except ApiError as exc:
                if exc.status >= 500:
                    _log_failure(exc, f"graphql {entry.fn.__name__}")
                # A fresh exception: AppSync shows its type and message, and nothing else travels with it.
                raise _clean(exc) from None
            except Exception as exc:
                _log_failure(exc, f"graphql {entry.fn.__name__}")
                raise InternalError() from None

        return endpoint

    # -- direct -----------------------------------------------------------------------------------
    def _direct_resolve(self, event: dict) -> dict[str, Any]:
        name = event.get("route")
        try:
            entry = self._direct.get(name) if isinstance(name, str) else None
            if entry is None:
                raise (
                    NotFound(f"unknown direct route {name!r}")
                    if isinstance(name, str)
                    else BadRequest("route: must be the name of a direct route")
                )
            args = event.get("args") or {}
            if not isinstance(args, dict):
                raise BadRequest("args: must be an object")
            return {"data": to_plain(entry.call(snakify(args)))}
        except ApiError as exc:
            if exc.status >= 500:
                _log_failure(exc, f"direct {name}")
            return {"error": {"status": exc.status, "message": exc.message}}
        except Exception as exc:
            _log_failure(exc, f"direct {name}")
            return {"error": {"status": 500, "message": InternalError().message}}


def _clean(exc: ApiError) -> ApiError:
    """A copy of `exc` without its cause or traceback, safe to raise out of the Lambda."""
    clean = ApiError.__new__(type(exc))
    ApiError.__init__(clean, exc.message)
    if isinstance(exc, MethodNotAllowed):
        clean.allowed = exc.allowed
    return clean


def _parse_body(raw: str, is_base64: bool | None, content_type: str | None) -> Any:
    """Decode and parse a REST body: 413 when too large, 415 when not JSON, 400 when not valid UTF-8 JSON."""
    if content_type and not _JSON_TYPE.match(content_type.strip()):
        raise UnsupportedMediaType(f"content-type {content_type!r} is not supported: send application/json")
    if is_base64:
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("body: invalid base64 encoding") from None
    else:
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body: is not valid UTF-8") from None
    return loads_body(text)
