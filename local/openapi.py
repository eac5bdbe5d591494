"""An OpenAPI 3.1 description of the REST routes, read from the router itself, for clients, docs and fuzzing.

Written here rather than taken from Powertools' OpenAPI support: that one reads types from each
handler's signature, and the router registers every route through one generic endpoint, so it would
see no parameters. The router already knows each route's method, path, status and parameters (with
their converters); request bodies and response shapes are passed in, since a route validates its body
in code. infra/openapi.py builds API Gateway's own document (integrations, catch-all); this one is
what a client reads.
"""

from __future__ import annotations

from typing import Any

from lambdakit.jsonio import camel_case

_BIGINT = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}
# binding.py converts each input by the parameter's annotation; its converter says the type on the wire.
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "_to_int": _BIGINT,
    "_to_float": {"type": "number"},
    "_to_bool": {"type": "boolean"},
    "_to_str": {"type": "string"},
    "_to_uuid": {"type": "string", "format": "uuid"},
    "_to_dict": {"type": "object"},
    "_to_list": {"type": "array", "items": {}},
    "convert_list": {"type": "array", "items": {"type": "string"}},
}

ERROR = {
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
    413: "body larger than Lambda's 6 MB payload limit",
    415: "body is not JSON",
    500: "internal error (no details, by design)",
    503: "database unavailable, try again shortly",
    504: "database statement timed out",
}


def camel_schema(schema: Any) -> Any:
    """A request-body schema as clients see it: `properties` and `required` names camelCased."""
    if isinstance(schema, list):
        return [camel_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {camel_case(name): camel_schema(sub) for name, sub in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = [camel_case(name) for name in value]
        else:
            out[key] = camel_schema(value)
    return out


def _error_responses(method: str, has_body: bool) -> dict[str, Any]:
    codes = [400, 404, 405, 500, 503, 504]
    if method != "GET":
        codes.append(409)
    if has_body:
        codes += [413, 415]
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {str(code): {"description": _ERRORS[code], **ref} for code in sorted(codes)}


def openapi_document(
    router: Any,
    *,
    title: str = "API",
    version: str = "0.1.0",
    body_schemas: dict[str, dict[str, Any]] | None = None,
    response_schemas: dict[str, dict[str, Any]] | None = None,
    parameter_schemas: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `router`'s REST routes.

    `body_schemas` and `response_schemas` are keyed by route function name (body schemas in snake_case,
    as routes validate them); `parameter_schemas` by API parameter name, to narrow a type (`limit` 1..100).
    """
    body_schemas, response_schemas = body_schemas or {}, response_schemas or {}
    parameter_schemas = parameter_schemas or {}
    if not router._frozen:
        router._freeze()  # binds each route to its fully decorated function, as the first request would
    paths: dict[str, dict[str, Any]] = {}
    for route in router._rest:
        name = route.entry.fn.__name__
        path_names = set(route.pattern.groupindex)
        parameters = []
        body = None
        for parameter in route.entry.binding.parameters.values():
            if parameter.name == "body":
                body = parameter
                continue
            converted = _CONVERTER_SCHEMAS.get(getattr(parameter.convert, "__name__", ""), {"type": "string"})
            in_path = parameter.api_name in path_names
            parameters.append(
                {
                    "name": parameter.api_name,
                    "in": "path" if in_path else "query",
                    "required": in_path or parameter.required,
                    "schema": parameter_schemas.get(parameter.api_name, converted),
                }
            )
        operation: dict[str, Any] = {
            "operationId": camel_case(name),
            "summary": (route.entry.fn.__doc__ or name).strip().splitlines()[0],
        }
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            schema = camel_schema(body_schemas.get(name, {"type": "object"}))
            operation["requestBody"] = {
                "required": body.required,
                "content": {"application/json": {"schema": schema}},
            }
        success: dict[str, Any] = {"description": "success"}
        if name in response_schemas:
            success["content"] = {"application/json": {"schema": response_schemas[name]}}
        operation["responses"] = {str(route.status): success, **_error_responses(route.method, body is not None)}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR}},
    }


# -- the students sample ---------------------------------------------------------------------------
_UUID = {"type": "string", "format": "uuid"}
_TIMESTAMP = {"type": "string", "format": "date-time"}
STUDENT = {
    "type": "object",
    "properties": {
        "studentId": {"type": "integer"},
        "studentUuid": _UUID,
        "firstName": {"type": "string"},
        "lastName": {"type": "string"},
        "status": {"type": "string"},
        "programId": {"type": ["string", "null"], "format": "uuid"},
        "active": {"type": "boolean"},
        "createdAt": _TIMESTAMP,
        "updatedAt": _TIMESTAMP,
    },
    "required": [
        *("studentId", "studentUuid", "firstName", "lastName", "status", "programId", "active"),
        *("createdAt", "updatedAt"),
    ],
    "additionalProperties": False,
}
STUDENT_PAGE = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": STUDENT}, "nextCursor": {"type": ["string", "null"]}},
    "required": ["items", "nextCursor"],
    "additionalProperties": False,
}


def students_document() -> dict[str, Any]:
    """The sample's document: what `/openapi.json` serves and the fuzz tests read."""
    import lambda_function  # imported late: local/ must not need src/ on the path until asked
    from lambdakit.pagination import MAX_LIMIT
    from schemas import NEW_STUDENT, STUDENT_CHANGES

    return openapi_document(
        lambda_function.router,
        title="Students API",
        body_schemas={"create_student": NEW_STUDENT, "update_student": STUDENT_CHANGES},
        response_schemas={
            "list_students": STUDENT_PAGE,
            "get_student": STUDENT,
            "create_student": STUDENT,
            "update_student": STUDENT,
            "delete_student": STUDENT,
        },
        parameter_schemas={"limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
    )
