"""Opaque cursors and page limits for keyset pagination."""

from __future__ import annotations

import base64
import binascii

from lambdakit.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def page_limit(limit: int) -> int:
    """Check a client's `limit` (1..MAX_LIMIT)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(last_id: int) -> str:
    """The cursor that continues after the row `last_id`."""
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor continues after (0 for the first page); 400 when it was not made by encode_cursor."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after" or not number.isdigit() or len(number) > 19:
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor: invalid, use the nextCursor of the previous page") from None
