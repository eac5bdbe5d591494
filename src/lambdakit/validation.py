"""Validate request bodies against JSON Schema, with 400s that name the field as the client wrote it.

fastjsonschema compiles each schema to Python once (on first use, not at import) and then checks a
body in microseconds; its errors are mapped here to one short message naming one field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdakit.binding import is_uuid_text
from lambdakit.errors import BadRequest
from lambdakit.names import camel_case

_compiled: dict[int, tuple[Any, dict[str, Any]]] = {}


def _validator(schema: Mapping[str, Any]) -> Any:
    cached = _compiled.get(id(schema))
    if cached is None:
        import fastjsonschema

        # The schema is kept beside its validator so its id() cannot be reused by another object.
        cached = _compiled[id(schema)] = (
            fastjsonschema.compile(schema, formats={"uuid": is_uuid_text}),
            schema,
        )
    return cached[0]


def _field_name(error: Any) -> str:
    parts = [camel_case(p) if isinstance(p, str) else f"[{p}]" for p in error.path[1:]]
    return ".".join(parts).replace(".[", "[") or "body"


def _message(error: Any, field: str) -> str:
    rule, definition = error.rule, error.rule_definition
    if rule == "required" and isinstance(error.value, dict):
        missing = [camel_case(name) for name in definition if name not in error.value]
        return f"{'' if field == 'body' else field + '.'}{missing[0]}: is required"
    if rule == "additionalProperties" and isinstance(error.value, dict):
        allowed = set(error.definition.get("properties", {}))
        unknown = sorted(camel_case(k) for k in error.value if k not in allowed)
        return f"{unknown[0] if unknown else field}: unknown field"
    if rule == "type":
        expected = " or ".join(definition) if isinstance(definition, list) else definition
        return f"{field}: must be {'an' if expected[:1] in 'aeiou' else 'a'} {expected}"
    if rule == "format":
        return f"{field}: must be a {'UUID' if definition == 'uuid' else definition}"
    if rule == "enum":
        return f"{field}: must be one of {', '.join(map(str, definition))}"
    if rule == "minProperties":
        return f"{field}: must set at least {definition} field{'s' if definition != 1 else ''}"
    if rule in ("minimum", "maximum"):
        return f"{field}: must be {'at least' if rule == 'minimum' else 'at most'} {definition}"
    if rule == "pattern":
        return f"{field}: invalid format (must match {definition})"
    if rule in ("minLength", "maxLength"):
        return f"{field}: must be {'at least' if rule == 'minLength' else 'at most'} {definition} characters"
    return f"{field}: must {error.message.split(' must ', 1)[-1]}"


def validate(body: Any, schema: Mapping[str, Any]) -> Any:
    """Return `body` when it matches `schema` (keys in snake_case); otherwise raise BadRequest naming the field."""
    validator = _validator(schema)
    import fastjsonschema

    try:
        return validator(body)
    except fastjsonschema.JsonSchemaValueException as error:
        raise BadRequest(_message(error, _field_name(error))) from None


def validate_value(value: Any, schema: Mapping[str, Any], field: str) -> Any:
    """Check one parameter's value against its declared constraints; the 400 names `field`."""
    validator = _validator(schema)
    import fastjsonschema

    try:
        return validator(value)
    except fastjsonschema.JsonSchemaValueException as error:
        raise BadRequest(_message(error, field)) from None
