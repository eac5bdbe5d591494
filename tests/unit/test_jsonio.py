"""The JSON contract: camelCase keys, ISO dates, UUIDs and Decimals as strings, clear 400s for bad bodies."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

import pytest

from lambdakit.errors import BadRequest
from lambdakit.jsonio import camel_case, dumps, loads_body, snake_case, snakify


@pytest.mark.parametrize(
    ("snake", "camel"),
    [("student_id", "studentId"), ("id", "id"), ("next_cursor", "nextCursor"), ("program_id", "programId")],
)
def test_names_convert_both_ways(snake, camel):
    assert camel_case(snake) == camel
    assert snake_case(camel) == snake


def test_dumps_writes_camel_case_iso_dates_uuids_and_exact_decimals():
    row = {
        "student_id": 7,
        "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "born_on": datetime.date(2001, 2, 3),
        "student_uuid": uuid.UUID("6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001"),
        "balance": decimal.Decimal("12345678901234567890.12"),
        "items": [{"first_name": "Ada"}],
    }
    assert json.loads(dumps(row)) == {
        "studentId": 7,
        "createdAt": "2026-01-02T03:04:05+00:00",
        "bornOn": "2001-02-03",
        "studentUuid": "6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001",
        "balance": "12345678901234567890.12",
        "items": [{"firstName": "Ada"}],
    }


def test_dumps_refuses_objects_it_cannot_represent_rather_than_writing_a_repr():
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_snakify_converts_input_keys_and_rejects_nul_naming_the_field():
    assert snakify({"firstName": "A", "address": {"zipCode": "1"}}) == {"first_name": "A", "address": {"zip_code": "1"}}
    with pytest.raises(BadRequest, match=r"^lastName: must not contain NUL"):
        snakify({"lastName": "x\x00y"})


@pytest.mark.parametrize("text", ["{", "[1,", "nul", "[" * 1000, '{"a":' * 300 + "1" + "}" * 300])
def test_malformed_or_deeply_nested_json_is_a_bad_request(text):
    with pytest.raises(BadRequest, match=r"^body: "):
        loads_body(text)
