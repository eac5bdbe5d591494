"""Opaque cursors and page limits for keyset pagination.

A cursor is the last key of a page, as 8 bytes in URL-safe base64 (11 characters). Every string of
that shape decodes to some key, so the documented pattern is exactly what the API accepts: a
client can never send a cursor the document allows and the API refuses.
"""

from __future__ import annotations

import base64

from lambdakit.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
CURSOR_PATTERN = "^[A-Za-z0-9_-]{11}$"
# `params=` of a paginated route: what `limit` and `cursor` may be, enforced and documented alike.
PAGE_PARAMS = {
    "limit": {"minimum": 1, "maximum": MAX_LIMIT},
    "cursor": {"pattern": CURSOR_PATTERN},
}
_FIRST = -(2**63)


def encode_cursor(last_key: int) -> str:
    """The cursor that continues after the row whose key is `last_key` (a bigint)."""
    return base64.urlsafe_b64encode(last_key.to_bytes(8, "big", signed=True)).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The key a cursor continues after (the smallest bigint for the first page); 400 when it is malformed."""
    if not cursor:
        return _FIRST
    if not isinstance(cursor, str) or len(cursor) != 11 or not cursor.isascii():
        raise BadRequest("cursor: invalid, use the nextCursor of the previous page")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=")
    except ValueError:
        raise BadRequest("cursor: invalid, use the nextCursor of the previous page") from None
    return int.from_bytes(raw, "big", signed=True)
