"""Schema migrations: the SQL files in src/migrations/, applied once each in name order and recorded.

The same code runs locally (`make migrate`) and inside the Lambda (the direct route `migrate`), since the
Lambda is the one thing that reaches a database in private subnets. Hand-written rather than
yoyo-migrations: yoyo opens its own connection from a URL, which inside the Lambda would bypass the
secret, TLS and timeout handling of the function's connection (`@transaction`), and it would add four
packages to the zip for what is a ledger table and a loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2

from lambdakit import session
from lambdakit.errors import ApiError
from lambdakit.settings import session_timeouts

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The machinery's own tables (the outbox): files named lambdakit_NNNN_*.sql, recorded under those names,
# so they never collide with the project's 0001_, 0002_, ... and always apply before the project's.
MACHINERY_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant will do; it only has to be the same for every migrator of this database.
_LOCK_KEY = 727274
_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationFailed(ApiError):
    """A migration file failed; it was rolled back and the ones after it were not tried."""

    status = 500


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """The migration files in the order they apply: the machinery's, then the project's by name (0001_, 0002_, ...)."""
    machinery = sorted(p for p in MACHINERY_DIR.glob("lambdakit_*.sql") if p.is_file())
    return machinery + sorted(p for p in Path(directory).glob("*.sql") if p.is_file() and p not in machinery)


def apply_migrations(conn: Any, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply each file not yet recorded, each in its own committed transaction; return the names applied.

    Stops at the first failure, rolled back, with MigrationFailed: the files before it stay applied.
    Then stores the runtime's timeouts as the role's defaults (lambdakit.session), so that a pooler's
    server connections opened from now on start with them, before any request needs them.
    """
    conn.rollback()  # start from a clean transaction whatever the caller did before
    was_autocommit = conn.autocommit
    conn.autocommit = False
    applied: list[str] = []
    try:
        _ensure_ledger(conn)  # a project with no migration yet still has its (empty) ledger
        for path in migration_files(directory):
            if _apply_one(conn, path):
                applied.append(path.name)
    finally:
        conn.autocommit = was_autocommit
    session.ensure_role_defaults(conn, session.wanted_defaults(*session_timeouts()))
    return applied


def _ensure_ledger(conn: Any) -> None:
    """Create the ledger table under the migrators' lock (concurrent CREATE IF NOT EXISTS can collide)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cur.execute(_LEDGER)
    conn.commit()


def _apply_one(conn: Any, path: Path) -> bool:
    """Apply one file unless recorded; the advisory lock makes concurrent migrators take turns."""
    sql_text = path.read_text(encoding="utf-8")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (path.name,))
            if cur.fetchone() is not None:
                conn.rollback()
                return False
            # A migration may rewrite a big table: the runtime's per-statement limit does not apply.
            cur.execute("SET LOCAL statement_timeout = 0")
            if sql_text.strip():
                cur.execute(sql_text)
            cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.name,))
        conn.commit()
    except psycopg2.Error as exc:
        if conn.closed:
            raise  # a lost connection, not a bad file: the caller may reconnect and retry
        conn.rollback()
        # The server's primary message names the problem without quoting the file's SQL.
        reason = exc.diag.message_primary if exc.diag and exc.diag.message_primary else type(exc).__name__
        raise MigrationFailed(f"migration {path.name} failed and was rolled back: {reason}") from exc
    return True
