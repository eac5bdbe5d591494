"""The workers' event loop takes one waiting connection per pass, and still takes every connection."""

from __future__ import annotations

import asyncio
import collections
import socket

from local.event_loop import SpreadingEventLoop

WAITING = 6


class RecordingSocket(socket.socket):
    """A listening socket that notes in which pass of the loop each connection was taken."""

    def accept(self):
        connection = super().accept()
        self.passes.append(self.current_pass[0])
        return connection


class Closing(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


def _taken_per_pass(loop: asyncio.AbstractEventLoop) -> collections.Counter:
    """How many connections each pass of the loop took, WAITING clients being queued before it starts."""
    listener = RecordingSocket(socket.AF_INET, socket.SOCK_STREAM)
    listener.passes, listener.current_pass = [], [0]
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(WAITING)]

    def tick() -> None:  # runs once in every pass while the test waits
        listener.current_pass[0] += 1
        if len(listener.passes) < WAITING:
            loop.call_soon(tick)

    async def serve() -> None:
        server = await loop.create_server(Closing, sock=listener)
        loop.call_soon(tick)
        for _ in range(1000):
            if len(listener.passes) == WAITING:
                break
            await asyncio.sleep(0.001)
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(serve())
    finally:
        for client in clients:
            client.close()
        loop.close()
    return collections.Counter(listener.passes)


def test_asyncio_takes_every_waiting_connection_in_one_pass():
    # The contrast that makes the loop worth having: one worker woken takes a client's every connection.
    assert max(_taken_per_pass(asyncio.SelectorEventLoop()).values()) == WAITING


def test_the_workers_loop_takes_one_connection_per_pass_and_all_of_them():
    per_pass = _taken_per_pass(SpreadingEventLoop())
    assert sum(per_pass.values()) == WAITING
    assert max(per_pass.values()) == 1


def test_uvicorn_builds_the_workers_loop_from_the_servers_setting():
    import uvicorn

    factory = uvicorn.Config("local.server:app", loop="local.event_loop:new_event_loop").get_loop_factory()
    loop = factory()
    try:
        assert isinstance(loop, SpreadingEventLoop)
    finally:
        loop.close()
