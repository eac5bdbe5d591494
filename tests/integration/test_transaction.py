"""@transaction against a real PostgreSQL: commit, rollback, decorator order, connection reuse, self-healing,
and what a failed statement becomes for the client (409 for a conflict with a concurrent transaction)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import psycopg2
import pytest

import db_utils
from db_utils import transaction
from lambdakit.errors import NotFound
from lambdakit.router import Router
from local.events import direct_event, rest_v1_event

router = Router()


class Boom(RuntimeError):
    pass


def insert_note(conn, text: str) -> dict:
    """The write both decorator orders perform; they differ only in how their decorators are stacked."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notes (text) VALUES (%s) RETURNING id, text", (text,))
        return cur.fetchone()


@router.rest("POST", "/notes/below")
@router.direct("note_below")
@transaction
def write_note_transaction_below(conn, text: str, fail: bool = False) -> dict:
    row = insert_note(conn, text)
    if fail:
        raise Boom("after the insert")
    return row


@transaction
@router.rest("POST", "/notes/above")
@router.direct("note_above")
def write_note_transaction_above(conn, text: str, fail: bool = False) -> dict:
    row = insert_note(conn, text)
    if fail:
        raise NotFound("pretend the parent row is missing")
    return row


@router.direct("backend_pid")
@transaction(read_only=True)
def backend_pid(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return cur.fetchone()["pid"]


@router.direct("two_writes_then_fail")
@transaction
def two_writes_then_fail(conn, text: str) -> None:
    write_note_transaction_below(text=text + "-inner")  # joins this transaction
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notes (text) VALUES (%s)", (text + "-outer",))
    raise Boom("both writes must vanish")


# Calls of the route below, and what it runs between its two statements (a test sets it).
calls: list[int] = []
between_statements: list[Callable[[int], None]] = []


@router.direct("write_then_lose_the_connection")
@transaction
def write_then_lose_the_connection(conn) -> None:
    """Insert a note, then the server ends the session (as a failover would) before the call can finish."""
    calls.append(1)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO notes (text) VALUES ('lost-connection')")
        cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@router.direct("update_note_twice")
@transaction
def update_note_twice(conn, note_id: int, isolation: str = "READ COMMITTED") -> None:
    """Update two notes in one transaction; `between_statements` runs after the first statement."""
    with conn.cursor() as cur:
        cur.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        # PostgreSQL looks for a deadlock once, this long after a wait began: time enough for the cycle to close.
        cur.execute("SET LOCAL deadlock_timeout = '2s'")
        cur.execute("SELECT text FROM notes WHERE id = %s", (note_id,))
        cur.execute("SELECT pg_backend_pid() AS pid")
        pid = cur.fetchone()["pid"]
        for hook in between_statements:
            hook(pid)
        cur.execute("UPDATE notes SET text = 'by the route' WHERE id = %s", (note_id,))
        cur.execute("UPDATE notes SET text = 'by the route' WHERE id = %s", (note_id + 1,))


@pytest.fixture(autouse=True)
def notes_table(lambda_env, admin):
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text NOT NULL)")
    yield
    with admin.cursor() as cur:
        cur.execute("DROP TABLE notes")


def notes(admin, text: str) -> int:
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM notes WHERE text LIKE %s", (text + "%",))
        return cur.fetchone()[0]


def call(route: str, **args):
    return router.handle(direct_event(route, **args), None)


@pytest.mark.parametrize("route", ["note_below", "note_above"])
def test_commit_is_visible_after_success_in_either_decorator_order(admin, route):
    answer = call(route, text=f"ok-{route}")
    assert answer["data"]["text"] == f"ok-{route}"
    assert notes(admin, f"ok-{route}") == 1


@pytest.mark.parametrize(("route", "status"), [("note_below", 500), ("note_above", 404)])
def test_nothing_is_visible_after_an_exception_in_either_decorator_order(admin, route, status):
    answer = call(route, text=f"fail-{route}", fail=True)
    assert answer["error"]["status"] == status
    assert notes(admin, f"fail-{route}") == 0


@pytest.mark.parametrize("path", ["/notes/below", "/notes/above"])
def test_rest_routes_work_in_either_decorator_order(admin, path):
    event = rest_v1_event("POST", path, "text=via-rest", [], b"")
    response = router.handle(event, None)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["text"] == "via-rest"


def test_a_nested_transaction_joins_the_outer_one_and_rolls_back_with_it(admin):
    assert call("two_writes_then_fail", text="nested")["error"]["status"] == 500
    assert notes(admin, "nested") == 0


def test_route_functions_can_be_called_directly_from_a_test(admin):
    row = write_note_transaction_above(text="direct-call")
    assert row["text"] == "direct-call" and notes(admin, "direct-call") == 1
    with pytest.raises(Boom):
        write_note_transaction_below(text="direct-fail", fail=True)
    assert notes(admin, "direct-fail") == 0


def test_the_connection_is_clean_after_a_failure_for_the_next_invocation(admin):
    call("note_below", text="dirty", fail=True)
    conn, reused = db_utils.get_connection()
    assert reused and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert call("note_below", text="after-failure")["data"]["text"] == "after-failure"


def test_the_cached_connection_is_reused_across_invocations():
    pids = {call("backend_pid")["data"] for _ in range(5)}
    assert len(pids) == 1


def test_a_connection_killed_by_the_server_is_replaced_without_failing_the_request(admin):
    first = call("backend_pid")["data"]
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (first,))
    answer = call("backend_pid")
    assert "data" in answer, answer
    assert answer["data"] != first
    # and a write after a kill, too
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (answer["data"],))
    assert call("note_below", text="after-kill")["data"]["text"] == "after-kill"
    assert notes(admin, "after-kill") == 1


def test_timeouts_are_the_roles_defaults_and_no_startup_options_are_sent(monkeypatch, admin):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "1234")
    monkeypatch.setenv("DB_IDLE_SESSION_TIMEOUT_MS", "600000")
    monkeypatch.setenv("DB_APPLICATION_NAME", "students-test")
    pid = call("backend_pid")["data"]
    with admin.cursor() as cur:
        cur.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (pid,))
        assert cur.fetchone()[0] == "students-test"
        cur.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole"
            " JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = 'postgres' AND d.datname = 'postgres'"
        )
        assert set(cur.fetchone()[0]) >= {"statement_timeout=1234", "idle_session_timeout=600000"}
    conn, _ = db_utils.get_connection()
    assert "options" not in conn.dsn
    with conn.cursor() as cur:
        cur.execute(
            "SELECT current_setting('statement_timeout') AS st, current_setting('idle_session_timeout') AS idle"
        )
        assert cur.fetchone() == {"st": "1234ms", "idle": "10min"}


def test_a_statement_timeout_is_a_504_and_the_environment_serves_the_next_request(monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "200")

    @transaction(read_only=True)
    def slow(conn) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(2)")

    local_router = Router()
    local_router.direct("slow")(slow)
    local_router.direct("pid")(backend_pid)
    assert local_router.handle(direct_event("slow"), None) == {
        "error": {"status": 504, "message": "database statement timed out"}
    }
    assert "data" in local_router.handle(direct_event("pid"), None)


def test_a_call_whose_statements_ran_is_not_retried_when_the_connection_dies(admin):
    """A retry after a statement ran could apply a write twice: only a call that sent nothing is retried."""
    assert "data" in call("backend_pid")  # a cached connection: the case where the runtime may retry
    calls.clear()
    answer = call("write_then_lose_the_connection")
    assert answer == {"error": {"status": 503, "message": "database unavailable, try again shortly"}}
    assert len(calls) == 1, "the function ran again on a new connection after its statements had run"
    assert notes(admin, "lost-connection") == 0
    assert "data" in call("backend_pid"), "the next invocation connects afresh"


def _two_notes(admin) -> int:
    with admin.cursor() as cur:
        cur.execute("INSERT INTO notes (text) VALUES ('a'), ('b') RETURNING id")
        return cur.fetchall()[0][0]


def test_a_serialization_failure_is_a_409_asking_the_client_to_retry(admin):
    note = _two_notes(admin)

    def update_concurrently(_pid: int) -> None:
        with admin.cursor() as cur:  # autocommit: committed before the route's own update
            cur.execute("UPDATE notes SET text = 'by another transaction' WHERE id = %s", (note,))

    between_statements[:] = [update_concurrently]
    try:
        answer = call("update_note_twice", noteId=note, isolation="REPEATABLE READ")
    finally:
        between_statements.clear()
    assert answer == {"error": {"status": 409, "message": "conflict with a concurrent update; retry the request"}}
    with admin.cursor() as cur:
        cur.execute("SELECT text FROM notes WHERE id IN (%s, %s) ORDER BY id", (note, note + 1))
        assert [r[0] for r in cur.fetchall()] == ["by another transaction", "b"]


def test_a_deadlock_is_a_409_asking_the_client_to_retry_and_the_other_transaction_proceeds(pg, admin):
    note = _two_notes(admin)
    other = psycopg2.connect(pg.url)
    done = threading.Event()

    def lock_the_second_then_wait_for_the_first(route_pid: int) -> None:
        with other.cursor() as cur:
            cur.execute("SET deadlock_timeout = '60s'")  # the route, waiting first, is the one to detect it
            cur.execute("UPDATE notes SET text = 'by the other' WHERE id = %s", (note + 1,))

        def then_take_the_first() -> None:
            # Once the route waits for the second row, wanting the first (the route's) closes the cycle.
            while not _waiting_for_a_lock(admin, route_pid):
                time.sleep(0.01)
            with other.cursor() as cur:
                cur.execute("UPDATE notes SET text = 'by the other' WHERE id = %s", (note,))
            other.commit()
            done.set()

        threading.Thread(target=then_take_the_first, daemon=True).start()

    between_statements[:] = [lock_the_second_then_wait_for_the_first]
    try:
        answer = call("update_note_twice", noteId=note)
    finally:
        between_statements.clear()
    try:
        assert answer == {"error": {"status": 409, "message": "conflict with a concurrent update; retry the request"}}
        assert done.wait(30), "the other transaction should go on once the route's is rolled back"
    finally:
        other.close()
    with admin.cursor() as cur:
        cur.execute("SELECT text FROM notes WHERE id IN (%s, %s) ORDER BY id", (note, note + 1))
        assert [r[0] for r in cur.fetchall()] == ["by the other", "by the other"]


def _waiting_for_a_lock(admin, pid: int) -> bool:
    with admin.cursor() as cur:
        cur.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = cur.fetchone()
    return bool(row and row[0])
