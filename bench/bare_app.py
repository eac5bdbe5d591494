"""The floor of `serve_vs_bare`: the least an HTTP server on the local server's stack can do for the route.

A plain ASGI callable on uvicorn with httptools, the same number of worker processes and the same
listening socket as `run_local.py serve`, that answers `GET /widgets/{id}` with the fixture route's
SELECT on one cached connection (autocommit, tuple cursor) and the row as JSON. No event, no gateway,
no handler: what is left of a request is HTTP, one round trip and a `json.dumps`.

    python -m bench.bare_app --port 3000 --workers 4     (DATABASE_URL and BENCH_BARE_QUERY set)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import Any

import psycopg2

_connection: Any = None
_JSON = [(b"content-type", b"application/json")]


def _cursor() -> Any:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(os.environ["DATABASE_URL"])
        _connection.autocommit = True
    return _connection.cursor()


async def app(scope: dict, receive: Any, send: Any) -> None:
    """GET /widgets/{id}: the row as JSON, 404 when there is none."""
    if scope["type"] != "http":
        return
    try:
        widget_id = int(scope["path"].rsplit("/", 1)[1])
    except ValueError:
        widget_id = 0
    with _cursor() as cur:
        cur.execute(os.environ["BENCH_BARE_QUERY"], {"widget_id": widget_id})
        row = cur.fetchone()
        names = [column.name for column in cur.description]
    status, body = (200, dict(zip(names, row, strict=True))) if row else (404, {"message": "not found"})
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": json.dumps(body, default=str).encode()})


def main(argv: list[str] | None = None) -> int:
    """Serve `app` as `run_local.py serve` serves the Lambda: uvicorn, httptools, its loop, N workers, TCP_NODELAY."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    # As local/server.py makes it: IPPROTO_TCP, so asyncio sets TCP_NODELAY on each connection.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    options = {
        "http": "local.one_write:OneWriteHttpToolsProtocol",  # as the local server's: one write per answer
        "loop": "local.event_loop:new_event_loop",  # as the local server's: connections spread over the workers
        "lifespan": "off",
        "access_log": False,
        "log_level": "warning",
    }
    config = uvicorn.Config("bench.bare_app:app", workers=args.workers, **options)
    Multiprocess(config, sockets=[sock]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
