"""JSON Schemas of the students API's request bodies (keys in snake_case, as routes receive them)."""

from __future__ import annotations

STATUSES = ["enrolled", "graduated", "suspended", "withdrawn"]

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_FIELDS = {
    "student_uuid": {"type": "string", "format": "uuid"},
    "first_name": _NAME,
    "last_name": _NAME,
    "status": {"type": "string", "enum": STATUSES},
    "program_id": {"type": ["string", "null"], "format": "uuid"},
    "active": {"type": "boolean"},
}

NEW_STUDENT = {
    "type": "object",
    "properties": _FIELDS,
    "required": ["first_name", "last_name"],
    "additionalProperties": False,
}

STUDENT_CHANGES = {
    "type": "object",
    "properties": _FIELDS,
    "minProperties": 1,
    "additionalProperties": False,
}
