"""Migrations: applied once each, in order, recorded; a failing one rolls back and stops; same code in the Lambda."""

from __future__ import annotations

import functools
from pathlib import Path

import psycopg2
import pytest

import lambda_function
from lambdakit import migrator
from local.database import MIGRATIONS_DIR, apply_migrations, reset_database
from local.events import LambdaContext, direct_event
from tests.conftest import reset_runtime
from tests.support.app import handler

# The machinery's own migrations (the outbox), applied before a project's on a database that lacks them.
MACHINERY = [path.name for path in sorted(migrator.MACHINERY_DIR.glob("lambdakit_*.sql"))]


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def _query(url: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _exists(url: str, table: str) -> bool:
    return _query(url, f"SELECT to_regclass('{table}') IS NOT NULL")[0][0]


def test_pending_migrations_apply_once_in_name_order_and_are_recorded(empty_db, tmp_path):
    folder = _write(
        tmp_path / "m",
        {
            "0002_add_row.sql": "INSERT INTO things (name) VALUES ('first');",
            "0001_create.sql": "CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL);",
        },
    )
    assert apply_migrations(empty_db, folder) == [*MACHINERY, "0001_create.sql", "0002_add_row.sql"]
    assert apply_migrations(empty_db, folder) == []
    assert _query(empty_db, "SELECT count(*) FROM things") == [(1,)]
    recorded = _query(empty_db, "SELECT version FROM schema_migrations ORDER BY applied_at, version")
    assert recorded == [*((name,) for name in MACHINERY), ("0001_create.sql",), ("0002_add_row.sql",)]

    (folder / "0003_more.sql").write_text("ALTER TABLE things ADD COLUMN note text;")
    assert apply_migrations(empty_db, folder) == ["0003_more.sql"]


def test_a_failing_migration_rolls_back_and_stops_before_the_next(empty_db, tmp_path):
    folder = _write(
        tmp_path / "m",
        {
            "0001_ok.sql": "CREATE TABLE kept (id int);",
            "0002_bad.sql": "CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);",
            "0003_later.sql": "CREATE TABLE never (id int);",
        },
    )
    with pytest.raises(migrator.MigrationFailed) as failure:
        apply_migrations(empty_db, folder)
    assert "0002_bad.sql" in failure.value.message and "no_such_table" in failure.value.message
    assert _exists(empty_db, "kept")
    assert not _exists(empty_db, "half_done"), "the failed file's first statement must be rolled back"
    assert not _exists(empty_db, "never"), "files after a failure must not run"
    assert _query(empty_db, "SELECT version FROM schema_migrations") == [
        *((name,) for name in MACHINERY),
        ("0001_ok.sql",),
    ]

    (folder / "0002_bad.sql").write_text("CREATE TABLE half_done (id int);")
    assert apply_migrations(empty_db, folder) == ["0002_bad.sql", "0003_later.sql"]


def test_the_machinerys_migrations_apply_first_under_names_that_never_meet_a_projects(empty_db, tmp_path):
    assert MACHINERY and all(name.startswith("lambdakit_") for name in MACHINERY)
    folder = _write(tmp_path / "m", {"0001_outbox.sql": "CREATE TABLE mine (id int);"})
    assert apply_migrations(empty_db, folder) == [*MACHINERY, "0001_outbox.sql"]
    assert _exists(empty_db, "lambdakit_outbox") and _exists(empty_db, "mine")


def test_the_project_schema_comes_from_src_migrations(empty_db):
    assert MIGRATIONS_DIR == migrator.MIGRATIONS_DIR
    assert apply_migrations(empty_db) == [path.name for path in migrator.migration_files()]


def test_reset_database_drops_data_and_rebuilds_from_migrations_and_seed(empty_db):
    apply_migrations(empty_db)
    _query(empty_db, "CREATE TABLE stray (id int); SELECT 1")
    reset_database(empty_db)
    assert not _exists(empty_db, "stray")
    assert _query(empty_db, "SELECT count(*) FROM schema_migrations")[0][0] == len(migrator.migration_files())


@pytest.fixture
def lambda_on(empty_db, monkeypatch):
    """The Lambda's environment pointed at the empty database."""
    monkeypatch.setenv("DATABASE_URL", empty_db)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    reset_runtime()
    yield empty_db
    reset_runtime()


def test_migrate_direct_route_applies_the_functions_migrations(lambda_on):
    first = handler(direct_event("migrate"), LambdaContext())
    assert first == {"data": {"applied": [path.name for path in migrator.migration_files()]}}
    assert handler(direct_event("migrate"), LambdaContext()) == {"data": {"applied": []}}


def test_migrate_direct_route_applies_pending_files_once_through_the_handler(lambda_on, tmp_path, monkeypatch):
    folder = _write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE first_table (id int);", "0002_b.sql": "SELECT 1;"})
    monkeypatch.setattr(migrator, "apply_migrations", functools.partial(migrator.apply_migrations, directory=folder))
    first = handler(direct_event("migrate"), LambdaContext())
    assert first == {"data": {"applied": [*MACHINERY, "0001_a.sql", "0002_b.sql"]}}
    assert handler(direct_event("migrate"), LambdaContext()) == {"data": {"applied": []}}
    assert _exists(lambda_on, "first_table")


def test_migrate_direct_route_reports_a_failure_without_the_sql(lambda_on, tmp_path, monkeypatch):
    folder = _write(tmp_path / "m", {"0001_bad.sql": "CREATE TABLE secret_plan (id int); SELEC 1;"})
    monkeypatch.setattr(migrator, "apply_migrations", functools.partial(migrator.apply_migrations, directory=folder))
    answer = handler(direct_event("migrate"), LambdaContext())
    error = answer["error"]
    assert error["status"] == 500
    assert error["message"].startswith("migration 0001_bad.sql failed and was rolled back: syntax error")
    assert "secret_plan" not in error["message"]
    assert not _exists(lambda_on, "secret_plan")


def test_the_projects_function_serves_migrate_to_direct_invokes_only():
    router = lambda_function.router  # `make migrate STAGE=...` invokes the project's own function
    routes = router.routes
    assert routes.direct_route("migrate") is not None
    assert all(route.function != "migrate" for route in (*routes.rest, *routes.graphql))


def test_migrating_stores_the_runtimes_timeouts_as_the_roles_defaults_for_poolers(empty_db, tmp_path, monkeypatch):
    """A pooler's server sessions opened after `make migrate` start with the timeouts; nothing per request."""
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "4321")
    monkeypatch.setenv("DB_IDLE_SESSION_TIMEOUT_MS", "60000")
    apply_migrations(empty_db, _write(tmp_path / "m", {}))
    assert _query(empty_db, "SELECT current_setting('statement_timeout'), current_setting('idle_session_timeout')") == [
        ("4321ms", "1min")
    ]


def test_a_project_without_migrations_of_its_own_gets_the_ledger_and_only_the_machinerys(empty_db, tmp_path):
    machinery = [p.name for p in migrator.migration_files(tmp_path / "absent")]
    for directory, expected in ((_write(tmp_path / "none", {}), machinery), (tmp_path / "absent", [])):
        conn = psycopg2.connect(empty_db)
        try:
            assert migrator.apply_migrations(conn, directory) == expected
        finally:
            conn.close()
        assert _query(empty_db, "SELECT version FROM schema_migrations ORDER BY version") == [(n,) for n in machinery]
