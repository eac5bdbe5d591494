"""JSON Schema validation of bodies gives one message naming one field, in the client's camelCase."""

from __future__ import annotations

import pytest

from lambdakit.errors import BadRequest
from lambdakit.validation import validate
from students import NEW_STUDENT, STUDENT_CHANGES


def test_a_valid_body_is_returned_unchanged():
    body = {"first_name": "Ada", "last_name": "Lovelace", "active": True}
    assert validate(body, NEW_STUDENT) == body


@pytest.mark.parametrize(
    ("body", "schema", "message"),
    [
        ({"last_name": "L"}, NEW_STUDENT, "firstName: is required"),
        ({"first_name": "", "last_name": "L"}, NEW_STUDENT, "firstName: must be at least 1 characters"),
        ({"first_name": "A", "last_name": "L", "active": "yes"}, NEW_STUDENT, "active: must be a boolean"),
        ({"first_name": "A", "last_name": "L", "student_uuid": "x"}, NEW_STUDENT, "studentUuid: must be a UUID"),
        ({}, STUDENT_CHANGES, "body: must set at least 1 field"),
        ({"nickname": "x"}, STUDENT_CHANGES, "nickname: unknown field"),
    ],
)
def test_invalid_bodies_name_the_field(body, schema, message):
    with pytest.raises(BadRequest) as caught:
        validate(body, schema)
    assert caught.value.message == message
