"""A bound on every wait for the database: a request ends within the function's time, whatever it waits on.

The statement timeout bounds a statement the server runs. Nothing on the server bounds a query that waits
for a connection in a pooler's queue (PgBouncer keeps it until `query_wait_timeout`, 120 s by default; RDS
Proxy until its borrow timeout), nor a socket the network has stalled: Lambda would end the invocation at
its timeout and API Gateway answer a bare 502. So each database call runs under a deadline, the function's
remaining time less a moment to answer, and one watchdog thread per execution environment shuts the
connection's socket down when the deadline passes: the driver returns at once with an error, and the call
ends as 503 with `Retry-After` (db_utils).

Why a thread: psycopg2 waits inside libpq with the GIL released, where a signal handler cannot run until
the wait is over; a psycopg2 wait callback would put every query through Python-level polling, which a warm
request would pay for. Arming and disarming cost a lock each; the thread wakes only while a call is armed.
Nothing is sent to the server for this (no `SET`, no startup options), so it works through any pooler.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

# Kept back from the function's remaining time to roll back, log and answer (at most half of what is left).
ANSWER_MARGIN_SECONDS = 1.0
# How often the watchdog looks at the clock while a call is armed: how late past its deadline a cut may come.
_TICK_SECONDS = 0.1

_context: Any = None


def begin(context: Any) -> None:
    """Note the invocation's Lambda context: its remaining time bounds the database waits of this request."""
    global _context
    _context = context


def wait_until() -> float | None:
    """The `time.monotonic()` by which database waits must end; None when no Lambda context says (scripts, tests)."""
    remaining = getattr(_context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    left = remaining() / 1000
    return time.monotonic() + left - min(ANSWER_MARGIN_SECONDS, left / 2)


class Watchdog:
    """Shuts the armed connection's socket down once its deadline passes (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[Any, float] | None = None
        self._cut = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, conn: Any, until: float) -> None:
        """Cut `conn` if it is still in use at `until` (a `time.monotonic()`); replaces what was armed."""
        with self._lock:
            self._armed = (conn, until)
            self._cut = False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lambdakit-db-deadline", daemon=True)
            self._thread.start()
        if not self._wake.is_set():
            self._wake.set()

    def release(self) -> bool:
        """Disarm; True when the armed connection was cut."""
        with self._lock:
            self._armed = None
            cut, self._cut = self._cut, False
        return cut

    def was_cut(self) -> bool:
        """Whether the armed connection has been cut (still armed)."""
        return self._cut

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(_TICK_SECONDS)
            with self._lock:
                if self._armed is None:
                    self._wake.clear()  # under the lock: a `watch` after this sets it again
                    continue
                conn, until = self._armed
                if not self._cut and time.monotonic() >= until:
                    self._cut = True
                    _shut_down(conn)

    def _forget_thread(self) -> None:
        """In a forked child the thread is gone: the next `watch` starts one."""
        self._thread = None
        self._lock = threading.Lock()
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
