"""Reads, writes, rollback, timeouts and self-healing, straight to PostgreSQL and through PgBouncer in transaction mode.

Each test runs twice: `direct` and `pgbouncer` (marked `pgbouncer`; `pytest -m pgbouncer` runs only those).
PgBouncer keeps its defaults except the pool mode, so what passes here passes through a stock
transaction pooler; RDS Proxy refuses the same startup `options` PgBouncer does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

from db_utils import transaction
from lambdakit import session
from lambdakit.router import Router
from local.embedded_pg import EmbeddedPostgres, free_port
from local.events import direct_event
from tests.conftest import _RUNTIME_VARIABLES, remove_database, reset_runtime, start_database
from tests.support import app
from tests.support.identities import signed_in_session
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support.process import stop_process, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
NO_PGBOUNCER = (
    "pgbouncer is not installed: `make test` installs Debian's package when it runs as root;"
    " otherwise `apt-get install pgbouncer` to run the pooler tests"
)
pytestmark = pytest.mark.slow
VIA = ["direct", pytest.param("pgbouncer", marks=pytest.mark.pgbouncer)]

router = Router()


class Boom(RuntimeError):
    pass


@router.direct("add_note")
@transaction
def add_note(conn, text: str, fail: bool = False) -> dict:
    with conn.cursor() as cur:
        cur.execute("INSERT INTO pool_notes (text) VALUES (%s) RETURNING id, text", (text,))
        row = cur.fetchone()
    if fail:
        raise Boom("after the insert")
    return row


@router.direct("count_notes")
@transaction(read_only=True)
def count_notes(conn, text: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM pool_notes WHERE text = %s", (text,))
        return cur.fetchone()["n"]


@router.direct("sleep")
@transaction(read_only=True)
def sleep(conn, seconds: float) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_sleep(%s)", (seconds,))


def call(route: str, **args):
    return router.handle(direct_event(route, **args), None)


@pytest.fixture(scope="module")
def database() -> Iterator[EmbeddedPostgres]:
    server = start_database()
    conn = psycopg2.connect(server.url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE pool_notes (id serial PRIMARY KEY, text text NOT NULL)")
    conn.close()
    yield server
    remove_database(server)


@pytest.fixture(scope="module")
def bouncer(database: EmbeddedPostgres) -> Iterator[PgBouncer | None]:
    if pgbouncer_binary() is None:
        yield None
        return
    pooler = PgBouncer(database).start()
    yield pooler
    pooler.stop()


@pytest.fixture(params=VIA)
def via(request, database, bouncer, monkeypatch) -> Iterator[str]:
    """The runtime's DATABASE_URL: the server itself, or PgBouncer in front of it; a cold start each test."""
    if request.param == "pgbouncer" and bouncer is None:
        pytest.skip(NO_PGBOUNCER)
    for name in _RUNTIME_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database.url if request.param == "direct" else bouncer.url())
    reset_runtime()
    yield request.param
    reset_runtime()


@pytest.fixture
def admin(database) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(database.url)
    conn.autocommit = True
    yield conn
    conn.close()


def test_a_read_and_a_committed_write(via, admin):
    assert call("add_note", text=f"kept-{via}")["data"]["text"] == f"kept-{via}"
    assert call("count_notes", text=f"kept-{via}") == {"data": 1}
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pool_notes WHERE text = %s", (f"kept-{via}",))
        assert cur.fetchone()[0] == 1


def test_a_failed_write_leaves_no_trace_and_the_next_call_is_clean(via, admin):
    assert call("add_note", text=f"gone-{via}", fail=True)["error"]["status"] == 500
    assert call("add_note", text=f"after-{via}")["data"]["text"] == f"after-{via}"
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pool_notes WHERE text = %s", (f"gone-{via}",))
        assert cur.fetchone()[0] == 0


def test_no_startup_options_are_sent_because_the_pooler_refuses_them(via, database, bouncer):
    target = database.url if via == "direct" else bouncer.url()
    if via == "pgbouncer":
        # A libpq `options` startup parameter: PgBouncer (like RDS Proxy) refuses the whole connection.
        with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter: options"):
            psycopg2.connect(target, options="-c statement_timeout=1000").close()
    assert call("count_notes", text="x") == {"data": 0}
    import db_utils

    conn, _ = db_utils.get_connection()
    assert "options" not in conn.dsn


def test_a_statement_past_the_timeout_is_cut_off_with_a_504_and_the_next_call_succeeds(
    via, admin, bouncer, monkeypatch
):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "500")
    # What `make migrate` does with that setting; a pooler's server connections then reopen with it.
    session.store_role_defaults(admin, {"statement_timeout": 500})
    if via == "pgbouncer":
        bouncer.admin("RECONNECT")
    try:
        started = time.monotonic()
        assert call("sleep", seconds=5) == {"error": {"status": 504, "message": "database statement timed out"}}
        assert time.monotonic() - started < 3
        assert call("count_notes", text="x") == {"data": 0}
    finally:
        session.store_role_defaults(admin, {"statement_timeout": 10_000})
        if via == "pgbouncer":
            bouncer.admin("RECONNECT")


def _terminate_other_sessions(admin) -> int:
    with admin.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cur.fetchone()[0]


def test_sessions_the_server_ended_while_idle_cost_no_failed_call(via, admin):
    assert call("count_notes", text="x") == {"data": 0}
    assert _terminate_other_sessions(admin) >= 1
    time.sleep(0.2)
    assert call("count_notes", text="x") == {"data": 0}
    assert call("add_note", text=f"healed-{via}")["data"]["text"] == f"healed-{via}"


def test_a_database_restart_between_calls_costs_no_failed_call(via, database):
    assert call("count_notes", text="x") == {"data": 0}
    database.restart()
    assert call("count_notes", text="x") == {"data": 0}
    assert call("add_note", text=f"restarted-{via}")["data"]["text"] == f"restarted-{via}"


@pytest.mark.pgbouncer
def test_16_clients_through_4_workers_and_a_pool_of_2_server_connections_get_no_error(database, app_src):
    if pgbouncer_binary() is None:
        pytest.skip(NO_PGBOUNCER)
    # A database of its own, so that the sessions counted are this pool's and no other test's.
    admin = psycopg2.connect(database.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE pool_of_two")
    admin.close()
    app.prepare_database(database.url.rsplit("/", 1)[0] + "/pool_of_two")
    pooler = PgBouncer(database, pool_size=2).start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in _RUNTIME_VARIABLES}
    env.update({"DATABASE_URL": pooler.url("pool_of_two"), "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)})
    process = subprocess.Popen(
        [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", "4", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    peak, sampling = [0], threading.Event()

    def sample() -> None:
        conn = psycopg2.connect(database.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not sampling.is_set():
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'pool_of_two'")
                peak[0] = max(peak[0], cur.fetchone()[0])
                time.sleep(0.01)
        conn.close()

    def client(n: int) -> list[int]:
        statuses = []
        with signed_in_session() as http:  # the fixture app's writes need a signed-in user
            for i in range(10):
                body = {"name": f"Pool{n}", "maker": f"Client{i}"}
                created = http.post(f"{base}/widgets", json=body, timeout=30)
                statuses.append(created.status_code)
                if created.status_code != 201:
                    continue
                url = f"{base}/widgets/{created.json()['widgetId']}"
                statuses += [
                    http.get(url, timeout=30).status_code,
                    http.get(f"{base}/widgets", params={"limit": 5}, timeout=30).status_code,
                    http.put(url, json={"status": "sold"}, timeout=30).status_code,
                    http.delete(url, timeout=30).status_code,
                ]
        return statuses

    sampler = threading.Thread(target=sample)
    try:
        wait_until_answering(process, f"{base}/widgets?limit=1")
        sampler.start()
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = [s for result in pool.map(client, range(16)) for s in result]
    finally:
        sampling.set()
        if sampler.is_alive():
            sampler.join()
        stop_process(process)
        pooler.stop()
    assert len(statuses) == 16 * 10 * 5
    assert [s for s in statuses if s >= 300] == []
    assert peak[0] <= 2, f"{peak[0]} server sessions for a pool of 2"
