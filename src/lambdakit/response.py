"""Answers beyond plain JSON: a status, headers, cookies, and a text or binary body of any type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambdakit.records import Factory, record


@record()
class Response:
    """What a REST route may return instead of plain data.

    `body` is data (sent as JSON, camelCased like any answer), `str` (text) or `bytes` (binary, sent
    base64 to API Gateway); `content_type` defaults to JSON, text/plain or application/octet-stream
    accordingly. `status` defaults to the route's (`status=` on the decorator, else 200). `cookies` are
    whole `Set-Cookie` values. GraphQL and direct invokes get `body` alone.
    """

    body: Any = None
    status: int | None = None
    headers: Mapping[str, str] = Factory(dict)
    cookies: Sequence[str] = ()
    content_type: str | None = None


def redirect(location: str, status: int = 302) -> Response:
    """A redirect to `location` (302 by default; 301, 303, 307 and 308 also make sense)."""
    return Response(status=status, headers={"Location": location})
