"""Which database the local loop uses, and how its schema and seed get there."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from local.embedded_pg import EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent
# The migrations ship with the Lambda (direct route `migrate`), so they and their runner live in src/.
MIGRATIONS_DIR = ROOT / "src" / "migrations"
SEED_FILE = ROOT / "db" / "seed.sql"
LOCAL_DATADIR = Path(os.environ.get("LOCAL_PG_DIR", ROOT / ".local" / "pgdata"))
LOCAL_PORT = int(os.environ.get("LOCAL_PG_PORT", "54329"))


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


def masked_url(url: str) -> str:
    """The URL with its password replaced by ***, for banners and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def apply_migrations(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending src/migrations/*.sql to `url` with the code the Lambda runs; return the names applied."""
    migrator = load_migrator()
    conn = psycopg2.connect(url)
    try:
        return migrator.apply_migrations(conn, migrations_dir)
    finally:
        conn.close()


def load_migrator() -> Any:
    """The migrator the Lambda runs (src/lambdakit/migrator.py), importable from make, pytest or an IDE."""
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.append(src)
    from lambdakit import migrator

    return migrator


def apply_seed(url: str, seed_file: Path = SEED_FILE) -> None:
    """Insert the demo rows (idempotent: the seed skips rows that exist); an emptied seed is nothing to do."""
    text = seed_file.read_text()
    # psycopg2 refuses to send a text without a statement, which an emptied or comment-only seed is.
    if not any(line.strip() and not line.lstrip().startswith("--") for line in text.splitlines()):
        return
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(text)
    finally:
        conn.close()


def reset_database(url: str) -> list[str]:
    """Drop everything in the public schema (the ledger too), then apply every migration and the seed."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cur.execute("CREATE SCHEMA public")
            cur.execute("GRANT ALL ON SCHEMA public TO public")
    finally:
        conn.close()
    applied = apply_migrations(url)
    apply_seed(url)
    return applied


def prepare_database() -> str:
    """The URL of a database with the schema and seed in place; what every local command calls first."""
    url = database_url()
    apply_migrations(url)
    apply_seed(url)
    return url
