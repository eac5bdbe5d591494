"""Fixtures of the fault suite: a PostgreSQL of its own (it gets stopped, restarted and starved), reached as a
non-superuser like a deployed app, and the table of figures printed at the end of the run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from local.embedded_pg import EmbeddedPostgres
from tests.conftest import remove_database, start_database
from tests.faults.report import OUTCOMES, table, write_if_asked

APP_USER = "fault_app"
# Distinctive on purpose: the security tests grep every log line and answer for it.
APP_PASSWORD = "Zebra-7f3e-Quokka-91c2"  # a throwaway role in a temporary local database
MAX_CONNECTIONS = 20

_SCHEMA = f"""
CREATE TABLE fault_pairs (
    request_id uuid     NOT NULL,
    part       smallint NOT NULL,
    PRIMARY KEY (request_id, part)
);
CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON fault_pairs, fixture_widgets TO {APP_USER};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_USER};
"""


def app_url(db: EmbeddedPostgres, password: str = APP_PASSWORD) -> str:
    """The URL the Lambda uses: TCP with a password, as a role without superuser rights."""
    return f"postgresql://{APP_USER}:{password}@127.0.0.1:{db.port}/postgres"


@contextlib.contextmanager
def superuser(db: EmbeddedPostgres) -> Iterator[psycopg2.extensions.connection]:
    """A fresh autocommit superuser session (a fresh one each time: the scenarios restart the server)."""
    conn = psycopg2.connect(db.socket_url or db.url)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="package")
def fault_db() -> Iterator[EmbeddedPostgres]:
    """The fault suite's own database, with few connection slots so `too many connections` is reachable."""
    db = start_database(max_connections=str(MAX_CONNECTIONS), superuser_reserved_connections="3")
    with superuser(db) as conn, conn.cursor() as cur:
        cur.execute(_SCHEMA)
    yield db
    remove_database(db)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Where a server started by the test writes its output."""
    return tmp_path / "server.log"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table (scenario, requests, failures, lost writes, max latency) after the run."""
    if not OUTCOMES:
        return
    terminalreporter.write_sep("=", "faults: figures as measured")
    terminalreporter.write_line(table(OUTCOMES))
    written = write_if_asked(OUTCOMES)
    if written:
        terminalreporter.write_line(f"(table written to {written})")
