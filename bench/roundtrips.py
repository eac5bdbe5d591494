"""Statements the server receives per request, counted in the server's own log (log_statement=all)."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from bench.common import bench_database, lambda_module, socket_url
from bench.warm import get_event, post_event
from tests.support.pgbouncer import PgBouncer

_APP = "bench-roundtrips"


def _statements(log: Path, offset: int) -> list[str]:
    # Only our connection's lines: the prefix carries the application_name, sent in the startup packet.
    # A statement runs on until the next prefixed line (SQL text spans lines).
    text = log.read_text(errors="replace")[offset:]
    found = re.findall(rf"^{_APP}\|LOG:  statement: (.*?)(?=^[^\n|]*\||\Z)", text, re.MULTILINE | re.DOTALL)
    return [" ".join(statement.split()) for statement in found]


def _count(module: object, event: dict, log: Path) -> tuple[int, list[str]]:
    offset = len(log.read_text(errors="replace"))
    result = module.handler(event, None)
    if result["statusCode"] >= 300:
        raise RuntimeError(f"handler answered {result['statusCode']}: {result['body']}")
    time.sleep(0.2)  # the server writes its log line before it answers; this only lets the file settle
    statements = _statements(log, offset)
    return len(statements), statements


def measure(through_pgbouncer: bool = False) -> dict[str, object]:
    """round_trips_read and round_trips_write for one warm GET and POST /widgets (optionally through PgBouncer)."""
    import os

    settings = {"log_statement": "all", "log_line_prefix": "'%a|'"}
    with bench_database(**settings) as server, contextlib.ExitStack() as stack:
        url = socket_url(server)
        if through_pgbouncer:
            bouncer = PgBouncer(server).start()  # its temporary folder goes with stop()
            stack.callback(bouncer.stop)
            url = bouncer.url()
        os.environ["DB_APPLICATION_NAME"] = _APP
        try:
            module = lambda_module(url)
            os.environ["DB_APPLICATION_NAME"] = _APP  # lambda_module clears runtime variables
            from lambdakit import settings as config

            config.database_settings.cache_clear()
            module.handler(get_event(1), None)  # connect first: a cold start is not a per-request cost
            log = server.datadir / "server.log"
            reads, read_sql = _count(module, get_event(1), log)
            writes, write_sql = _count(module, post_event(), log)
        finally:
            os.environ.pop("DB_APPLICATION_NAME", None)
    return {
        "round_trips_read": reads,
        "round_trips_write": writes,
        "_statements": {"read": [s[:30] for s in read_sql], "write": [s[:30] for s in write_sql]},
    }
