"""uvicorn's HTTP protocol with each answer's head and body sent in one write, as API Gateway's are.

uvicorn writes an answer's status line and headers when the app starts the answer, and its body when
the app sends it: two writes, so two segments on a TCP_NODELAY socket, two `send` calls in the worker
and often two wake-ups of the client. The transport given to the protocol here holds a lone write back
until the next write joins it, or until the loop's next pass (an answer with no body to follow, a
`100 Continue`), so nothing waits longer than the app's own turn on the loop.

Written here because uvicorn has no setting for it; it wraps the transport, not uvicorn's code.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _OneWrite:
    """A transport that sends two writes made in the same pass of the loop as one."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is None:
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._held = None
            self._transport.write(held + data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """httptools' protocol on a transport that joins an answer's head and body."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_OneWrite(transport, self.loop))  # type: ignore[arg-type]
