"""Answers beyond plain JSON: a status, headers, cookies, and a text or binary body of any type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambdakit.records import record


@record()
class Response:
    """What a REST route may return instead of plain data.

    `body` is data (sent as JSON, camelCased like any answer), `str` (text) or `bytes` (binary, sent
    base64 to API Gateway); `content_type` defaults to JSON, text/plain or application/octet-stream
    accordingly. `status` defaults to the route's (`status=` on the decorator, else 200). `cookies` are
    whole `Set-Cookie` values. GraphQL and direct invokes get `body` alone.
    """

    body: Any
    status: int | None
    headers: Mapping[str, str]
    cookies: Sequence[str]
    content_type: str | None

    def __init__(
        self,
        body: Any = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Sequence[str] = (),
        content_type: str | None = None,
    ) -> None:
        # Written out, as a frozen dataclass's is: routes make one per request, and the generic loop costs 1 us more.
        setattr_ = object.__setattr__
        setattr_(self, "body", body)
        setattr_(self, "status", status)
        setattr_(self, "headers", {} if headers is None else headers)
        setattr_(self, "cookies", cookies)
        setattr_(self, "content_type", content_type)


def redirect(location: str, status: int = 302) -> Response:
    """A redirect to `location` (302 by default; 301, 303, 307 and 308 also make sense)."""
    return Response(status=status, headers={"Location": location})
