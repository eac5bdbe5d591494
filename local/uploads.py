"""Requests as the local gateway reads them: within API Gateway's sizes, whole, in bounded memory.

API Gateway refuses a request whose request line and header values together pass 10240 bytes
(`header_bytes`), and one whose body passes 10 MB.

API Gateway reads a request's body before it invokes the function; a worker here is one Lambda
execution environment, which answers one request at a time. So a worker holds at most one large body
at a time: a connection sending more than `LARGE_BYTES` waits for the slot before the rest is read
(uvicorn stops reading its socket meanwhile, and the kernel's buffers hold what the client sends), and
small bodies never wait behind a large one. Past what the request can still use (Lambda's 6 MiB payload
for a REST route, API Gateway's 10 MB for `/graphql`) the body is counted, not kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

# API Gateway's own request limit (REST and HTTP APIs): 413 past it.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# API Gateway's "total combined size of request line and header values" (REST and HTTP APIs).
MAX_HEADER_BYTES = 10240
# Bodies up to this size are read without waiting for the worker's slot.
LARGE_BYTES = 1024 * 1024


@dataclass
class Body:
    """A request body: its bytes (up to what was kept), its full size, and the slot it holds while served."""

    data: bytes = b""
    size: int = 0
    kept_all: bool = True
    _slot: asyncio.Semaphore | None = field(default=None, repr=False)

    @property
    def over_gateway_limit(self) -> bool:
        """Whether API Gateway would refuse the request (413) before anything else."""
        return self.size > MAX_REQUEST_BYTES

    @property
    def large(self) -> bool:
        """Whether it was past LARGE_BYTES, so held the worker's slot: its memory is worth returning once answered.

        Read from the size, not the slot: the server asks after the slot is given back.
        """
        return self.size > LARGE_BYTES

    def release(self) -> None:
        """Give the slot back (once the answer is written)."""
        if self._slot is not None:
            self._slot.release()
            self._slot = None


def header_bytes(scope: dict[str, Any]) -> int:
    """The request line and header values of an ASGI request, in bytes, as API Gateway counts them."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"")
    line = len(scope["method"]) + target + len(" ? HTTP/1.1")
    return line + sum(len(value) for _, value in scope["headers"])


class Uploads:
    """The body reader of one worker: one large body at a time (see the module docstring)."""

    def __init__(self, slots: int = 1) -> None:
        self._slots = slots
        self._semaphore: asyncio.Semaphore | None = None

    def _slot(self) -> asyncio.Semaphore:
        # Made on first use, inside the worker's event loop.
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._slots)
        return self._semaphore

    async def read(self, receive: Any, keep: int) -> Body:
        """The whole body of one ASGI request, keeping at most `keep` bytes of it."""
        message = await receive()
        if not message.get("more_body"):
            # The usual request: its body (if any) in one message, small enough to keep as it is.
            chunk = message.get("body", b"")
            if len(chunk) <= min(keep, LARGE_BYTES):
                return Body(data=chunk, size=len(chunk))
        body = Body()
        buffer = bytearray()
        try:
            while True:
                chunk = message.get("body", b"")
                body.size += len(chunk)
                if body.size > LARGE_BYTES and body._slot is None:
                    slot = self._slot()
                    await slot.acquire()
                    body._slot = slot
                if body.kept_all and len(buffer) + len(chunk) <= keep:
                    buffer += chunk
                elif chunk:
                    body.kept_all = False
                    buffer = bytearray()  # of no use now: the request is refused on its size
                if not message.get("more_body"):
                    break
                message = await receive()
        except BaseException:
            body.release()
            raise
        body.data = bytes(buffer)
        return body
