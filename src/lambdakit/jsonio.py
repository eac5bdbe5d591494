"""JSON at the API boundary: camelCase outside, snake_case inside, ISO dates, no Python reprs."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import re
import uuid
from typing import Any

from lambdakit.errors import BadRequest, PayloadTooLarge
from lambdakit.limits import check_json_text
from lambdakit.names import CAMEL, SNAKE, camel_case, snake_case
from lambdakit.settings import limits

# JSON may spell a lone UTF-16 surrogate ("\\ud800"); no UTF-8 text can hold one, so the driver would fail.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTAINERS = (dict, list, tuple)
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _outgoing(value: Any) -> Any:
    """camelCase every key, and encode the usual column types on the way: the encoder's `default` costs more."""
    if isinstance(value, dict):
        # Inlined cache lookup, and one type test for the usual scalar: this runs for every column of every row.
        cache, leaf, plain = CAMEL, _LEAF_ENCODERS, _PLAIN
        return {
            (cache.get(k) or (camel_case(k) if type(k) is str else k)): (
                v
                if (kind := type(v)) in plain
                else leaf[kind](v)
                if kind in leaf
                else _outgoing(v)
                if isinstance(v, _CONTAINERS)
                else v
            )
            for k, v in value.items()
        }
    if isinstance(value, _CONTAINERS):
        return [_outgoing(v) for v in value]
    encode = _LEAF_ENCODERS.get(type(value))
    return encode(value) if encode else value


def _check_text(text: str, where: str, what: str = "") -> None:
    if "\x00" in text:
        raise BadRequest(f"{where}: {what}must not contain NUL characters")
    if not text.isascii() and _SURROGATE.search(text):
        raise BadRequest(f"{where}: {what}must be valid Unicode (no lone surrogates)")


def snakify(value: Any, where: str = "") -> Any:
    """Return input `value` with dict keys snake_cased; rejects text PostgreSQL cannot store (NUL, lone surrogates).

    Inputs already parsed by Lambda (GraphQL arguments, direct `args`) are held to the same budgets as
    a body's text: the copy stops at the value budget (413) and at the depth budget (400), never a
    RecursionError.
    """
    if isinstance(value, str):
        _check_text(value, where or "value")
        return value
    if not isinstance(value, (dict, list)):
        return value
    budget = limits()
    return _snakify(value, where, budget.json_depth, [budget.json_values])


def _snakify(value: Any, where: str, depth: int, left: list[int]) -> Any:
    left[0] -= 1
    if left[0] < 0:
        raise PayloadTooLarge(f"{where or 'input'}: more than {limits().json_values} JSON values")
    if isinstance(value, str):
        _check_text(value, where or "value")
        return value
    if isinstance(value, dict):
        if depth == 0:
            raise BadRequest(f"{where or 'input'}: JSON is nested more than {limits().json_depth} levels deep")
        out = {}
        cache = SNAKE
        for key, item in value.items():
            if type(key) is not str:
                raise BadRequest(f"{where or 'input'}: keys must be strings")
            if "\x00" in key or not key.isascii():
                _check_text(key, where or "body", "keys ")
            name = cache.get(key) or snake_case(key)
            if name in out:
                # `firstName` and `first_name` (or `FirstName`) are one field: which should win is unclear.
                raise BadRequest(f"{f'{where}.{key}' if where else key}: the same field is given twice")
            kind = type(item)
            if kind is str and "\x00" not in item and item.isascii():
                left[0] -= 1  # the usual field: plain text, checked in place, no call
                out[name] = item
            elif kind in _SCALARS:
                left[0] -= 1
                out[name] = item
            else:
                out[name] = _snakify(item, f"{where}.{key}" if where else key, depth - 1, left)
        if left[0] < 0:
            raise PayloadTooLarge(f"{where or 'input'}: more than {limits().json_values} JSON values")
        return out
    if isinstance(value, list):
        if depth == 0:
            raise BadRequest(f"{where or 'input'}: JSON is nested more than {limits().json_depth} levels deep")
        return [_snakify(item, f"{where}[{i}]", depth - 1, left) for i, item in enumerate(value)]
    return value


_SCALARS = frozenset({int, float, bool, type(None)})


# Exact types only; subclasses and anything rarer still go through _encode.
_LEAF_ENCODERS: dict[type, Any] = {
    datetime.datetime: datetime.datetime.isoformat,
    datetime.date: datetime.date.isoformat,
    datetime.time: datetime.time.isoformat,
    uuid.UUID: str,
    # A string keeps every digit; a float would not (money, numeric(38,10)).
    decimal.Decimal: str,
}


def _encode(value: Any) -> Any:
    """The encoder's fallback: subclasses of the leaf types, and the rarer types."""
    for kind, encode in _LEAF_ENCODERS.items():
        if isinstance(value, kind):
            return encode(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__} to JSON")


def to_plain(value: Any) -> Any:
    """`value` as the JSON-native data `dumps` would write (for GraphQL and direct answers), without writing it."""
    if isinstance(value, dict):
        return {
            (camel_case(key) if isinstance(key, str) else _plain_key(key)): to_plain(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    encode = _LEAF_ENCODERS.get(type(value))
    return encode(value) if encode else to_plain(_encode(value))


def _plain_key(key: Any) -> str:
    """A non-string key as json.dumps writes it."""
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


# Built once: json.dumps with options builds a new encoder on every call, and JSONEncoder.encode
# builds its C encoder on every call too; this one is made once (circular check off: a route's
# result is a tree, and a cycle still fails, as RecursionError, which is a 500 like any bug).
_ENCODER = json.JSONEncoder(default=_encode, separators=(",", ":"), ensure_ascii=False)
_C_ENCODER = (
    json.encoder.c_make_encoder(None, _encode, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    if json.encoder.c_make_encoder is not None
    else None
)


def dumps(value: Any) -> str:
    """Serialize a route's result as the API's JSON: camelCase keys, ISO dates, UUIDs and Decimals as strings."""
    if _C_ENCODER is None:
        return _ENCODER.encode(_outgoing(value))
    return "".join(_C_ENCODER(_outgoing(value), 0))


def loads_body(text: str, where: str = "body") -> Any:
    """Parse a request body within the budgets (limits.py); malformed JSON is the client's error (400), never a 500."""
    check_json_text(text, where)
    try:
        return json.loads(text)
    except RecursionError:
        raise BadRequest("body: JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body: malformed JSON ({exc.msg} at position {exc.pos})") from None
    except ValueError:
        # Python refuses to parse integers of more than 4300 digits (a denial-of-service guard).
        raise BadRequest("body: malformed JSON (number too long)") from None
