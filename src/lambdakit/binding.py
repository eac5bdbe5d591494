"""Turn the inputs of any event source into a route function's keyword arguments.

One rule for every source: each parameter of the route function is filled from the input of the
same name (camelCase outside, snake_case inside), converted to the parameter's annotation. For REST
the inputs are the path parameters, the query parameters and the JSON body (as `body`); for GraphQL
the field's arguments; for direct invokes the `args` object.
"""

from __future__ import annotations

import inspect
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdakit.errors import BadRequest
from lambdakit.jsonio import camel_case

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
_MISSING = inspect.Parameter.empty


def _to_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise BadRequest(f"{field}: must be an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and value.isascii():
        number = int(value)
    else:
        raise BadRequest(f"{field}: must be an integer")
    if not _BIGINT_MIN <= number <= _BIGINT_MAX:
        raise BadRequest(f"{field}: integer out of range")
    return number


def _to_float(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise BadRequest(f"{field}: must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{field}: must be a number") from None


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


def _to_uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadRequest(f"{field}: must be a UUID") from None


def _to_dict(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise BadRequest(f"{field}: must be a JSON object")
    return value


def _to_list(value: Any, field: str) -> list:
    if not isinstance(value, list):
        raise BadRequest(f"{field}: must be a list")
    return value


_CONVERTERS: dict[Any, Callable[[Any, str], Any]] = {
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    str: _to_str,
    uuid.UUID: _to_uuid,
    dict: _to_dict,
    list: _to_list,
}


def _converter_for(annotation: Any) -> tuple[Callable[[Any, str], Any] | None, bool]:
    """Pick the converter for an annotation; the flag says whether the input is a list (repeated query key)."""
    if annotation is _MISSING or annotation is Any:
        return None, False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter_for(members[0]) if len(members) == 1 else (None, False)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        convert_item, _ = _converter_for(item)
        if convert_item is None:
            return _to_list, True

        def convert_list(value: Any, field: str) -> list:
            values = value if isinstance(value, list) else [value]
            return [convert_item(v, field) for v in values]

        return convert_list, True
    if origin is dict:
        return _to_dict, False
    return _CONVERTERS.get(annotation), False


@dataclass(frozen=True)
class Parameter:
    """One keyword argument a route function takes."""

    name: str
    api_name: str
    convert: Callable[[Any, str], Any] | None
    required: bool
    is_list: bool


class Binding:
    """The parameters of one route function, read once from its signature."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        signature = inspect.signature(fn)
        namespace = getattr(inspect.unwrap(fn), "__globals__", {})
        self.parameters: dict[str, Parameter] = {}
        self.accepts_any = False
        for p in signature.parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                self.accepts_any = True
                continue
            if p.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.POSITIONAL_ONLY,
            ):
                raise TypeError(f"{fn.__qualname__}: route parameters must be passable by name ({p.name})")
            annotation = p.annotation
            if isinstance(annotation, str):
                # `from __future__ import annotations` leaves names as text; resolve them where fn was written.
                try:
                    annotation = eval(annotation, namespace)  # noqa: S307 - the module's own annotation text
                except Exception:
                    annotation = _MISSING
            convert, is_list = _converter_for(annotation)
            self.parameters[p.name] = Parameter(
                name=p.name,
                api_name="body" if p.name == "body" else camel_case(p.name),
                convert=convert,
                required=p.default is _MISSING,
                is_list=is_list,
            )

    def wants_list(self, name: str) -> bool:
        """Whether a repeated query key should arrive as a list for this parameter."""
        parameter = self.parameters.get(name)
        return parameter is not None and parameter.is_list

    def bind(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Map snake_cased inputs to keyword arguments; 400 naming the field on a missing, unknown or bad input."""
        kwargs: dict[str, Any] = {}
        for name, value in inputs.items():
            parameter = self.parameters.get(name)
            if parameter is None:
                if self.accepts_any:
                    kwargs[name] = value
                    continue
                raise BadRequest(f"{camel_case(name)}: unknown parameter")
            if value is None:
                if parameter.required:
                    raise BadRequest(f"{parameter.api_name}: is required")
                continue
            kwargs[name] = parameter.convert(value, parameter.api_name) if parameter.convert else value
        for parameter in self.parameters.values():
            if parameter.required and parameter.name not in kwargs:
                what = "request body" if parameter.name == "body" else parameter.api_name
                raise BadRequest(f"{what}: is required")
        return kwargs
