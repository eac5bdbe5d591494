"""Turn the inputs of any event source into a route function's keyword arguments.

One rule for every source: each parameter of the route function is filled from the input of the
same name (camelCase outside, snake_case inside), converted to the parameter's type. For REST the
inputs are the path parameters, the query parameters and the JSON body (as `body`); for GraphQL
the field's arguments; for direct invokes the `args` object. The parameters and their types come
from the route model's `Spec`, the same one the documents and the stack are written from.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

from lambdakit.errors import BadRequest
from lambdakit.names import camel_case, snake_case
from lambdakit.routemodel import Param, Spec, annotation_type

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
# What int() takes from a URL, and no more: ASCII digits with one optional sign, at most 19 of them.
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}\Z")
_DIGITS = re.compile(r"[+-]?[0-9]+\Z")
# What the API takes as a UUID, as a parameter and as a body's `format: uuid` (lambdakit.validation).
# \Z, not $: `$` also matches before a trailing newline, and "<uuid>\n" would pass to the database.
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\Z")
_MISSING = inspect.Parameter.empty


def _to_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise BadRequest(f"{field}: must be an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)  # the common case, a plain id from a URL: no regex, no range check needed
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value)
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        raise BadRequest(f"{field}: integer out of range")
    else:
        raise BadRequest(f"{field}: must be an integer")
    if not _BIGINT_MIN <= number <= _BIGINT_MAX:
        raise BadRequest(f"{field}: integer out of range")
    return number


def _to_float(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest(f"{field}: must be a number")
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"{field}: must be a number") from None
    if not math.isfinite(number):
        raise BadRequest(f"{field}: must be a finite number")
    return number


def _to_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{field}: must be true or false")


def _to_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{field}: must be a string")
    return value


def is_uuid_text(value: str) -> bool:
    """Whether text is a UUID as the API accepts one: 32 hex digits, hyphens optional, nothing around them."""
    return _UUID.match(value) is not None


def _to_uuid(value: Any, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not _UUID.match(value):
        raise BadRequest(f"{field}: must be a UUID")
    return uuid.UUID(value)


def _to_dict(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest(f"{field}: must be a JSON object")
    return value


def _to_list(value: Any, field: str) -> list:
    if not isinstance(value, list):
        raise BadRequest(f"{field}: must be a list")
    return value


CONVERTERS: dict[str, Callable[[Any, str], Any] | None] = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "str": _to_str,
    "uuid": _to_uuid,
    "object": _to_dict,
    "array": _to_list,
    "any": None,
}


def annotation_text(annotation: Any) -> str | None:
    """An annotation as the text the route model reads (`int | None`, `list[int]`, `uuid.UUID`)."""
    if annotation is _MISSING or annotation is Any:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(annotation_text(a) or "Any" for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return annotation_text(typing.get_args(annotation)[0])
    if origin is not None:
        args = ", ".join(annotation_text(a) or "Any" for a in typing.get_args(annotation))
        return f"{annotation_text(origin)}[{args}]" if args else annotation_text(origin)
    return None


def spec_of(fn: Callable[..., Any], **declared: Any) -> Spec:
    """The Spec of a function as the router will call it: its parameters by name and type, plus what was declared."""
    parameters = []
    accepts_any = False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_any = True
            continue
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            raise TypeError(f"{fn.__qualname__}: route parameters must be passable by name ({p.name})")
        kind, items = annotation_type(annotation_text(p.annotation))
        parameters.append(Param(p.name, kind, items, p.default is _MISSING))
    doc = inspect.getdoc(fn) or ""
    summary = declared.pop("summary", None) or (doc.strip().splitlines()[0] if doc.strip() else "")
    return Spec(tuple(parameters), accepts_any, summary=summary, **declared)


class Binding:
    """The parameters of one route function, ready to bind inputs: converters, constraints, body schema."""

    def __init__(self, spec: Spec | Callable[..., Any]) -> None:
        if not isinstance(spec, Spec):
            spec = spec_of(spec)
        self.spec = spec
        self.accepts_any = spec.accepts_any
        self.parameters: dict[str, tuple[Param, Callable[[Any, str], Any] | None, str]] = {}
        self.injected: tuple[Param, ...] = tuple(p for p in spec.parameters if p.injected)
        self._by_api_name: dict[str, str] = {}
        for param in spec.parameters:
            if param.injected:
                continue
            convert = CONVERTERS.get(param.type)
            if param.type == "array" and CONVERTERS.get(param.items or "any"):
                convert = _list_of(CONVERTERS[param.items or "any"])  # type: ignore[arg-type]
            self.parameters[param.name] = (param, convert, param.api_name)
            self._by_api_name[param.api_name] = param.name

    def wants_list(self, name: str) -> bool:
        """Whether a repeated query key should arrive as a list for this parameter."""
        found = self.parameters.get(name)
        return found is not None and found[0].type == "array"

    def query_parameter(self, api_name: str) -> str:
        """The parameter a query parameter fills, found by the name the documents give it (`courseId`).

        Another spelling of a known parameter (`course_id`) is a 400 that names the documented one; a
        function that takes `**kwargs` takes any name, snake_cased.
        """
        name = self._by_api_name.get(api_name)
        if name is not None:
            return name
        if self.accepts_any:
            return snake_case(api_name)
        found = self.parameters.get(snake_case(api_name))
        if found is not None:
            raise BadRequest(f"{api_name}: unknown parameter, the query parameter is {found[2]}")
        raise BadRequest(f"{api_name}: unknown parameter")

    def bind(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Map snake_cased inputs to keyword arguments; 400 naming the field on a missing, unknown or bad input."""
        kwargs: dict[str, Any] = {}
        for name, value in inputs.items():
            found = self.parameters.get(name)
            if found is None:
                if self.accepts_any:
                    kwargs[name] = value
                    continue
                raise BadRequest(f"{camel_case(name)}: unknown parameter")
            param, convert, api_name = found
            if value is None:
                if param.required:
                    raise BadRequest(f"{api_name}: is required")
                continue
            kwargs[name] = convert(value, api_name) if convert else value
        for param, _, _ in self.parameters.values():
            if param.name not in kwargs and param.required:
                what = "request body" if param.name == "body" else param.api_name
                raise BadRequest(f"{what}: is required")
        if self.spec.params or self.spec.body is not None:
            self._check_declared(kwargs)
        return kwargs

    def _check_declared(self, kwargs: dict[str, Any]) -> None:
        """The constraints the route declared (`params=`, `body=`), checked as its documents state them."""
        validation = _validation()
        validate, validate_value = validation.validate, validation.validate_value
        for name, constraints in self.spec.params.items():
            if name in kwargs:
                value = kwargs[name]
                validate_value(str(value) if isinstance(value, uuid.UUID) else value, constraints, camel_case(name))
        if self.spec.body is not None and "body" in kwargs:
            kwargs["body"] = validate(kwargs["body"], self.spec.body)


def _validation() -> Any:
    """lambdakit.validation, loaded with fastjsonschema on the first route that declares a schema."""
    global _validation_module
    if _validation_module is None:
        from lambdakit import validation

        _validation_module = validation
    return _validation_module


_validation_module: Any = None


def _list_of(convert_item: Callable[[Any, str], Any]) -> Callable[[Any, str], list]:
    def convert_list(value: Any, field: str) -> list:
        values = value if isinstance(value, list) else [value]
        return [convert_item(v, field) for v in values]

    return convert_list
