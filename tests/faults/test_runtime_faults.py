"""Faults the runtime meets inside one execution environment, run through the handler in-process.

Scenario 6 (password rotation, secret served by moto), 8 via the runtime's own DB_IDLE_SESSION_TIMEOUT_MS,
and 9 (a database that takes seconds to accept connections, as Aurora does when resuming from pause).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg2
import pytest
from moto import mock_aws

from lambdakit import credentials
from local.embedded_pg import EmbeddedPostgres
from local.events import rest_v1_event
from tests.conftest import _RUNTIME_VARIABLES, reset_runtime
from tests.faults import fault_routes
from tests.faults.client import Answer, Tally
from tests.faults.conftest import APP_USER, app_url, superuser
from tests.faults.harness import wait_for
from tests.faults.proxy import PausingProxy

pytestmark = pytest.mark.slow
ROTATING_USER = "fault_rotating"


def call(tally: Tally, path: str) -> Answer:
    """One REST request through the handler, timed like an HTTP one."""
    started = time.monotonic()
    path, _, query = path.partition("?")
    response = fault_routes.handler(rest_v1_event("GET", path, query, [], b""), None)
    answer = Answer(response["statusCode"], json.loads(response["body"]), time.monotonic() - started)
    tally.answers.append(answer)
    return answer


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A cold execution environment with none of the DB_* variables set; the test sets its own."""
    for name in _RUNTIME_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    reset_runtime()
    yield monkeypatch
    reset_runtime()


@pytest.fixture
def rotating_secret(fault_db: EmbeddedPostgres, runtime: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A role whose password the test rotates, and its Secrets Manager secret (moto)."""
    with superuser(fault_db) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {ROTATING_USER} LOGIN PASSWORD 'first-Password-1'")
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DB_SSLMODE": "disable",  # the embedded server has no certificate; TLS is tested in tests/security
    }.items():
        runtime.setenv(name, value)
    secret = {"username": ROTATING_USER, "password": "first-Password-1", "host": "127.0.0.1", "port": fault_db.port}
    try:
        with mock_aws():
            client = boto3.client("secretsmanager")
            arn = client.create_secret(Name="faults/db", SecretString=json.dumps(secret))["ARN"]
            runtime.setenv("DB_SECRET_ARN", arn)
            yield client, arn
    finally:
        reset_runtime()
        with superuser(fault_db) as admin, admin.cursor() as cur:
            cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROTATING_USER}'")
            cur.execute(f"DROP ROLE {ROTATING_USER}")


def test_6_rotated_password_is_read_again_once_and_a_stale_secret_is_not_retried_in_a_loop(
    fault_db, rotating_secret, runtime
):
    client, arn = rotating_secret
    tally = Tally("6. password rotated (secret in moto)")
    attempts: list[str] = []
    reads: list[str] = []
    connect, fetch = psycopg2.connect, credentials._fetch

    def counting_connect(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("user") == ROTATING_USER:
            attempts.append(kwargs["password"])
        return connect(*args, **kwargs)

    def counting_fetch(secret_id: str, **kwargs: Any) -> dict:
        reads.append(secret_id)
        return fetch(secret_id, **kwargs)

    runtime.setattr(psycopg2, "connect", counting_connect)
    runtime.setattr(credentials, "_fetch", counting_fetch)

    def rotate(password: str, *, update_secret: bool) -> None:
        with superuser(fault_db) as admin, admin.cursor() as cur:
            cur.execute(f"ALTER ROLE {ROTATING_USER} PASSWORD %s", (password,))
            cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROTATING_USER}'")
        if update_secret:
            secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
            client.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "password": password}))

    assert call(tally, "/ping").status == 200
    rotate("second-Password-2", update_secret=True)
    attempts.clear(), reads.clear()
    assert call(tally, "/ping").status == 200
    assert attempts == ["first-Password-1", "second-Password-2"] and len(reads) == 1

    # Rotated in the database but not (yet) in the secret: each request tries once, re-reads once, and stops.
    rotate("third-Password-3", update_secret=False)
    attempts.clear(), reads.clear()
    refused = [call(tally, "/ping") for _ in range(3)]
    assert all(a.status == 503 and a.body == {"message": "database refused the credentials"} for a in refused)
    assert attempts == ["second-Password-2"] * 3 and len(reads) == 3

    rotate("third-Password-3", update_secret=True)
    assert call(tally, "/ping").status == 200
    tally.record(expected="3× 503 while the secret still held the old password (by design)")


def test_8_the_runtime_idle_session_timeout_closes_its_own_session_and_the_next_request_reconnects(fault_db, runtime):
    tally = Tally("8. DB_IDLE_SESSION_TIMEOUT_MS (runtime option)")
    runtime.setenv("DATABASE_URL", app_url(fault_db))
    runtime.setenv("DB_IDLE_SESSION_TIMEOUT_MS", "500")
    try:
        first = call(tally, "/ping")
        with superuser(fault_db) as admin, admin.cursor() as cur:

            def gone() -> bool:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first.body["backend"],))
                return cur.fetchone()[0] == 0

            assert wait_for(gone, 5)
        second = call(tally, "/ping")
    finally:
        # The runtime stored the timeout as the role's default; the later scenarios expect none.
        with superuser(fault_db) as admin, admin.cursor() as cur:
            cur.execute(f"ALTER ROLE {APP_USER} IN DATABASE postgres RESET idle_session_timeout")
    tally.record()
    assert first.status == second.status == 200
    assert second.body["backend"] != first.body["backend"]


@pytest.fixture
def paused_db(fault_db: EmbeddedPostgres, runtime: pytest.MonkeyPatch) -> Iterator[PausingProxy]:
    proxy = PausingProxy(fault_db.port)
    runtime.setenv("DATABASE_URL", app_url(fault_db).replace(f":{fault_db.port}/", f":{proxy.port}/"))
    runtime.setenv("DB_CONNECT_TIMEOUT", "2")
    yield proxy
    proxy.close()


def test_9_a_database_resuming_from_pause_is_waited_for_within_the_retry_budget(paused_db, runtime):
    tally = Tally("9. database resuming from pause (4 s), budget 10 s")
    runtime.setenv("DB_CONNECT_RETRY_SECONDS", "10")
    assert call(tally, "/ping").status == 200
    paused_db.pause(4)  # cuts the cached session too, as a pause does
    resumed = call(tally, "/ping")
    tally.record()
    assert resumed.status == 200
    assert 3.5 <= resumed.seconds < 10 + 2 + 1


def test_9_a_pause_longer_than_the_budget_is_a_503_once_the_budget_is_spent(paused_db, runtime):
    tally = Tally("9. database resuming from pause (8 s), budget 3 s")
    runtime.setenv("DB_CONNECT_RETRY_SECONDS", "3")
    paused_db.pause(8)
    answer = call(tally, "/ping")
    tally.record(expected="1× 503 after the 3 s budget (by design)")
    assert answer.status == 503 and answer.body == {"message": "database unavailable, try again shortly"}
    assert 3 <= answer.seconds < 3 + 2 + 1.5
