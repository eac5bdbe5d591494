"""Faults injected into a real PostgreSQL while the local server (one process per Lambda environment) serves.

Scenarios 1-5, 7 and 8 of the fault table `make faults` prints (6 and 9 are in test_runtime_faults.py); each
test adds its row.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from local.embedded_pg import EmbeddedPostgres
from tests.faults.client import Tally, spread
from tests.faults.conftest import APP_USER, app_url, superuser
from tests.faults.harness import LocalServer, app_connections, terminate_sessions, wait_for

pytestmark = pytest.mark.slow
WORKERS = 3
CONNECT_TIMEOUT = 2
UNAVAILABLE = {"message": "database unavailable, try again shortly"}
AT_CONNECTION_LIMIT = {"message": "database is at its connection limit, try again shortly"}


def server_env(db: EmbeddedPostgres, **extra: str) -> dict[str, str]:
    """The runtime's environment for the fault routes: defaults, except a short statement timeout."""
    return {
        "DATABASE_URL": app_url(db),
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "DB_STATEMENT_TIMEOUT_MS": "1000",
        **extra,
    }


@pytest.fixture(scope="module")
def server(fault_db: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    log = tmp_path_factory.mktemp("faults") / "server.log"
    with LocalServer(server_env(fault_db), workers=WORKERS, module="tests.faults.fault_routes", log=log) as running:
        yield running


def warm(tally: Tally, server: LocalServer, db: EmbeddedPostgres) -> set[int]:
    """Give every worker a cached connection, and check each holds exactly one."""
    workers = spread(tally, server.base, WORKERS)
    assert len(workers) == WORKERS
    with superuser(db) as admin:
        assert app_connections(admin, server.application_name) == WORKERS
    return workers


def test_1_database_restarted_between_two_requests_costs_no_failed_request(fault_db, server):
    tally = Tally("1. database restarted between two requests")
    workers = warm(tally, server, fault_db)
    fault_db.restart()
    assert spread(tally, server.base, WORKERS) == workers  # every stale connection was replaced in place
    for _ in range(5):
        tally.call("GET", f"{server.base}/ping")
    tally.record()
    assert tally.failures == []


def test_2_every_backend_terminated_while_idle_the_next_requests_succeed(fault_db, server):
    tally = Tally("2. every backend terminated while idle")
    warm(tally, server, fault_db)
    with superuser(fault_db) as admin:
        assert terminate_sessions(admin, server.application_name) == WORKERS
    spread(tally, server.base, WORKERS)
    tally.record()
    assert tally.failures == []


def test_3_database_down_at_cold_start_is_a_quick_503_then_recovers_without_a_restart(fault_db, logs):
    tally = Tally("3. database down at cold start")
    fault_db.stop()
    try:
        with LocalServer(server_env(fault_db), workers=1, module="tests.faults.fault_routes", log=logs) as cold:
            down = tally.call("GET", f"{cold.base}/ping")
            assert down.status == 503 and down.body == UNAVAILABLE
            assert down.content_type == "application/json"
            assert down.seconds < CONNECT_TIMEOUT + 1
            fault_db.start()
            up = tally.call("GET", f"{cold.base}/ping")
            assert up.status == 200
            assert cold.alive()
    finally:
        if not fault_db.is_running():
            fault_db.start()
    tally.record(expected="1× 503 while the database was down (by design)")


def test_4_restart_under_write_load_loses_no_acknowledged_write_and_fails_cleanly(fault_db, server):
    tally = Tally("4. database restarted during 8-client write load")
    clients, writes_each, restart_after = 8, 60, 150
    sent: list[tuple[str, int | None]] = []
    lock = threading.Lock()
    restarted = threading.Event()

    def client(_: int) -> None:
        session = requests.Session()
        for _ in range(writes_each):
            request_id = str(uuid.uuid4())
            answer = tally.call("POST", f"{server.base}/pairs", session=session, json={"requestId": request_id})
            with lock:
                sent.append((request_id, answer.status))
            if answer.status != 201:
                time.sleep(0.1)  # a client backs off after a 503 rather than hammering

    def restarter() -> None:
        wait_for(lambda: len(sent) >= restart_after, 60)
        fault_db.restart()
        restarted.set()

    trigger = threading.Thread(target=restarter)
    trigger.start()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    trigger.join(timeout=60)
    assert restarted.is_set(), "the write load ended before the restart happened"

    with superuser(fault_db) as admin, admin.cursor() as cur:
        cur.execute("SELECT request_id::text, count(*) FROM fault_pairs GROUP BY 1")
        stored = dict(cur.fetchall())
    acknowledged = [rid for rid, status in sent if status == 201]
    failed = [rid for rid, status in sent if status != 201]
    lost = [rid for rid in acknowledged if stored.get(rid) != 2]
    half_applied = [rid for rid, count in stored.items() if count != 2]
    failed_but_applied = [rid for rid in failed if rid in stored]
    tally.record(lost_writes=len(lost), expected=f"{len(failed)}× clean 503 during the restart, 0 half-applied")

    assert len(sent) == clients * writes_each and len(acknowledged) >= 200
    assert lost == [] and half_applied == [] and failed_but_applied == []
    for answer in tally.failures:
        assert answer.status == 503, answer  # never a hang (None) and never a 500
        assert set(answer.body) == {"message"} and answer.body["message"].startswith("database ")


def test_5_statement_timeout_is_a_504_and_the_same_environment_serves_the_next_request(fault_db, server):
    tally = Tally("5. statement timeout exceeded")
    session = requests.Session()  # one keep-alive connection: every request reaches the same worker
    before = tally.call("GET", f"{server.base}/ping", session=session)
    slow = tally.call("GET", f"{server.base}/sleep?seconds=5", session=session)
    after = tally.call("GET", f"{server.base}/ping", session=session)
    tally.record(expected="1× 504 for the statement over the 1 s timeout (by design)")
    assert slow.status == 504 and slow.body == {"message": "database statement timed out"}
    assert slow.seconds < 3
    assert before.status == after.status == 200
    assert after.body == before.body  # same worker, and it kept its server session


def test_7_too_many_connections_is_a_503_without_a_crash_and_recovers(fault_db, server):
    tally = Tally("7. too many connections")
    workers = warm(tally, server, fault_db)
    held: list[psycopg2.extensions.connection] = []
    with superuser(fault_db) as admin:
        terminate_sessions(admin, server.application_name)
    try:
        for _ in range(40):  # take every slot a non-superuser may use
            try:
                held.append(psycopg2.connect(app_url(fault_db), connect_timeout=2))
            except psycopg2.OperationalError as exc:
                assert "connection slots" in str(exc) or "too many" in str(exc)
                break
        starved = [tally.call("GET", f"{server.base}/ping") for _ in range(WORKERS * 2)]
    finally:
        for conn in held:
            conn.close()
    assert held, "could not take any connection slot"
    assert all(a.status == 503 and a.body == AT_CONNECTION_LIMIT for a in starved)
    assert spread(tally, server.base, WORKERS) == workers  # same processes: nothing crashed
    assert server.alive()
    tally.record(expected=f"{len(starved)}× 503 while all slots were held (by design)")


def test_8_server_closing_idle_sessions_costs_no_failed_request(fault_db, server):
    tally = Tally("8. server closes idle sessions (idle_session_timeout)")
    with superuser(fault_db) as admin, admin.cursor() as cur:
        cur.execute(f"ALTER ROLE {APP_USER} SET idle_session_timeout = '1s'")
    try:
        with superuser(fault_db) as admin:
            terminate_sessions(admin, server.application_name)  # new sessions pick up the role setting
            warm(tally, server, fault_db)
            assert wait_for(lambda: app_connections(admin, server.application_name) == 0, 5)
        spread(tally, server.base, WORKERS)
    finally:
        with superuser(fault_db) as admin, admin.cursor() as cur:
            cur.execute(f"ALTER ROLE {APP_USER} RESET idle_session_timeout")
    tally.record()
    assert tally.failures == []
