"""Inputs of every source become keyword arguments by name, converted by annotation, with 400s naming the field."""

from __future__ import annotations

import uuid

import pytest

from lambdakit.binding import Binding
from lambdakit.errors import BadRequest


def route(
    student_id: int,
    limit: int = 10,
    tags: list[str] | None = None,
    ref: uuid.UUID | None = None,
    body: dict | None = None,
):
    return locals()


binding = Binding(route)


def test_strings_from_a_url_are_converted_to_the_annotated_types():
    kwargs = binding.bind({"student_id": "42", "limit": "5", "ref": "6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001"})
    assert kwargs == {"student_id": 42, "limit": 5, "ref": uuid.UUID("6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001")}


def test_typed_values_from_graphql_or_direct_pass_through():
    assert binding.bind({"student_id": 42, "body": {"a": 1}}) == {"student_id": 42, "body": {"a": 1}}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "studentId: is required"),
        ({"student_id": "x"}, "studentId: must be an integer"),
        ({"student_id": True}, "studentId: must be an integer"),
        ({"student_id": str(2**63)}, "studentId: integer out of range"),
        ({"student_id": "1", "colour": "red"}, "colour: unknown parameter"),
        ({"student_id": "1", "ref": "nope"}, "ref: must be a UUID"),
        ({"student_id": "1", "body": [1]}, "body: must be a JSON object"),
    ],
)
def test_bad_inputs_are_400_naming_the_field(inputs, message):
    with pytest.raises(BadRequest) as caught:
        binding.bind(inputs)
    assert caught.value.message == message


def test_a_list_parameter_takes_every_value_of_a_repeated_query_key():
    assert binding.wants_list("tags") and not binding.wants_list("limit")
    assert binding.bind({"student_id": 1, "tags": ["a", "b"]})["tags"] == ["a", "b"]


def test_a_function_with_kwargs_accepts_any_input():
    def anything(**kwargs):
        return kwargs

    assert Binding(anything).bind({"x": 1}) == {"x": 1}
