"""The server-side timeouts, kept as the role's defaults in its database instead of sent by each session.

A pooler in transaction mode (RDS Proxy, PgBouncer) hands each transaction whichever server session is
free. What a client asks of its own session is refused there (the libpq `options` startup parameter),
pins the session to one server connection (RDS Proxy, on any `SET`), or leaks into other clients'
transactions (PgBouncer, on a session `SET`). The server applies a role's defaults itself whenever it
opens a session for that role, whoever opens it, so they cost no statement per request and survive
any pooler. They apply to sessions opened after they change: a pooler's older server connections keep
the old values until it replaces them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import psycopg2
import psycopg2.extensions

from lambdakit.log import logger

# One round trip at connect: what the role keeps for this database, and what this session runs with.
_STATE = """
SELECT (SELECT setconfig FROM pg_db_role_setting
         WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
           AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
       (SELECT array_agg(name || '=' || setting) FROM pg_settings WHERE name = ANY(%s))
"""


def wanted_defaults(statement_timeout_ms: int, idle_session_timeout_ms: int | None) -> dict[str, int]:
    """The settings the template keeps on the role; no idle timeout (None) leaves the role's own value alone."""
    wanted = {"statement_timeout": statement_timeout_ms}
    if idle_session_timeout_ms is not None:
        wanted["idle_session_timeout"] = idle_session_timeout_ms
    return wanted


def _pairs(rows: list[str] | None) -> dict[str, str]:
    return dict(item.split("=", 1) for item in rows or ())


def _plain_cursor(conn: Any) -> Any:
    """A cursor outside the route's accounting and tracing: this is the template's housekeeping, not a route's SQL."""
    return conn.cursor(cursor_factory=psycopg2.extensions.cursor)


def _state(conn: Any, wanted: Mapping[str, int]) -> tuple[bool, bool]:
    """(the role keeps `wanted` in this database, this session runs with `wanted`)."""
    with _plain_cursor(conn) as cur:
        cur.execute(_STATE, (list(wanted),))
        stored, active = (_pairs(value) for value in cur.fetchone())
    expected = {name: str(value) for name, value in wanted.items()}
    return all(stored.get(k) == v for k, v in expected.items()), all(active.get(k) == v for k, v in expected.items())


def store_role_defaults(conn: Any, wanted: Mapping[str, int]) -> bool:
    """`ALTER ROLE CURRENT_USER IN DATABASE ... SET` each setting (a role may do so for itself); True when stored.

    Failures are logged, not raised: a read-only replica or two environments storing at once must not
    fail a request over a default that is otherwise in place.
    """
    from psycopg2 import sql

    was_autocommit = conn.autocommit
    conn.autocommit = True
    statement = sql.SQL("ALTER ROLE CURRENT_USER IN DATABASE {} SET {} = %s")
    try:
        with _plain_cursor(conn) as cur:
            for name, value in wanted.items():
                cur.execute(statement.format(sql.Identifier(conn.info.dbname), sql.Identifier(name)), (value,))
    except psycopg2.OperationalError:
        raise  # the connection itself failed: the caller's reconnect logic decides
    except psycopg2.Error as exc:
        logger.warning("could not store the session defaults on the database role", extra={"pgcode": exc.pgcode})
        return False
    finally:
        if not conn.closed:
            conn.autocommit = was_autocommit
    logger.info("stored the session defaults on the database role", extra={"settings": dict(wanted)})
    return True


def ensure_role_defaults(conn: Any, wanted: Mapping[str, int]) -> None:
    """Store `wanted` on the role unless it already keeps exactly that (the migrator's step: no needless ALTER)."""
    was_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        stored, _ = _state(conn, wanted)
    finally:
        conn.autocommit = was_autocommit
    if not stored:
        store_role_defaults(conn, wanted)


def open_with_defaults(connect: Callable[[], Any], wanted: Mapping[str, int]) -> Any:
    """Connect, making sure the role keeps `wanted` and that the returned session runs with it.

    One extra round trip per new connection, none per request. When the role's defaults had to change,
    this session predates them, so it is replaced once; behind a pooler the replacement may still be an
    older server connection, which is logged and used (its timeouts follow once the pooler reopens it).
    """
    conn = connect()
    conn.autocommit = True
    stored, active = _state(conn, wanted)
    if active and stored:
        return conn
    if not stored and not store_role_defaults(conn, wanted):
        return conn
    if not active:
        conn.close()
        conn = connect()
        conn.autocommit = True
        if not _state(conn, wanted)[1]:
            logger.warning(
                "this database session runs without the role's new defaults (a pooler's older server"
                " connection); they apply once the pooler opens new ones",
                extra={"settings": dict(wanted)},
            )
    return conn
