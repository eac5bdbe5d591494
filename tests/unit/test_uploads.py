"""A request body as the local gateway reads it: what is kept, and what the server asks after answering."""

from __future__ import annotations

import asyncio

from local.uploads import LARGE_BYTES, Uploads


def _receiver(*chunks: bytes):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict:
        return messages.pop(0)

    return receive


def test_a_large_body_is_still_known_as_large_once_its_slot_is_given_back():
    async def read_twice() -> tuple[bool, bool, int]:
        uploads = Uploads()
        half = b"x" * (LARGE_BYTES // 2 + 1)
        first = await uploads.read(_receiver(half, half), keep=4 * LARGE_BYTES)
        first.release()
        # The slot is free again: a second large body does not wait for it.
        second = await asyncio.wait_for(uploads.read(_receiver(half, half), keep=4 * LARGE_BYTES), 1)
        second.release()
        return first.large, second.large, len(first.data)

    first_large, second_large, kept = asyncio.run(read_twice())
    assert first_large and second_large
    assert kept == 2 * (LARGE_BYTES // 2 + 1)


def test_a_small_body_in_one_message_is_kept_as_it_came_and_is_not_large():
    body = asyncio.run(Uploads().read(_receiver(b'{"name":"Ada"}'), keep=LARGE_BYTES))
    assert body.data == b'{"name":"Ada"}' and body.size == 14 and body.kept_all and not body.large


def test_past_what_the_request_can_use_the_body_is_counted_not_kept():
    body = asyncio.run(Uploads().read(_receiver(b"a" * 10, b"b" * 10), keep=15))
    assert body.size == 20 and not body.kept_all and body.data == b""
