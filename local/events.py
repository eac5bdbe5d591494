"""Translate HTTP requests into API Gateway proxy events (REST v1, HTTP API v2), and handler answers back to HTTP."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

STAGE = "local"
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str = "local-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "local"
    timeout_ms: int = 30_000
    _start: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (pretend) Lambda timeout."""
        return max(0, self.timeout_ms - int((time.monotonic() - self._start) * 1000))


def rest_v1_event(
    method: str,
    path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    resource: str = "/{proxy+}",
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The event API Gateway would hand the function for this request (`request_id`: a new UUID when not given)."""
    multi_query = parse_qs(query_string, keep_blank_values=True) if query_string else {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    text_body, is_base64 = _event_body(headers, body)
    if path_parameters is None and resource == "/{proxy+}":
        path_parameters = {"proxy": path.lstrip("/")}
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id or str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": multi_headers.get("user-agent", [""])[-1]},
            "protocol": "HTTP/1.1",
            "domainName": "localhost",
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def _event_body(headers: list[tuple[str, str]], body: bytes) -> tuple[str | None, bool]:
    """The body as API Gateway passes it: text for text types that are UTF-8, base64 otherwise."""
    if not body:
        return None, False
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if not content_type or content_type.lower().startswith(_TEXT_TYPES):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def http_api_event(
    method: str,
    path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    route_key: str = "ANY /{proxy+}",
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The event an HTTP API (payload 2.0) would hand the function, on the `$default` stage (`request_id` as above).

    Payload 2.0 differs from REST's: header names in lower case, a repeated header or query parameter
    joined with commas, cookies apart from the headers, the method and source IP under `requestContext.http`.
    """
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, value in headers:
        name = raw_name.lower()
        if name == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
        else:
            joined[name] = f"{joined[name]},{value}" if name in joined else value
    query = {k: ",".join(v) for k, v in parse_qs(query_string, keep_blank_values=True).items()}
    if path_parameters is None and route_key == "ANY /{proxy+}":
        path_parameters = {"proxy": path.lstrip("/")}
    text_body, is_base64 = _event_body(headers, body)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": joined,
        "queryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes from a handler's proxy answer (502 when it is not one, as API Gateway)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 502, [("content-type", "application/json")], b'{"message":"Internal server error"}'
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((name, str(value)))
    seen = {name.lower() for name, _ in headers}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() not in seen:
            headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or ())  # an HTTP API's answer
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return int(result["statusCode"]), headers, data


def http_v2_event(method: str, path: str, *, query: str = "", body: str | None = None) -> dict[str, Any]:
    """The event an API Gateway HTTP API (payload 2.0) would send, on the `$default` stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()} or None,
        "headers": {"content-type": "application/json"} if body else {},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "stage": "$default",
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "apiId": "local",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def appsync_event(
    type_name: str,
    field_name: str,
    arguments: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    identity: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    selection_set_list: list[str] | None = None,
    selection_set_graphql: str = "",
) -> dict[str, Any]:
    """The event AppSync sends a direct Lambda resolver for one field (identity is None with API-key auth)."""
    return {
        "arguments": arguments,
        "identity": identity,
        "source": source,
        "request": {"headers": headers or {}, "domainName": None},
        "info": {
            "fieldName": field_name,
            "parentTypeName": type_name,
            "variables": variables or {},
            "selectionSetList": selection_set_list or [],
            "selectionSetGraphQL": selection_set_graphql,
        },
        "prev": None,
        "stash": {},
    }


def direct_event(route: str, **args: Any) -> dict[str, Any]:
    """The payload of a direct `lambda invoke` of a named route."""
    return {"route": route, "args": args}
