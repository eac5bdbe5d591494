"""A bound on every wait for the database: a request ends within the function's time, whatever it waits on.

The statement timeout bounds a statement the server runs. Nothing on the server bounds a query that waits
for a connection in a pooler's queue (PgBouncer keeps it until `query_wait_timeout`, 120 s by default; RDS
Proxy until its borrow timeout), nor a socket the network has stalled: Lambda would end the invocation at
its timeout and API Gateway answer a bare 502. So database calls run under a deadline, the invocation's
remaining time less a moment to answer, and one watchdog thread per execution environment shuts the
connection's socket down when the deadline passes: the driver returns at once with an error, and the call
ends as 503 with `Retry-After` (db_utils).

Why a thread: psycopg2 waits inside libpq with the GIL released, where a signal handler cannot run until
the wait is over; a psycopg2 wait callback would put every query through Python-level polling, which a warm
request would pay for. Here a warm request pays two attribute stores: the router notes the invocation's
context, a call notes the connection it uses, and the thread reads the clock (and the context's remaining
time) while calls are being made. Nothing is sent to the server for this (no `SET`, no startup options),
so it works through any pooler.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

# Kept back from the function's remaining time to roll back, log and answer (at most half of what is left).
ANSWER_MARGIN_SECONDS = 1.0
# How often the watchdog looks at the clock while a call is made: how late past its deadline a cut may come.
_TICK_SECONDS = 0.1

_context: Any = None
_deadline_of: tuple[Any, float | None] = (None, None)  # (context, its deadline), worked out once per context


def begin(context: Any) -> None:
    """Note the invocation's Lambda context: its remaining time bounds the database waits of this request."""
    global _context
    _context = context


def wait_until() -> float | None:
    """The `time.monotonic()` by which database waits must end; None when no Lambda context says (scripts, tests)."""
    global _deadline_of
    context = _context
    seen, until = _deadline_of
    if context is seen:
        return until
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        until = None
    else:
        left = remaining() / 1000
        until = time.monotonic() + left - min(ANSWER_MARGIN_SECONDS, left / 2)
    _deadline_of = (context, until)
    return until


class Watchdog:
    """Shuts the socket of the connection in use down once the invocation's deadline passes.

    A call notes its connection (`watch`) and forgets it (`release`): one store each, no lock. Should the
    thread cut a connection just released, the next call finds the cached connection closed at its first
    statement and reconnects, as after any server-side close.
    """

    def __init__(self) -> None:
        self._conn: Any = None
        self._cut: Any = None  # the connection that was cut
        self._idle = True  # the thread waits for a `watch` to wake it
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, conn: Any) -> None:
        """Bound the waits of `conn` by the invocation's deadline from now until `release` (none without one)."""
        self._conn = conn
        if self._idle and _context is not None:
            self._idle = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lambdakit-db-deadline", daemon=True)
                self._thread.start()
            self._wake.set()

    def release(self) -> None:
        """The call is over."""
        self._conn = None

    def was_cut(self) -> bool:
        """Whether the connection in use has been cut."""
        conn = self._conn
        return conn is not None and self._cut is conn

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(_TICK_SECONDS)
            conn = self._conn
            if conn is None:
                self._wake.clear()
                self._idle = True
                if self._conn is not None:  # watched meanwhile, perhaps without waking this thread
                    self._idle = False
                    self._wake.set()
                continue
            until = wait_until()
            if until is not None and self._cut is not conn and time.monotonic() >= until:
                self._cut = conn
                _shut_down(conn)

    def _forget_thread(self) -> None:
        """In a forked child the thread is gone: the next `watch` starts one."""
        self._thread = None
        self._idle = True
        self._wake = threading.Event()


def _shut_down(conn: Any) -> None:
    """End every wait on the connection's socket (the driver sees the connection closed); the fd stays libpq's."""
    import socket

    try:
        duplicate = os.dup(conn.fileno())
    except Exception:  # already closed: nothing waits on it
        return
    with socket.socket(fileno=duplicate) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


watchdog = Watchdog()
os.register_at_fork(after_in_child=watchdog._forget_thread)
