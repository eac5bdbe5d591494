"""Which database the local loop uses, and how its schema and seed get there."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2

from local.embedded_pg import EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = ROOT / "db" / "migrations"
SEED_FILE = ROOT / "db" / "seed.sql"
LOCAL_DATADIR = Path(os.environ.get("LOCAL_PG_DIR", ROOT / ".local" / "pgdata"))
LOCAL_PORT = int(os.environ.get("LOCAL_PG_PORT", "54329"))

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def embedded_server() -> EmbeddedPostgres:
    """The project's own PostgreSQL under .local/ (git-ignored)."""
    return EmbeddedPostgres(LOCAL_DATADIR, LOCAL_PORT)


def database_url() -> str:
    """DATABASE_URL when set; otherwise start the embedded server (once) and return its URL."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    server = embedded_server().ensure_running()
    return server.socket_url or server.url


def apply_migrations(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply each db/migrations/*.sql not yet recorded, in name order, each in its own transaction."""
    applied: list[str] = []
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        # One migrator at a time, even with several workers starting together.
        cur.execute("SELECT pg_advisory_xact_lock(727274)")
        cur.execute(_LEDGER)
        cur.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in cur.fetchall()}
        for path in sorted(migrations_dir.glob("*.sql")):
            if path.name in done:
                continue
            cur.execute(path.read_text())
            cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.name,))
            applied.append(path.name)
    return applied


def apply_seed(url: str, seed_file: Path = SEED_FILE) -> None:
    """Insert the demo rows (idempotent: the seed uses ON CONFLICT DO NOTHING)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(seed_file.read_text())


def prepare_database() -> str:
    """The URL of a database with the schema and seed in place; what every local command calls first."""
    url = database_url()
    apply_migrations(url)
    apply_seed(url)
    return url
