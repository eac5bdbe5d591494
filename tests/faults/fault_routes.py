"""A Lambda module for the fault scenarios: its own Router, served by the local server like the real one.

`POST /pairs` writes two rows in one transaction, so a fault in the middle shows up as a half-applied
write if rollback ever failed; `GET /sleep` runs into the statement timeout; `GET /broken` is a bug
(a missing table) whose SQL text must never reach a client or a log line.
"""

from __future__ import annotations

import os
import time

from db_utils import transaction
from lambdakit.router import Router
from lambdakit.validation import validate

router = Router()

PAIR = {
    "type": "object",
    "properties": {"request_id": {"type": "string", "format": "uuid"}},
    "required": ["request_id"],
    "additionalProperties": False,
}


@router.rest("GET", "/ping")
@transaction(read_only=True)
def ping(conn) -> dict:
    """Which execution environment (worker pid) and which server session (backend pid) answered."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS backend")
        return {"backend": cur.fetchone()["backend"], "worker": os.getpid()}


@router.rest("POST", "/pairs", status=201)
@transaction
def write_pair(conn, body: dict) -> dict:
    """Insert rows 1 and 2 of one request; a short sleep between them lets a restart land mid-transaction."""
    request_id = validate(body, PAIR)["request_id"]
    with conn.cursor() as cur:
        cur.execute("INSERT INTO fault_pairs (request_id, part) VALUES (%s, 1)", (request_id,))
        cur.execute("SELECT pg_sleep(0.003)")
        cur.execute("INSERT INTO fault_pairs (request_id, part) VALUES (%s, 2)", (request_id,))
    return {"request_id": request_id, "worker": os.getpid()}


@router.rest("GET", "/sleep")
@transaction(read_only=True)
def sleep(conn, seconds: float) -> dict:
    """Hold a statement for `seconds` (the statement timeout scenario, and spreading load over workers)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_sleep(%s)", (seconds,))
    return {"worker": os.getpid()}


@router.rest("GET", "/busy")
def busy(seconds: float) -> dict:
    """Work in Python for `seconds`, no database: the function timeout scenario."""
    time.sleep(seconds)
    return {"worker": os.getpid()}


@router.rest("GET", "/broken")
@transaction(read_only=True)
def broken(conn) -> dict:
    """A route with a bug: the table does not exist, so the driver's error quotes this SQL."""
    with conn.cursor() as cur:
        cur.execute("SELECT secret_column FROM no_such_table_for_faults")
        return cur.fetchone()


def handler(event: dict, context: object) -> dict:
    """Lambda entry point, as in lambda_function."""
    return router.handle(event, context)
