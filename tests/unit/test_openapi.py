"""local/openapi.py: the REST routes described as a valid OpenAPI 3.1 document, read from the router."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

import lambda_function
from lambdakit.router import Router
from local.openapi import camel_schema, openapi_document, students_document


@pytest.fixture(scope="module")
def document() -> dict:
    return students_document()


def test_the_students_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_rest_route_is_one_operation_with_its_success_status(document):
    routes = {(r.method.lower(), r.path, str(r.status)) for r in lambda_function.router._rest}
    operations = {
        (method, path, next(code for code in op["responses"] if code.startswith("2")))
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert operations == routes
    assert document["paths"]["/students"]["post"]["responses"]["201"]["content"]


def test_path_parameters_are_required_bigints_and_query_parameters_optional(document):
    (student_id,) = document["paths"]["/students/{studentId}"]["get"]["parameters"]
    assert student_id["in"] == "path" and student_id["required"] is True
    assert student_id["schema"]["type"] == "integer" and student_id["schema"]["maximum"] == 2**63 - 1
    listing = {p["name"]: p for p in document["paths"]["/students"]["get"]["parameters"]}
    assert listing["limit"]["required"] is False and listing["limit"]["schema"]["maximum"] == 100
    assert listing["cursor"]["in"] == "query" and listing["cursor"]["schema"] == {"type": "string"}


def test_request_bodies_are_the_validation_schemas_in_camel_case(document):
    body = document["paths"]["/students"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert schema["required"] == ["firstName", "lastName"] and schema["additionalProperties"] is False
    assert {"studentUuid", "programId"} <= set(schema["properties"])


def test_errors_are_documented_as_a_message_object(document):
    responses = document["paths"]["/students/{studentId}"]["put"]["responses"]
    assert {"400", "404", "409", "413", "415", "503"} <= set(responses)
    assert responses["503"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["message"]


def test_types_come_from_the_route_function_annotations():
    router = Router()

    @router.rest("GET", "/things/{thingId}")
    def get_thing(thing_id: int, tags: list[str] | None = None, exact: bool = False, ratio: float = 1.0) -> dict:
        """Fetch a thing."""
        return {}

    document = openapi_document(router, title="t")
    validate(document)
    params = {p["name"]: p for p in document["paths"]["/things/{thingId}"]["get"]["parameters"]}
    assert params["thingId"]["schema"]["type"] == "integer"
    assert params["tags"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert params["exact"]["schema"] == {"type": "boolean"} and params["ratio"]["schema"] == {"type": "number"}
    assert document["paths"]["/things/{thingId}"]["get"]["summary"] == "Fetch a thing."


def test_camel_schema_renames_properties_and_required_but_not_other_keys():
    schema = {"type": "object", "properties": {"first_name": {"type": "string"}}, "required": ["first_name"]}
    assert camel_schema(schema) == {
        "type": "object",
        "properties": {"firstName": {"type": "string"}},
        "required": ["firstName"],
    }
