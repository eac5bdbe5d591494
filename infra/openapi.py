"""The OpenAPI document API Gateway is defined from, generated from the scanned REST routes.

One document is one CloudFormation resource however many routes there are, which keeps a
300-route app far below the 500-resources-per-stack limit (a resource plus a method per path
segment would not). Every known path also gets an ANY method and the API a `/{proxy+}` catch-all,
all to the same function, so an unknown path or a wrong method reaches the router and is answered
with the same 404/405 JSON as the local server, instead of API Gateway's own 403.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from infra.routes import RestRoute, scan_routes

ANY = "x-amazon-apigateway-any-method"
CATCH_ALL = "/{proxy+}"


def build_openapi(
    routes: Sequence[RestRoute],
    *,
    title: str,
    integration_uri: str,
    flavor: str = "rest",
    cors_origins: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the OpenAPI 3 document for `routes`; `flavor` is "rest" (v1) or "http" (v2)."""
    integration: dict[str, Any] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": integration_uri,
    }
    if flavor == "http":
        integration["payloadFormatVersion"] = "2.0"
    else:
        integration["passthroughBehavior"] = "when_no_match"
    paths: dict[str, dict[str, Any]] = {}
    function_uses: dict[str, int] = {}
    for route in routes:
        function_uses[route.function] = function_uses.get(route.function, 0) + 1
    for route in routes:
        operation_id = route.function
        if function_uses[route.function] > 1:
            operation_id += route.method.capitalize()
        paths.setdefault(route.path, {})[route.method.lower()] = {
            "operationId": operation_id,
            "parameters": _path_parameters(route.path),
            "responses": {"default": {"description": "JSON from the function"}},
            "x-amazon-apigateway-integration": integration,
        }
    fallback_paths = {"/"} | set(paths) | {p for path in paths for p in _prefixes(path)}
    if not any(path.startswith("/{") for path in paths):
        fallback_paths.add(CATCH_ALL)
    for path in sorted(fallback_paths):
        paths.setdefault(path, {})[ANY] = {
            "parameters": _path_parameters(path),
            "responses": {"default": {"description": "404/405 JSON from the function"}},
            "x-amazon-apigateway-integration": integration,
        }
    document: dict[str, Any] = {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1.0"},
        "paths": {path: paths[path] for path in sorted(paths)},
    }
    if flavor == "http":
        if cors_origins:
            document["x-amazon-apigateway-cors"] = {
                "allowOrigins": list(cors_origins),
                "allowMethods": ["*"],
                "allowHeaders": ["content-type", "authorization"],
                "maxAge": 600,
            }
        return document
    # Errors API Gateway raises itself (throttling, oversized body) get the function's JSON shape.
    headers = {}
    if cors_origins:
        headers = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{cors_origins[0]}'"}
        for path, operations in paths.items():
            operations["options"] = _cors_preflight(path, cors_origins[0])
    document["x-amazon-apigateway-gateway-responses"] = {
        kind: {
            "responseParameters": headers,
            "responseTemplates": {"application/json": '{"message": $context.error.messageString}'},
        }
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX")
    }
    return document


def _prefixes(path: str) -> list[str]:
    segments = path.strip("/").split("/")
    return ["/" + "/".join(segments[:n]) for n in range(1, len(segments))]


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [s[1:-1].rstrip("+") for s in path.split("/") if s.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def _cors_preflight(path: str, origin: str) -> dict[str, Any]:
    """A mock OPTIONS answer: browsers' preflight never needs to wake the function."""
    allow = {
        "method.response.header.Access-Control-Allow-Origin": f"'{origin}'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,POST,PUT,PATCH,DELETE,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'",
    }
    return {
        "parameters": _path_parameters(path),
        "responses": {
            "204": {
                "description": "CORS preflight",
                "headers": {name.rsplit(".", 1)[1]: {"schema": {"type": "string"}} for name in allow},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 204}'},
            "responses": {"default": {"statusCode": "204", "responseParameters": allow}},
        },
    }


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    """Print the document for a Lambda module (default src/lambda_function.py), for review."""
    from infra.config import ROOT

    path = argv[0] if argv else ROOT / "src" / "lambda_function.py"
    routes = scan_routes(path).rest
    print(json.dumps(build_openapi(routes, title="api", integration_uri="<function>"), indent=2))


if __name__ == "__main__":
    main()
