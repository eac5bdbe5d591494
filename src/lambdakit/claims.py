"""Groups and scopes read exactly as each source presents them.

A token's `cognito:groups` (or `groups`) is a JSON list. API Gateway hands the function every claim as a
string: a REST API's Cognito authorizer joins a list with commas (`"staff,admin"`), an HTTP API's JWT
authorizer writes it in brackets with spaces (`"[staff admin]"`). Both lose information: one group named
`x,admin` and two groups `x` and `admin` are the same string in a REST event. A string that cannot hold
two readings (no separator in it) is read as it is; otherwise the exact list is read from the token the
gateway verified, which the request still carries in its `Authorization` header (the authorizer's
identity source), and used only when it renders to exactly the string the gateway gave. When neither
works the groups are unknown (None), and a route that names groups refuses the caller.

Scopes need none of this: an OAuth scope never contains a space (RFC 6749, 3.3), so splitting a scope
string on white space is exact.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from lambdakit.errors import BadRequest

REST = "rest"  # a REST API (v1): lists joined with ","
HTTP = "http"  # an HTTP API (v2): lists as "[a b]"
_GROUP_CLAIMS = ("cognito:groups", "groups")
# What a route's group name may not contain: the characters either gateway uses to write a list.
AMBIGUOUS_CHARACTERS = frozenset(",[] \t\r\n\f\v")


def group_claim(claims: Mapping[str, Any]) -> tuple[str, Any]:
    """The name and value of the groups claim (`cognito:groups`, else `groups`); ("", None) without one."""
    for name in _GROUP_CLAIMS:
        if claims.get(name) not in (None, ""):
            return name, claims[name]
    return "", None


def rendered(value: Any, style: str) -> str:
    """A claim's value as the gateway of `style` writes it into the event."""
    if isinstance(value, list):
        return f"[{' '.join(map(str, value))}]" if style == HTTP else ",".join(map(str, value))
    return str(value)


def _single(text: str, style: str) -> tuple[str, ...] | None:
    """The groups of `text` when only one reading exists; None when it could be one group or several."""
    if style == HTTP and text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        if not inner:
            return ()
        return None if AMBIGUOUS_CHARACTERS.intersection(inner) else (inner,)
    if style == HTTP:
        return None if AMBIGUOUS_CHARACTERS.intersection(text) else (text,)
    return None if "," in text else (text,)


def groups(
    claims: Mapping[str, Any], style: str, token_claims: Callable[[], Mapping[str, Any] | None], where: str
) -> tuple[str, ...] | None:
    """The caller's groups from API Gateway's claims (`where` names them in a 400); None when not readable exactly."""
    name, value = group_claim(claims)
    if value is None:
        return ()
    if not isinstance(value, str):  # API Gateway writes every claim as a string
        raise BadRequest(f"{where}.{name}: must be text")
    single = _single(value, style)
    if single is not None:
        return single
    verified = token_claims()
    if verified is None or verified.get("sub") != claims.get("sub"):
        return None
    listed = verified.get(name)
    if isinstance(listed, str):  # a claim that is one string is presented as it is
        return (listed,) if listed == value else None
    if not isinstance(listed, list) or not all(isinstance(g, str) for g in listed):
        return None
    return tuple(listed) if rendered(listed, style) == value else None


def scopes(value: Any, where: str) -> tuple[str, ...]:
    """OAuth scopes from a list, a space-separated string, or an HTTP API's "[a b]"."""
    if value is None:
        return ()
    if isinstance(value, list):
        return string_list(value, where)
    if not isinstance(value, str):
        raise BadRequest(f"{where}: must be text or a list of strings")
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return tuple(value.split())


def string_list(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings as a tuple; 400 naming `where` for anything else."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{where}: must be a list of strings")
    return tuple(value)


def bearer_claims(authorization: str | None) -> dict[str, Any] | None:
    """The payload of the JWT in an `Authorization` header (`Bearer <jwt>` or the bare token), unverified.

    Only for a request the gateway's authorizer has already verified: it checked this very header.
    """
    if not authorization:
        return None
    token = authorization.split()[-1]
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
