"""API Gateway's side of a REST request: the proxy event read in, the proxy answer written out.

REST APIs (v1) and HTTP APIs (payload 2.0) differ in where they put the method, the path, the route
they matched and the query, and in the shape of the answer they expect; this module holds those
differences, so the router deals in a route, its inputs and its result. A route API Gateway already
resolved (`resource`, or the v2 `routeKey`) is found by a dictionary lookup, as Chalice does; only the
catch-all and the any-method fallbacks, which exist so unknown paths and methods get the same 404/405
JSON as locally, go through the route model's matcher.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from lambdakit import request_ids
from lambdakit.binding import Binding
from lambdakit.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, UnsupportedMediaType
from lambdakit.jsonio import dumps, loads_body, snakify
from lambdakit.limits import MAX_PAYLOAD_BYTES
from lambdakit.names import snake_case
from lambdakit.response import Response
from lambdakit.routemodel import RestRoute, RouteTable
from lambdakit.settings import response_headers

REQUEST_ID_HEADER = "X-Request-Id"
UNRECOGNISED = "unrecognised event: expected API Gateway, AppSync or {route, args}"
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)
_JSON_HEADERS = {"Content-Type": "application/json"}


# -- in ------------------------------------------------------------------------------------------
# API Gateway never sends a field of the wrong type; a hand-made event (a test, `make invoke`) may: each
# field is checked where it is read, with the value in hand, and is a 400 naming it.
def _malformed(name: str, expected: str) -> BadRequest:
    return BadRequest(f"{name}: must be {expected}")


def resolve(table: RouteTable, event: dict, http_api: bool) -> tuple[str, str, RestRoute, dict[str, str]]:
    """Method, path, route and path parameters: from API Gateway's own resolution when it named a route."""
    context = event.get("requestContext")
    if context is not None:
        if context.__class__ is not dict:
            raise _malformed("requestContext", "an object")
        request_id = context.get("requestId")
        if request_id is not None and request_id.__class__ is not str:
            raise _malformed("requestContext.requestId", "text")
    if http_api:
        http = context.get("http") if context is not None else None
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath")
        if not isinstance(method, str) or not isinstance(path, str):
            raise BadRequest(UNRECOGNISED)
        method = method.upper()
        route_key = event.get("routeKey")
        if route_key is not None and route_key.__class__ is not str:
            raise _malformed("routeKey", "text")
        resource = route_key.split(" ", 1)[1] if route_key and " " in route_key else None
        path = _without_stage(path, context.get("stage"))  # type: ignore[union-attr]
    else:
        method, path = event.get("httpMethod"), event.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise BadRequest(UNRECOGNISED)
        method = method.upper()
        resource = event.get("resource")
        if resource is not None and resource.__class__ is not str:
            raise _malformed("resource", "text")
    parameters = event.get("pathParameters")
    if parameters is not None and parameters.__class__ is not dict:
        raise _malformed("pathParameters", "an object")
    if resource is not None:
        route = table.rest_route(method, resource)
        if route is not None and (parameters is not None or not route.path.parameters):
            return method, path, route, parameters or {}
    found = table.match(method, path, ignore_trailing_slash=not http_api)
    if found.route is None and method == "HEAD":
        # HEAD on a path with a GET is that GET without its body (API Gateway sends it through ANY).
        found = table.match("GET", path, ignore_trailing_slash=not http_api)
    if found.route is None:
        if found.allowed:
            raise MethodNotAllowed(f"method {method} not allowed on {path}", list(found.allowed))
        raise NotFound(f"no route for {method} {path}")
    return method, path, found.route, found.path_parameters


def inputs(event: dict, path_parameters: Mapping[str, str], http_api: bool, binding: Binding) -> dict[str, Any]:
    """The route's inputs by parameter name: query parameters, path parameters and the JSON body as `body`."""
    single = event.get("queryStringParameters")
    multi = None if http_api else event.get("multiValueQueryStringParameters")
    found = _query_inputs(single, multi, binding) if single is not None or multi is not None else {}
    for name, value in path_parameters.items():
        if value.__class__ is not str:
            raise _malformed(f"pathParameters.{name}", "text")
        key = snake_case(str(name))
        if key in found:
            raise BadRequest(f"{name}: given in the path, so it cannot be a query parameter too")
        found[key] = snakify(value, name)
    raw = event.get("body")
    if raw is not None:
        if raw.__class__ is not str:
            raise _malformed("body", "text")
        if raw:
            content_type = _header(event.get("headers"), "content-type")
            found["body"] = snakify(_parse_body(raw, event.get("isBase64Encoded"), content_type))
    return found


def _query_inputs(single: Any, multi: Any, binding: Binding) -> dict[str, Any]:
    """Query parameters by the names the documents give them: a list for `list[...]` parameters, else the value.

    A REST API (v1) gives every value in `multiValueQueryStringParameters` and the last one in
    `queryStringParameters`; an HTTP API (v2) joins repeated values with commas (and has no `multi`), so
    only a list parameter is split on them (`?name=Smith,John` stays one value).
    """
    single, multi = single or {}, multi or {}
    if single.__class__ is not dict:
        raise _malformed("queryStringParameters", "an object")
    if multi.__class__ is not dict:
        raise _malformed("multiValueQueryStringParameters", "an object")
    for name, value in single.items():
        if value.__class__ is not str:
            raise _malformed(f"queryStringParameters.{name}", "text")
    for name, values in multi.items():
        if values.__class__ is not list or not all(v.__class__ is str for v in values):
            raise _malformed(f"multiValueQueryStringParameters.{name}", "a list of strings")
    found: dict[str, Any] = {}
    for name in dict.fromkeys([*single, *multi]):
        key = binding.query_parameter(str(name))
        if binding.wants_list(key):
            value: Any = multi.get(name) or single[name].split(",")
        else:
            value = single[name] if name in single else (multi[name] or [None])[-1]
        found[key] = snakify(value, name)
    return found


def _header(headers: Any, name: str) -> str | None:
    """A request header by case-insensitive name (the last one wins, as in a case-insensitive dict)."""
    if headers is None:
        return None
    if headers.__class__ is not dict:
        raise _malformed("headers", "an object")
    found = None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name:
            if value is not None and value.__class__ is not str:
                raise _malformed(f"headers.{key}", "text")
            found = value
    return found


def _parse_body(raw: Any, is_base64: Any, content_type: str | None) -> Any:
    """Decode and parse a REST body: 413 when too large, 415 when not JSON, 400 when not valid UTF-8 JSON."""
    if is_base64 is not None and is_base64.__class__ is not bool:
        raise _malformed("isBase64Encoded", "true or false")
    if content_type and not _JSON_TYPE.match(content_type.strip()):
        raise UnsupportedMediaType(f"content-type {content_type!r} is not supported: send application/json")
    if not is_base64:
        # Already text: a str of n characters is at most 4n bytes, so a small one needs no encoding to measure.
        if len(raw) * 4 > MAX_PAYLOAD_BYTES and len(raw.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"body: larger than {MAX_PAYLOAD_BYTES} bytes")
        return loads_body(raw)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("body: invalid base64 encoding") from None
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"body: larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body: is not valid UTF-8") from None
    return loads_body(text)


def _without_stage(path: str, stage: Any) -> str:
    """The path without its stage prefix (`/dev/x` on stage dev); as is on `$default` or a custom domain."""
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = f"/{stage}"
        if path == prefix:
            return "/"
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


# -- out -----------------------------------------------------------------------------------------
def success(result: Any, status: int, http_api: bool, *, head: bool = False) -> dict[str, Any]:
    """Plain data as JSON in the route's status (204 for None), or a Response as it asks; `head` drops the body."""
    if isinstance(result, Response):
        answer = _response(result, status, http_api)
    elif result is None:
        answer = _answer(204, "", {}, http_api)
    else:
        answer = _answer(status, dumps(result), _JSON_HEADERS, http_api)
    if head:
        answer.update(body="", isBase64Encoded=False)  # the GET's status and headers, no body
    return answer


def failure(exc: ApiError, http_api: bool) -> dict[str, Any]:
    """An ApiError as `{"message": ...}` in its status, with `Allow` on a 405 and `Retry-After` when it knows."""
    headers = dict(_JSON_HEADERS)
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return _answer(exc.status, dumps({"message": exc.message}), headers, http_api)


def _response(result: Response, status: int, http_api: bool) -> dict[str, Any]:
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
    return _answer(
        status if result.status is None else result.status,
        body or "",
        headers,
        http_api,
        cookies=tuple(result.cookies),
        is_base64=is_base64,
    )


def with_request_id(headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus `X-Request-Id` for the request being served (a new dict; `headers` unchanged)."""
    request_id = request_ids.correlation_id
    if request_id is None:
        return headers
    return {**headers, REQUEST_ID_HEADER: request_id}


def _answer(
    status: int,
    body: str,
    headers: Mapping[str, str],
    http_api: bool,
    *,
    cookies: tuple[str, ...] = (),
    is_base64: bool = False,
) -> dict[str, Any]:
    """The answer API Gateway expects: `multiValueHeaders` for REST (v1), `headers` and `cookies` for HTTP APIs (v2)."""
    headers = with_request_id(headers)  # type: ignore[arg-type]
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
