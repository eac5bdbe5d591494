"""`make psql` and `make db-reset` through run_local.py, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2

from lambdakit.migrator import migration_files

ROOT = Path(__file__).resolve().parents[2]


def _run(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "run_local.py", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_psql_runs_on_the_local_database_with_extra_arguments(pg):
    done = _run(pg.url, "psql", "--", "-tAc", "SELECT current_database(), 6 * 7")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "postgres|42"


def test_db_reset_refuses_a_database_url_without_yes(empty_db):
    done = _run(empty_db, "db-reset")
    assert done.returncode == 2 and "--yes" in done.stdout
    assert "postgres:***@" in done.stdout, "the password must not be printed"


def test_db_reset_drops_everything_and_rebuilds_from_migrations_and_seed(empty_db):
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE leftover (id int)")
    done = _run(empty_db, "db-reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert all(path.name in done.stdout for path in migration_files())
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('leftover') IS NULL, (SELECT count(*) FROM schema_migrations)")
        gone, applied = cur.fetchone()
    conn.close()
    assert gone and applied == len(migration_files())
