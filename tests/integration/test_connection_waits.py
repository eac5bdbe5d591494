"""Every wait for a database connection ends within the function's time as 503 with Retry-After.

The statement timeout bounds a statement the server runs; these are the waits it does not cover. A query
queued in PgBouncer behind a pool whose only server connection an open transaction holds (the example
found by hand: a 502 after 39 s), with PgBouncer's stock settings (the function's own deadline ends it) and
with the `query_wait_timeout` docs/limits.md recommends (PgBouncer ends it first); and, with no pooler, a
database at its connection limit while the function may retry connecting for longer than it may run.
Each answer is timed from the request; the pooler's through the local server, as API Gateway would call it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg2
import pytest
import requests

from local.events import LambdaContext, direct_event
from tests.conftest import _RUNTIME_VARIABLES, remove_database, reset_runtime, start_database
from tests.faults.harness import LocalServer
from tests.support import app
from tests.support.identities import bearer
from tests.support.pgbouncer import RECOMMENDED_QUERY_WAIT_TIMEOUT, PgBouncer, pgbouncer_binary

pytestmark = pytest.mark.slow
FUNCTION_SECONDS = 4  # the function's timeout in these tests: its deadline for waits is one second less


@pytest.fixture(scope="module")
def database() -> Iterator:
    server = start_database(max_connections="8")
    yield server
    remove_database(server)


def _held(pooler: PgBouncer) -> psycopg2.extensions.connection:
    """A client in an open transaction: with a pool of one it holds the only server connection."""
    holder = psycopg2.connect(pooler.url())
    with holder.cursor() as cur:
        cur.execute("SELECT 1")
    return holder


def _served_through(pooler: PgBouncer, app_src, tmp_path) -> LocalServer:
    env = {
        "DATABASE_URL": pooler.url(),
        "LOCAL_ACCESS_LOG": "0",
        "LOCAL_SRC_DIR": str(app_src),
        "STACK_TIMEOUT_SECONDS": str(FUNCTION_SECONDS),
    }
    return LocalServer(env, workers=1, log=tmp_path / "server.log")


@pytest.mark.pgbouncer
@pytest.mark.parametrize(
    "setup",
    [
        (None, True, "the function's deadline"),
        (None, False, "the function's deadline"),
        (2, False, "PgBouncer's query_wait_timeout"),
    ],
    ids=["stock pgbouncer, cached connection", "stock pgbouncer, new connection", "query_wait_timeout=2"],
)
def test_a_query_queued_behind_a_held_pool_is_a_503_with_retry_after_within_the_function_time(
    database, app_src, tmp_path, setup
):
    query_wait_timeout, warm, bound = setup
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed")
    with PgBouncer(database, pool_size=1, query_wait_timeout=query_wait_timeout) as pooler:
        pooler.start()
        with _served_through(pooler, app_src, tmp_path) as server:
            if warm:  # the worker keeps its connection to PgBouncer: the next query waits in the queue
                assert requests.get(f"{server.base}/widgets/1", headers=bearer(), timeout=30).status_code == 200
            holder = _held(pooler)
            try:
                started = time.monotonic()
                answer = requests.get(f"{server.base}/widgets/1", headers=bearer(), timeout=60)
                elapsed = time.monotonic() - started
            finally:
                holder.rollback()
                holder.close()
            connection = "cached" if warm else "new"
            print(f"{bound}, {connection} connection: {answer.status_code} after {elapsed:.2f} s", end=" ")
            print(f"(function timeout {FUNCTION_SECONDS} s)")
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "2"
            assert answer.json() == {"message": "no database connection became free in time, try again shortly"}
            assert elapsed < FUNCTION_SECONDS - 0.5
            if query_wait_timeout is not None:
                assert query_wait_timeout - 0.5 < elapsed < query_wait_timeout + 1
            # The pool is free again: the same worker answers at once, on a new connection.
            assert requests.get(f"{server.base}/widgets/1", headers=bearer(), timeout=30).status_code == 200


def test_the_template_pgbouncer_uses_the_recommended_wait_bound(database):
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed")
    with PgBouncer(database) as pooler:
        pooler.start()
        ini = (pooler.workdir / "pgbouncer.ini").read_text()
    assert f"query_wait_timeout = {RECOMMENDED_QUERY_WAIT_TIMEOUT}\n" in ini
    assert RECOMMENDED_QUERY_WAIT_TIMEOUT < 10 - 1  # under the default function's timeout, with room to answer


def test_a_database_at_its_connection_limit_ends_within_the_function_time_though_retries_may_last_longer(
    database, monkeypatch
):
    for name in _RUNTIME_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("DB_CONNECT_RETRY_SECONDS", "60")  # longer than the function may run
    reset_runtime()
    taken = []
    try:
        while True:  # every slot, the superuser's reserved ones included
            try:
                taken.append(psycopg2.connect(database.url))
            except psycopg2.OperationalError:
                break
        assert len(taken) >= 3
        started = time.monotonic()
        answer = app.handler(direct_event("get_widget", widgetId=1), LambdaContext(timeout_ms=FUNCTION_SECONDS * 1000))
        elapsed = time.monotonic() - started
    finally:
        for conn in taken:
            conn.close()
        reset_runtime()
    print(f"connection limit, DB_CONNECT_RETRY_SECONDS=60: {answer} after {elapsed:.2f} s")
    assert answer == {
        "error": {"status": 503, "message": "database is at its connection limit, try again shortly", "retryAfter": 2}
    }
    assert FUNCTION_SECONDS - 1.5 < elapsed < FUNCTION_SECONDS - 0.5  # retried until the deadline, not 60 s


def test_without_a_lambda_context_nothing_is_armed(lambda_env):
    from lambdakit import deadline

    assert app.handler(direct_event("get_widget", widgetId=1), None)["data"]["widgetId"] == 1
    assert deadline.wait_until() is None
    assert app.handler(direct_event("get_widget", widgetId=1), LambdaContext(timeout_ms=10_000))["data"]
    assert 8.5 < deadline.wait_until() - time.monotonic() <= 9.0  # 10 s less the second kept to answer
