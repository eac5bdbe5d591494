"""The workers' HTTP protocol sends an answer's head and body in one write, and holds nothing back longer."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from local.one_write import OneWriteHttpToolsProtocol

REQUEST = b"GET /widgets/1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
BODY = b'{"widgetId":1}'


class Recording(asyncio.Transport):
    """The socket's side of a connection: what was written, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 3000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _answer(scope: dict, receive: Any, send: Any) -> None:
    """An app that answers as the local server's does: a start, then the whole body."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})


def _serve(protocol_class: type, request: bytes, app: Any = _answer, writes: int | None = None) -> Recording:
    """Feed `request` to a real uvicorn protocol on a recording transport; what it wrote once the loop settles.

    With `writes`, what it wrote once that many writes were made (the app may still be waiting).
    """
    loop = asyncio.new_event_loop()
    try:
        config = Config(app=app, lifespan="off", access_log=False, log_level="warning")
        config.load()
        state = ServerState()
        protocol = protocol_class(config=config, server_state=state, app_state={}, _loop=loop)
        transport = Recording()

        async def run() -> None:
            protocol.connection_made(transport)
            protocol.data_received(request)
            for _ in range(2000):  # until the app's tasks are done and the loop has nothing left to run
                await asyncio.sleep(0.001)
                if not state.tasks and not loop._ready:  # type: ignore[attr-defined]
                    break
                if writes is not None and len(transport.writes) >= writes:
                    break
            for task in list(state.tasks):
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)

        loop.run_until_complete(run())
        return transport
    finally:
        loop.close()


def test_uvicorn_alone_writes_the_head_and_the_body_apart() -> None:
    # What the protocol is for: two writes are two segments on a TCP_NODELAY socket, two sends in the worker.
    assert len(_serve(HttpToolsProtocol, REQUEST).writes) == 2


def test_the_workers_protocol_writes_an_answer_once() -> None:
    writes = _serve(OneWriteHttpToolsProtocol, REQUEST).writes
    assert len(writes) == 1
    head, _, body = writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-type: application/json" in head
    assert BODY in body


def test_pipelined_requests_are_answered_in_order_one_write_each() -> None:
    writes = _serve(OneWriteHttpToolsProtocol, REQUEST * 3).writes
    assert len(writes) == 3
    assert all(w.startswith(b"HTTP/1.1 200 OK\r\n") and w.endswith(b"\r\n0\r\n\r\n") for w in writes)


def test_a_lone_write_goes_out_on_the_loops_next_pass() -> None:
    # An app that fails after its start: uvicorn writes the head, and later only closes the connection.
    async def fails(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.01)
        raise RuntimeError("after the head")

    transport = _serve(OneWriteHttpToolsProtocol, REQUEST, fails)
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.closed


def test_what_is_held_is_written_before_the_connection_closes() -> None:
    async def closing(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": [(b"connection", b"close")]})
        await send({"type": "http.response.body", "body": b"x"})

    loop = asyncio.new_event_loop()
    try:
        from local.one_write import _OneWrite

        transport = Recording()
        held = _OneWrite(transport, loop)
        held.write(b"head")
        held.close()  # before the loop's next pass
        assert transport.writes == [b"head"] and transport.closed
    finally:
        loop.close()
    answered = _serve(OneWriteHttpToolsProtocol, REQUEST, closing)
    assert len(answered.writes) == 1 and answered.writes[0].startswith(b"HTTP/1.1 500")
    assert answered.closed


def test_a_100_continue_is_not_held_until_the_body_comes() -> None:
    async def reads_body(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    request = b"POST /widgets HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    written = _serve(OneWriteHttpToolsProtocol, request, reads_body, writes=1).writes
    assert written[0] == b"HTTP/1.1 100 Continue\r\n\r\n"  # written while the app waits for the body
