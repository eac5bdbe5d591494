"""The workers' event loop: each takes one new connection at a time, so a client's connections spread.

The workers share one listening socket. asyncio's loop accepts every connection waiting on it each
time it is woken (up to the backlog), so the first worker to wake can take all of a client's
keep-alive connections: with `wrk -c8` against four workers, now and then all eight land on one and
the server answers at one core's speed, half of what two cores give. Taking one connection per
wake-up leaves the next for a worker that is free; the kernel's queue (`listen(2048)`) is unchanged.

Written here because neither asyncio nor uvicorn has a setting for it (libuv has UV_TCP_SINGLE_ACCEPT,
but uvloop is not among the dependencies); it overrides the one loop method that takes the count.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Connections one worker takes each time the listening socket wakes it.
ACCEPTS_PER_WAKEUP = 1


class SpreadingEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose servers accept ACCEPTS_PER_WAKEUP connections per wake-up."""

    def _start_serving(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *rest: Any,
    ) -> None:
        # `backlog` here is only how many connections to accept per wake-up; the socket's own queue is set apart.
        super()._start_serving(protocol_factory, sock, sslcontext, server, ACCEPTS_PER_WAKEUP, *rest)  # type: ignore[misc]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop factory uvicorn is given (`loop="local.event_loop:new_event_loop"`)."""
    return SpreadingEventLoop()
