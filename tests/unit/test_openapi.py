"""lambdakit/openapi.py: one generator, two profiles (clients' 3.1, API Gateway's 3.0.1), from one route table."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from lambdakit.openapi import NO_NUL, Access, camel_schema, client_document, gateway_document
from lambdakit.router import Router

THING = {
    "type": "object",
    "properties": {"thing_name": {"type": "string", "maxLength": 10}, "size": {"type": ["integer", "null"]}},
    "required": ["thing_name"],
    "additionalProperties": False,
}


def _router() -> Router:
    router = Router()

    @router.rest("GET", "/things/{thingId}", response=THING)
    def get_thing(thing_id: int, tags: list[str] | None = None, exact: bool = False, ratio: float = 1.0) -> dict:
        """Fetch a thing."""
        return {}

    @router.rest("POST", "/things", status=201, body=THING, params={"dry_run": {"enum": ["yes", "no"]}})
    def create_thing(body: dict, dry_run: str = "no") -> dict:
        return body

    @router.rest("GET", "/files/{path+}")
    def get_file(path: str) -> dict:
        return {}

    @router.rest("GET", "/a")
    @router.rest("DELETE", "/a")
    def twice() -> None:
        return None

    return router


@pytest.fixture(scope="module")
def table():
    return _router().routes


def test_the_client_profile_is_valid_openapi_3_1_with_one_operation_per_route(table):
    document = client_document(table, title="t")
    validate(document)
    assert document["openapi"] == "3.1.0"
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == {(r.method.lower(), r.path.text.replace("+}", "}")) for r in table.rest}


def test_the_gateway_profile_is_valid_openapi_3_0_with_the_same_operations_plus_catch_alls(table):
    document = gateway_document(table, title="t", integration_uri="arn:fn")
    # API Gateway's greedy `{name+}` is its own extension of OpenAPI's path templates.
    validate({**document, "paths": {path.replace("+}", "}"): item for path, item in document["paths"].items()}})
    assert document["openapi"] == "3.0.1"
    client = client_document(table, title="t")
    for route in table.rest:
        method, ours = route.method.lower(), document["paths"][route.path.text][route.method.lower()]
        assert ours["operationId"] == client["paths"][route.path.text.replace("+}", "}")][method]["operationId"]
        assert ours["x-amazon-apigateway-integration"]["uri"] == "arn:fn"
    assert "x-amazon-apigateway-any-method" in document["paths"]["/things/{thingId}"]
    assert "/{proxy+}" in document["paths"]


def test_parameter_types_and_declared_constraints_come_from_the_route(table):
    document = client_document(table, title="t")
    params = {p["name"]: p for p in document["paths"]["/things/{thingId}"]["get"]["parameters"]}
    assert params["thingId"]["in"] == "path" and params["thingId"]["required"] is True
    assert params["thingId"]["schema"]["type"] == "integer" and params["thingId"]["schema"]["maximum"] == 2**63 - 1
    assert params["tags"]["schema"] == {"type": "array", "items": {"type": "string", "pattern": NO_NUL}}
    assert params["exact"]["schema"] == {"type": "boolean"} and params["ratio"]["schema"] == {"type": "number"}
    (dry_run,) = document["paths"]["/things"]["post"]["parameters"]
    assert dry_run["schema"] == {"type": "string", "enum": ["yes", "no"]}
    assert document["paths"]["/things/{thingId}"]["get"]["summary"] == "Fetch a thing."


def test_a_greedy_path_parameter_is_documented_by_its_name(table):
    document = client_document(table, title="t")
    (path,) = document["paths"]["/files/{path}"]["get"]["parameters"]
    assert path["name"] == "path" and path["in"] == "path"


def test_bodies_and_answers_are_the_declared_schemas_in_camel_case(table):
    post = client_document(table, title="t")["paths"]["/things"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["thingName"] and body["additionalProperties"] is False
    assert body["properties"]["thingName"] == {"type": "string", "maxLength": 10, "pattern": NO_NUL}
    answer = client_document(table, title="t")["paths"]["/things/{thingId}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["properties"]["thingName"]
    assert {"400", "409", "413", "415", "503"} <= set(post["responses"])


def test_the_gateway_profile_keeps_only_what_api_gateway_models_accept(table):
    post = gateway_document(table, title="t", integration_uri="x")["paths"]["/things"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert "additionalProperties" not in body
    assert body["properties"]["size"] == {"type": "integer", "nullable": True}
    assert "pattern" not in body["properties"]["thingName"]


def test_an_http_api_document_carries_no_schemas_so_its_import_cannot_warn(table):
    document = gateway_document(table, title="t", integration_uri="x", flavor="http")
    post = document["paths"]["/things"]["post"]
    assert "requestBody" not in post and set(post["responses"]) == {"default"}
    assert post["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"


def test_operation_ids_stay_unique_when_one_function_serves_several_routes(table):
    document = client_document(table, title="t")
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert {document["paths"]["/a"]["get"]["operationId"], document["paths"]["/a"]["delete"]["operationId"]} == {
        "twiceGet",
        "twiceDelete",
    }


def test_camel_schema_renames_properties_and_required_but_not_values():
    schema = {"type": "object", "properties": {"first_name": {"enum": ["a_b"]}}, "required": ["first_name"]}
    assert camel_schema(schema) == {
        "type": "object",
        "properties": {"firstName": {"enum": ["a_b"]}},
        "required": ["firstName"],
    }


def _secured_table():
    router = Router()

    @router.rest("GET", "/health", auth="none")
    def health() -> dict:
        return {}

    @router.rest("GET", "/things")
    def things() -> list:
        return []

    @router.rest("DELETE", "/things/{thingId}", groups=["admin"])
    def delete_thing(thing_id: int) -> None:
        return None

    @router.rest("GET", "/reports", scopes=["reports/read"])
    def reports() -> list:
        return []

    @router.rest("POST", "/jobs", auth="iam")
    def jobs() -> None:
        return None

    return router.routes


def _operations(document):
    methods = ("get", "post", "put", "delete", "patch", "x-amazon-apigateway-any-method")
    return {
        (path, method): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in methods
    }


def test_with_cognito_every_gateway_operation_but_the_public_ones_carries_the_user_pool_authorizer():
    access = Access("cognito", user_pool_arns=("arn:pool",))
    document = gateway_document(_secured_table(), title="t", integration_uri="x", access=access)
    scheme = document["components"]["securitySchemes"]["cognito"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["x-amazon-apigateway-authorizer"] == {"type": "cognito_user_pools", "providerARNs": ["arn:pool"]}
    assert document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for (path, method), operation in _operations(document).items():
        if path == "/health" and method == "get":
            assert "security" not in operation
        elif path == "/jobs" and method == "post":
            assert operation["security"] == [{"sigv4": []}]
        elif path == "/reports" and method == "get":
            assert operation["security"] == [{"cognito": ["reports/read"]}]  # API Gateway's authorizationScopes
        else:
            assert operation["security"] == [{"cognito": []}], (path, method)  # catch-alls included
    assert document["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    validate({**document, "paths": {p.replace("+}", "}"): item for p, item in document["paths"].items()}})


def test_with_iam_and_api_keys_each_operation_needs_a_signature_and_a_key():
    document = gateway_document(_secured_table(), title="t", integration_uri="x", access=Access("iam", api_keys=True))
    assert document["x-amazon-apigateway-api-key-source"] == "HEADER"
    assert document["paths"]["/things"]["get"]["security"] == [{"sigv4": [], "api_key": []}]
    assert "security" not in document["paths"]["/health"]["get"]


def test_an_http_api_with_jwt_names_the_issuer_and_audience_and_the_route_scopes():
    access = Access("jwt", issuer="https://issuer.example", audience=("client",))
    document = gateway_document(_secured_table(), title="t", integration_uri="x", flavor="http", access=access)
    authorizer = document["components"]["securitySchemes"]["jwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["jwtConfiguration"] == {"issuer": "https://issuer.example", "audience": ["client"]}
    assert document["paths"]["/reports"]["get"]["security"] == [{"jwt": ["reports/read"]}]


def test_the_client_document_tells_swagger_ui_how_to_authorize_and_lists_401_and_403():
    document = client_document(_secured_table(), title="t", access=Access("cognito"))
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    delete = document["paths"]["/things/{thingId}"]["delete"]
    assert delete["security"] == [{"bearer": []}] and {"401", "403"} <= set(delete["responses"])
    health = document["paths"]["/health"]["get"]
    assert "security" not in health and "401" not in health["responses"]
    public = client_document(_secured_table(), title="t")  # auth=none: only the route that says iam is signed
    assert list(public["components"]["securitySchemes"]) == ["sigv4"]
    assert [path for path, item in public["paths"].items() if any("security" in op for op in item.values())] == [
        "/jobs"
    ]
