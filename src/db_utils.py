"""`@transaction`: one cached PostgreSQL connection per execution environment, a transaction per call.

The template's, beside the machinery (lambdakit) it uses: `from db_utils import transaction` in your
route modules. It also holds `maintenance`, the routes every function gets (`migrate`).

Per request it sends only the route's own statements: a read-only route runs in autocommit (one
round trip for one SELECT), a read-write route gets BEGIN, its statements and COMMIT. Nothing is set
on the session, so the same connection works through RDS Proxy or PgBouncer in transaction mode
without pinning: the timeouts are the database role's own defaults (lambdakit.session), checked once
per new connection. A connection the server has closed
(restart, failover, idle timeout, Aurora pause) is replaced and the call retried once, but only when
none of its statements had run, so a retry can never apply anything twice.
"""

from __future__ import annotations

import functools
import inspect
import operator
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import psycopg2
import psycopg2.extensions

from lambdakit import deadline, metrics, outbox, session, snapstart
from lambdakit.credentials import database_credentials, refresh_credentials
from lambdakit.errors import (
    ApiError,
    BadRequest,
    Conflict,
    GatewayTimeout,
    InternalError,
    ServiceUnavailable,
)
from lambdakit.log import logger
from lambdakit.router import Router
from lambdakit.settings import ConfigError, DatabaseSettings, database_settings

F = TypeVar("F", bound=Callable[..., Any])

# SQLSTATEs after which the server has ended the session.
_SESSION_ENDED = {"57P01", "57P02", "57P03", "57P05", "25P03"}
_UNAVAILABLE = {"53300", "53400", "57P03", "08000", "08001", "08003", "08004", "08006"}
_CONFLICT = {
    "23505": "already exists",
    "23503": "refers to a row that does not exist",
    "23P01": "overlaps",
}
_RETRY_LATER = {"40001", "40P01"}
# How soon a connection the server closed while idle fails its first statement; later is a wait that gave up.
_IDLE_FAILURE_SECONDS = 0.5
# Slots free up as other requests finish, so a client may retry soon; "Retry-After" says how soon.
CONNECTION_LIMIT_RETRY_AFTER = 2
# What PostgreSQL (53300, sent before the session exists, so psycopg2 has no pgcode) and PgBouncer say
# when every connection slot is taken.
_CONNECTION_LIMIT_MESSAGES = (
    "too many clients already",
    "too many connections for",
    "remaining connection slots are reserved",
    "no more connections allowed",
)


class TrackedConnection(psycopg2.extensions.connection):
    """A connection that knows how many statements succeeded in the current call."""

    statements_run = 0


_execute = psycopg2.extensions.cursor.execute
_executemany = psycopg2.extensions.cursor.executemany
_fetchone = psycopg2.extensions.cursor.fetchone
_fetchmany = psycopg2.extensions.cursor.fetchmany
_fetchall = psycopg2.extensions.cursor.fetchall
_name = operator.attrgetter("name")


class DictCursor(psycopg2.extensions.cursor):
    """Rows as plain dicts; counts successful statements so a retry happens only before any has run.

    Not RealDictCursor: it fills each row key by key in Python, which costs a third of a warm request.
    The driver's methods are called directly rather than through `super()`, and the column names are
    read once per statement: this runs for every row a route reads.
    """

    _names: tuple[str, ...] | None = None

    def execute(self, query: Any, vars: Any = None) -> None:
        self._names = None
        _execute(self, query, vars)
        self.connection.statements_run += 1

    def executemany(self, query: Any, vars_list: Any) -> None:
        self._names = None
        _executemany(self, query, vars_list)
        self.connection.statements_run += 1

    def _columns(self) -> tuple[str, ...]:
        names = self._names
        if names is None:
            names = self._names = tuple(map(_name, self.description))
        return names

    def fetchone(self) -> dict[str, Any] | None:
        """The next row as a dict, or None."""
        row = _fetchone(self)
        return None if row is None else dict(zip(self._columns(), row, strict=True))

    def fetchmany(self, size: int | None = None) -> list[dict[str, Any]]:
        """Up to `size` rows (default `arraysize`) as dicts."""
        rows = _fetchmany(self, self.arraysize if size is None else size)
        names = self._columns() if rows else ()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def fetchall(self) -> list[dict[str, Any]]:
        """The remaining rows as dicts."""
        rows = _fetchall(self)
        names = self._columns() if rows else ()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while (row := self.fetchone()) is not None:
            yield row


_connection: TrackedConnection | None = None
_current: TrackedConnection | None = None


def _connect_kwargs(settings: DatabaseSettings) -> dict[str, Any]:
    from lambdakit import tracing  # needed only when a connection opens, not at cold start

    # No libpq `options` here: RDS Proxy refuses any connection that carries it, PgBouncer too.
    kwargs: dict[str, Any] = {
        "connect_timeout": settings.connect_timeout,
        "application_name": settings.application_name,
        # Keepalives let a connection to a vanished server fail fast instead of hanging.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "connection_factory": TrackedConnection,
        "cursor_factory": tracing.cursor_class(DictCursor),
    }
    if settings.sslmode:
        kwargs["sslmode"] = settings.sslmode
    if settings.url:
        return {"dsn": settings.url, **kwargs}
    if settings.iam_auth:
        return {**kwargs, **_iam_login(settings)}
    secret = database_credentials(settings.secret_id)
    host = settings.host or secret.get("host")
    if not host:
        raise ConfigError("no database host: set DB_HOST or put host in the secret")
    kwargs.update(
        user=secret["username"],
        password=secret["password"],
        host=host,
        port=settings.port or secret.get("port") or 5432,
        dbname=settings.dbname or secret.get("dbname") or "postgres",
    )
    return kwargs


def _iam_login(settings: DatabaseSettings) -> dict[str, Any]:
    """User and a signed token instead of a password: the proxy checks it against the function's IAM role."""
    from lambdakit.iam_auth import MissingCredentials, auth_token

    port = settings.port or 5432
    try:
        token = auth_token(settings.host or "", port, settings.user or "")
    except MissingCredentials as exc:
        raise ConfigError(str(exc)) from exc
    return {"user": settings.user, "password": token, "host": settings.host, "port": port, "dbname": settings.dbname}


def _is_auth_failure(exc: psycopg2.OperationalError) -> bool:
    return exc.pgcode in ("28P01", "28000") or "authentication failed" in str(exc)


def _is_connection_limit(exc: psycopg2.Error) -> bool:
    if exc.pgcode == "53300":
        return True
    text = str(exc)
    return any(message in text for message in _CONNECTION_LIMIT_MESSAGES)


def _at_connection_limit() -> ServiceUnavailable:
    return ServiceUnavailable(
        "database is at its connection limit, try again shortly", retry_after=CONNECTION_LIMIT_RETRY_AFTER
    )


def _no_connection_in_time() -> ServiceUnavailable:
    """A wait for a connection (a pooler's queue, a proxy's borrow) ended before one became free."""
    return ServiceUnavailable(
        "no database connection became free in time, try again shortly", retry_after=CONNECTION_LIMIT_RETRY_AFTER
    )


def _open(settings: DatabaseSettings, until: float | None = None) -> TrackedConnection:
    """Connect, retrying with backoff within DB_CONNECT_RETRY_SECONDS and re-reading a rotated secret once.

    `until` (a `time.monotonic()`) bounds the retries and, through the watchdog, the first queries.
    """
    retry_until = time.monotonic() + settings.connect_retry_seconds
    if until is not None:
        retry_until = min(retry_until, until)
    delay = 0.25
    reread_secret = False
    wanted = session.wanted_defaults(settings.statement_timeout_ms, settings.idle_session_timeout_ms)
    connected: list[float] = []  # when each connect returned: a failure after that is a query's

    def connect(kwargs: dict[str, Any]) -> TrackedConnection:
        conn = psycopg2.connect(**kwargs)
        connected.append(time.monotonic())
        deadline.watchdog.watch(conn)
        return conn

    while True:
        try:
            kwargs = _connect_kwargs(settings)
            return session.open_with_defaults(functools.partial(connect, kwargs), wanted)
        except psycopg2.OperationalError as exc:
            if deadline.watchdog.was_cut() or (connected and time.monotonic() - connected[-1] >= _IDLE_FAILURE_SECONDS):
                # Connected, then the first query waited for a server connection that never came free.
                raise _no_connection_in_time() from exc
            if _is_auth_failure(exc) and settings.secret_id and not reread_secret:
                reread_secret = True
                if refresh_credentials(settings.secret_id):
                    logger.info("database refused the cached credentials; retrying with the rotated secret")
                    continue
                raise ServiceUnavailable("database refused the credentials") from exc
            remaining = retry_until - time.monotonic()
            if remaining <= 0:
                metrics.connect_failed(exc)
                if _is_connection_limit(exc):
                    raise _at_connection_limit() from exc
                raise ServiceUnavailable("database unavailable, try again shortly") from exc
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 2.0)


def get_connection() -> tuple[TrackedConnection, bool]:
    """The cached connection (and True), or a new one (and False) when there is none or it was closed.

    Opening a new one ends by the invocation's deadline (lambdakit.deadline), retries included.
    """
    global _connection
    if _connection is not None and not _connection.closed:
        return _connection, True
    started = time.perf_counter()
    try:
        # Both can find the configuration wanting: the settings, and the secret (no host).
        _connection = _open(database_settings(), deadline.wait_until())
    except ConfigError as exc:
        logger.error("database is not configured", extra={"reason": str(exc)})
        raise InternalError() from exc
    metrics.connection_opened(time.perf_counter() - started)
    return _connection, False


def close_connection() -> None:
    """Close and forget the cached connection (tests; or before the environment is frozen for good)."""
    global _connection
    if _connection is not None:
        try:
            _connection.close()
        finally:
            _connection = None


def _session_ended(conn: TrackedConnection, exc: BaseException) -> bool:
    if conn.closed:
        return True
    if isinstance(exc, psycopg2.InterfaceError):
        return True
    return isinstance(exc, psycopg2.OperationalError) and (exc.pgcode is None or exc.pgcode in _SESSION_ENDED)


def _translate(exc: psycopg2.Error) -> ApiError | None:
    """Map a driver error to what the client may know; None when it is our bug (a 500)."""
    code = exc.pgcode or ""
    diag = exc.diag
    if code == "57014":
        return GatewayTimeout("database statement timed out")
    if _is_connection_limit(exc):
        return _at_connection_limit()
    if code in _CONFLICT:
        return Conflict(f"conflict: {_CONFLICT[code]} ({diag.constraint_name or 'constraint'})")
    if code in _RETRY_LATER:
        return Conflict("conflict with a concurrent update; retry the request")
    if code == "23502":
        return BadRequest(f"{diag.column_name or 'a field'}: is required")
    if code == "23514":
        return BadRequest(f"invalid value: violates {diag.constraint_name or 'a check constraint'}")
    if code.startswith("22"):
        return BadRequest("invalid value for the database (out of range or malformed)")
    if code in _UNAVAILABLE or isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return ServiceUnavailable("database unavailable, try again shortly")
    return None


def _rollback_quietly(conn: TrackedConnection) -> None:
    try:
        conn.rollback()
    except psycopg2.Error:
        # The connection cannot even roll back: it is unusable, start afresh next time.
        _discard(conn)


def _discard(conn: TrackedConnection) -> None:
    global _connection
    try:
        conn.close()
    finally:
        if _connection is conn:
            _connection = None


def _run(fn: Callable[..., Any], read_only: bool, args: tuple, kwargs: dict) -> Any:
    global _current
    watchdog = deadline.watchdog
    for attempt in (1, 2):
        began = time.monotonic()
        try:
            conn, reused = get_connection()
            watchdog.watch(conn)  # its waits end by the invocation's deadline (lambdakit.deadline)
            if conn.autocommit != read_only:
                conn.autocommit = read_only
            conn.statements_run = 0
            committing = False
            _current = conn
            try:
                result = fn(conn, *args, **kwargs)
                if not read_only:
                    committing = True
                    conn.commit()
                    if outbox.pending:
                        outbox.committed(conn)  # what the transaction enqueued goes out now that it is committed
                return result
            except BaseException as exc:
                if outbox.pending:
                    outbox.rolled_back()
                ended = _session_ended(conn, exc)
                if ended:
                    _discard(conn)
                else:
                    _rollback_quietly(conn)
                if watchdog.was_cut():
                    raise _no_connection_in_time() from exc
                # Closed while idle, the connection fails its first statement at once; failing after a
                # wait, it was a pooler giving up on the queued query (query_wait_timeout): no retry.
                waited = time.monotonic() - began >= _IDLE_FAILURE_SECONDS
                first = not committing and conn.statements_run == 0
                if ended and reused and attempt == 1 and first and not waited:
                    logger.info("cached database connection was closed by the server; reconnecting")
                    metrics.connection_retried()
                    continue
                if isinstance(exc, psycopg2.Error):
                    translated = _translate(exc)
                    if first and waited and translated is not None and translated.status == 503:
                        translated = _no_connection_in_time()  # a pooler's queue, a proxy's borrow, gave up
                    elif ended and translated is None:
                        translated = ServiceUnavailable("database connection lost, try again")
                    if translated is not None:
                        raise translated from exc
                raise
            finally:
                _current = None
        finally:
            watchdog.release()
    raise AssertionError("unreachable")  # pragma: no cover


# With SnapStart, the runtime closes the connection around the snapshot; elsewhere this registers nothing.
snapstart.register_hooks(close_connection)
# enqueue() writes into the running transaction, found through this; the outbox never imports this module.
outbox.use_transactions(lambda: _current)


@overload
def transaction(fn: F) -> F: ...
@overload
def transaction(*, read_only: bool = False) -> Callable[[F], F]: ...
def transaction(fn: Callable[..., Any] | None = None, *, read_only: bool = False) -> Any:
    """Call the function with the cached connection as its first argument, in one transaction.

    Commits when it returns, rolls back when it raises. `read_only=True` runs it in autocommit: one
    round trip per statement and no BEGIN/COMMIT, for routes that only read. A call made while another
    `@transaction` function is running joins that transaction. Works above or below route decorators:
    the router serves what the module finally binds to the name, this wrapper included.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        parameters = list(signature.parameters.values())
        if not parameters:
            raise TypeError(f"{func.__qualname__}: a @transaction function takes the connection as first parameter")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _current is not None:
                return func(_current, *args, **kwargs)
            return _run(func, read_only, args, kwargs)

        # Callers (the router, tests) see the signature without the injected connection.
        wrapper.__signature__ = signature.replace(parameters=parameters[1:])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


# The routes the template adds to every function; lambda_function.py includes them next to yours.
maintenance = Router()


@maintenance.direct("migrate")
@transaction
def migrate(conn: TrackedConnection) -> dict:
    """Apply pending src/migrations/*.sql inside the function (`make migrate STAGE=...`); no API reaches it."""
    from lambdakit.migrator import apply_migrations  # only this route needs it, and never on a cold start

    return {"applied": apply_migrations(conn)}


# Scheduled by the stack only where the function consumes a queue (lambdakit.outbox.RELAY_JOB).
@maintenance.schedule("rate(10 minutes)", name="relay_outbox")
@transaction
def relay_outbox(conn: TrackedConnection) -> dict:
    """Send the messages of committed work that could not be sent at once; forget those sent a month ago."""
    return {"sent": outbox.relay_unsent(conn), "purged": outbox.purge_outbox(conn, older_than_days=30)}
