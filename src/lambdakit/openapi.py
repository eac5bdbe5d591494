"""The OpenAPI documents of a route table: one generator, two profiles.

`client_document` is OpenAPI 3.1, what `/openapi.json` serves and clients, Swagger UI and fuzzers
read: every parameter, body and answer with the constraints the API enforces. `gateway_document`
is the OpenAPI 3.0.1 that API Gateway is defined from: the same paths, methods, operation ids and
parameters, plus the Lambda integration, catch-alls that send unknown paths and methods to the
function (so they get the same 404/405 JSON as locally, not API Gateway's 403), and schemas cut to
the subset API Gateway's models accept. Standard library only: synth imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdakit.names import camel_case
from lambdakit.routemodel import GREEDY, RestRoute, RouteTable

ANY = "x-amazon-apigateway-any-method"
CATCH_ALL = "/{proxy+}"
# PostgreSQL text cannot hold NUL, so the API refuses it in every string; the documents say so.
NO_NUL = "^[^\\u0000]*$"

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
    "additionalProperties": False,
}
_ERRORS = {
    400: "invalid input; the message names the field",
    404: "no such row (or route)",
    405: "the path exists, not with this method",
    409: "conflicts with existing data",
    413: "request larger than Lambda's 6 MB payload limit",
    415: "body is not JSON",
    500: "internal error (no details, by design)",
    503: "database unavailable, try again shortly",
    504: "database statement timed out",
}
_AUTH_ERRORS = {
    401: "no valid credentials (token missing, expired or forged; no signature)",
    403: "signed in, but without a group or scope this route requires",
}
# Headers a browser may send cross-origin: the body's type and every kind of credential the API accepts.
CORS_ALLOW_HEADERS = "Content-Type,Authorization,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256,X-Api-Key"
CORS_ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"


@dataclass(frozen=True)
class Access:
    """The stack's authorization as the documents need it: the default mode and what each mode points at.

    `default` is "none", "iam", "cognito" or "jwt" (a route may say "none" or "iam" instead);
    `user_pool_arns` for a REST API's Cognito authorizer; `issuer` and `audience` for an HTTP API's
    JWT authorizer (Cognito's issuer URL when the mode is "cognito"); `api_keys` adds a required API key.
    """

    default: str = "none"
    user_pool_arns: tuple[str, ...] = ()
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    api_keys: bool = False

    def mode(self, route: RestRoute | None) -> str:
        """How callers of `route` authenticate (the catch-alls, `None`, follow the default)."""
        return route.spec.access(self.default) if route is not None else self.default


NO_AUTH = Access()


# What API Gateway's models (JSON Schema draft 4, a subset) accept; anything else is left out there.
_GATEWAY_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minProperties",
        "maxProperties",
        "minItems",
        "maxItems",
        "description",
        "title",
        "nullable",
    }
)


# -- the profiles ------------------------------------------------------------------------------------
def client_document(
    table: RouteTable, *, title: str = "API", version: str = "1.0", access: Access = NO_AUTH
) -> dict[str, Any]:
    """OpenAPI 3.1 for clients: what `/openapi.json` serves and `make openapi` writes."""
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {}
    for route, operation_id in _operation_ids(table.rest):
        operation = {
            "operationId": operation_id,
            "summary": route.spec.summary or route.function,
            **_inputs(route, client=True),
            "responses": {
                str(route.status): _success(route, _client_schema),
                **_error_responses(route, access.mode(route)),
            },
        }
        security = _client_security(route, access, schemes)
        if security:
            operation["security"] = security
        # OpenAPI has no greedy parameter: `{path+}` is documented as `{path}`, its slashes percent-encoded.
        paths.setdefault(route.path.text.replace("+}", "}"), {})[route.method.lower()] = operation
    components: dict[str, Any] = {"schemas": {"Error": ERROR_SCHEMA}}
    if schemes:
        components["securitySchemes"] = schemes
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": components,
    }


def gateway_document(
    table: RouteTable,
    *,
    title: str,
    integration_uri: str,
    flavor: str = "rest",
    cors_origins: Sequence[str] = (),
    access: Access = NO_AUTH,
) -> dict[str, Any]:
    """OpenAPI 3.0.1 that API Gateway is defined from; `flavor` is "rest" (v1) or "http" (v2).

    An HTTP API has no models and the stack fails its import on any warning, so its profile carries
    no schemas; `/openapi.json` remains the full contract for both. Every operation but the public
    ones carries its authorizer, the catch-alls included (an unknown path needs credentials too).
    """
    schemes: dict[str, Any] = {}
    integration: dict[str, Any] = {"type": "aws_proxy", "httpMethod": "POST", "uri": integration_uri}
    if flavor == "http":
        integration["payloadFormatVersion"] = "2.0"
    else:
        integration["passthroughBehavior"] = "when_no_match"
    paths: dict[str, dict[str, Any]] = {}
    for route, operation_id in _operation_ids(table.rest):
        operation: dict[str, Any] = {"operationId": operation_id, "summary": route.spec.summary or route.function}
        inputs = _inputs(route, client=False)
        operation["parameters"] = inputs.get("parameters", [])
        responses: dict[str, Any] = {"default": {"description": "JSON from the function"}}
        if flavor == "rest":
            if "requestBody" in inputs:
                operation["requestBody"] = inputs["requestBody"]
            responses = {str(route.status): _success(route, _gateway_schema), **responses}
        operation["responses"] = responses
        _secure(operation, _gateway_security(route, access, flavor, schemes))
        operation["x-amazon-apigateway-integration"] = integration
        paths.setdefault(route.path.text, {})[route.method.lower()] = operation
    fallback = {"/"} | set(paths) | {prefix for path in list(paths) for prefix in _prefixes(path)}
    if not any(path.startswith("/{") for path in paths):
        fallback.add(CATCH_ALL)
    for path in sorted(fallback):
        catch_all = {
            "parameters": _path_parameters(path),
            "responses": {"default": {"description": "404/405 JSON from the function"}},
            "x-amazon-apigateway-integration": integration,
        }
        paths.setdefault(path, {})[ANY] = _secure(catch_all, _gateway_security(None, access, flavor, schemes))
    document: dict[str, Any] = {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1.0"},
        "paths": {path: paths[path] for path in sorted(paths)},
    }
    if schemes:
        document["components"] = {"securitySchemes": schemes}
    if flavor == "http":
        if cors_origins:
            document["x-amazon-apigateway-cors"] = {
                "allowOrigins": list(cors_origins),
                "allowMethods": ["*"],
                "allowHeaders": [name.lower() for name in CORS_ALLOW_HEADERS.split(",")],
                "maxAge": 600,
            }
        return document
    # Any content type may travel as binary: the function reads base64 request bodies and sends
    # bytes base64 (`isBase64Encoded`), which API Gateway turns back into bytes for the client.
    document["x-amazon-apigateway-binary-media-types"] = ["*/*"]
    if access.api_keys:
        document["x-amazon-apigateway-api-key-source"] = "HEADER"
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


# -- what both profiles share ------------------------------------------------------------------------
def _operation_ids(routes: Sequence[RestRoute]) -> Iterable[tuple[RestRoute, str]]:
    """A unique operationId per route: the function's name, then its method, then its module, as needed."""
    uses: dict[str, int] = {}
    for route in routes:
        uses[route.function] = uses.get(route.function, 0) + 1
    first = {}
    for route in routes:
        name = camel_case(route.function)
        if uses[route.function] > 1:
            name += route.method.capitalize()
        first.setdefault(name, []).append(route)
    for name, claimants in first.items():
        for route in claimants:
            if len(claimants) == 1:
                yield route, name
            else:
                module = camel_case(route.module.replace(".", "_")) or "root"
                yield route, f"{module}{name[:1].upper()}{name[1:]}"


def _inputs(route: RestRoute, *, client: bool) -> dict[str, Any]:
    """`parameters` and `requestBody` of one operation (profile-specific schemas)."""
    spec = route.spec
    in_path = set(route.path.parameters)
    greedy = {value for kind, value in route.path.segments if kind == GREEDY}
    shape = _client_schema if client else _gateway_schema
    parameters = []
    body = None
    for param in spec.parameters:
        if param.injected:
            continue
        if param.name == "body":
            body = param
            continue
        located = "path" if param.api_name in in_path else "query"
        schema = param.schema(spec.params.get(param.name))
        if param.type == "any":
            schema = {"type": "string", **schema}
        if located == "path" and param.api_name in greedy:
            schema = {**schema, "description": "the rest of the path; may contain / (percent-encoded as %2F)"}
        parameters.append(
            {
                "name": param.api_name,
                "in": located,
                "required": located == "path" or param.required,
                "schema": shape(schema),
            }
        )
    # A path parameter the function takes through **kwargs is still part of the path.
    taken = {p["name"] for p in parameters}
    for name in route.path.parameters:
        if name not in taken:
            parameters.append({"name": name, "in": "path", "required": True, "schema": shape({"type": "string"})})
    inputs: dict[str, Any] = {}
    if parameters:
        inputs["parameters"] = parameters
    if body is not None:
        schema = spec.body if spec.body is not None else body.schema()
        inputs["requestBody"] = {
            "required": body.required,
            "content": {"application/json": {"schema": shape(camel_schema(schema))}},
        }
    return inputs


def _success(route: RestRoute, shape: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "success"}
    if route.spec.response is not None:
        answer["content"] = {"application/json": {"schema": shape(camel_schema(route.spec.response))}}
    return answer


def _error_responses(route: RestRoute, mode: str = "none") -> dict[str, Any]:
    codes = [400, 404, 405, 500, 503, 504]
    if route.method != "GET":
        codes.append(409)
    if route.spec.parameter("body") is not None:
        codes += [413, 415]
    if mode != "none" or route.spec.restricted:
        codes += [401, 403]
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    described = {**_ERRORS, **_AUTH_ERRORS}
    return {str(code): {"description": described[code], **ref} for code in sorted(codes)}


# -- security ----------------------------------------------------------------------------------------
def _secure(operation: dict[str, Any], security: list[dict[str, list[str]]]) -> dict[str, Any]:
    if security:
        operation["security"] = security
    return operation


def _gateway_security(
    route: RestRoute | None, access: Access, flavor: str, schemes: dict[str, Any]
) -> list[dict[str, list[str]]]:
    """The operation's `security`, adding the schemes it names to `schemes` (API Gateway's extensions)."""
    mode = access.mode(route)
    if mode == "none":
        return []
    scopes = list(route.spec.scopes) if route is not None else []
    if mode == "iam":
        name, scheme = "sigv4", {"x-amazon-apigateway-authtype": "awsSigv4"}
        scopes = []  # IAM has no scopes: the function refuses such a route (routemodel forbids it)
    elif flavor == "http":
        name = "jwt"
        scheme = {
            "type": "oauth2",
            "x-amazon-apigateway-authorizer": {
                "type": "jwt",
                "jwtConfiguration": {"issuer": access.issuer, "audience": list(access.audience)},
                "identitySource": "$request.header.Authorization",
            },
        }
    else:
        name = "cognito"
        scheme = {
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools",
                "providerARNs": list(access.user_pool_arns),
            },
        }
    schemes.setdefault(name, {"type": "apiKey", "name": "Authorization", "in": "header", **scheme})
    requirement = {name: scopes}
    if access.api_keys and flavor == "rest":
        schemes.setdefault("api_key", {"type": "apiKey", "name": "x-api-key", "in": "header"})
        requirement["api_key"] = []
    return [requirement]


def _client_security(route: RestRoute, access: Access, schemes: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The operation's `security` for clients (Swagger UI's Authorize button), adding the schemes it names."""
    mode = access.mode(route)
    if mode == "none":
        return []
    if mode == "iam":
        name = "sigv4"
        scheme = {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "AWS Signature Version 4 (execute-api): sign each request with your AWS credentials",
        }
    else:
        name = "bearer"
        scheme = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "a Cognito (or OpenID Connect) token; locally: python run_local.py token --user alice",
        }
    schemes.setdefault(name, scheme)
    requirement = {name: [] if mode == "iam" else list(route.spec.scopes)}
    if access.api_keys:
        schemes.setdefault("apiKey", {"type": "apiKey", "in": "header", "name": "x-api-key"})
        requirement["apiKey"] = []
    return [requirement]


def camel_schema(schema: Any) -> Any:
    """A schema written with Python names, as clients see it: `properties` and `required` names camelCased."""
    if isinstance(schema, list):
        return [camel_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {camel_case(name): camel_schema(sub) for name, sub in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = [camel_case(name) for name in value]
        elif key in ("enum", "const", "default", "examples", "pattern", "format"):
            out[key] = value
        else:
            out[key] = camel_schema(value)
    return out


def _client_schema(schema: Any) -> Any:
    """Every free-form string gets the API's one global rule (no NUL); the rest is the schema as written."""
    if isinstance(schema, list):
        return [_client_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {
        key: (value if key in ("enum", "const", "default") else _client_schema(value)) for key, value in schema.items()
    }
    types = out.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and not ({"pattern", "format", "enum", "const"} & set(out)):
        out["pattern"] = NO_NUL
    return out


def _gateway_schema(schema: Any) -> Any:
    """The schema in OpenAPI 3.0 terms and within what API Gateway's models accept."""
    if isinstance(schema, list):
        return [_gateway_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _GATEWAY_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _gateway_schema(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = _gateway_schema(value)
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) == 1:
                out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "format" and value in ("int32", "int64"):
            continue  # API Gateway refuses number formats
        else:
            out[key] = value
    if out.get("type") == "integer":
        # API Gateway reads numbers as doubles: int64's bounds would round; the function checks them.
        out.pop("minimum", None) if out.get("minimum") == -(2**63) else None
        out.pop("maximum", None) if out.get("maximum") == 2**63 - 1 else None
    return out


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
        "method.response.header.Access-Control-Allow-Methods": f"'{CORS_ALLOW_METHODS}'",
        "method.response.header.Access-Control-Allow-Headers": f"'{CORS_ALLOW_HEADERS}'",
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
            # With `*/*` as a binary media type every request body counts as binary, and API Gateway cannot
            # apply the mock's template to binary (a 500 on every preflight): it is converted to text first.
            "contentHandling": "CONVERT_TO_TEXT",
            "requestTemplates": {"application/json": '{"statusCode": 204}'},
            "responses": {"default": {"statusCode": "204", "responseParameters": allow}},
        },
    }
