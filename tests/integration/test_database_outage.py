"""The database going away: a clean 503 within the connect timeout, and recovery without a restart."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from local.embedded_pg import EmbeddedPostgres
from local.events import rest_v1_event
from tests.conftest import remove_database, start_database
from tests.support.app import handler

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own_pg() -> Iterator[EmbeddedPostgres]:
    server = start_database()
    yield server
    remove_database(server)


def get_widget(widget_id: int = 1) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = handler(rest_v1_event("GET", f"/widgets/{widget_id}", "", [], b""))
    return response["statusCode"], json.loads(response["body"]), time.monotonic() - started


def test_database_stopped_gives_503_then_200_once_it_is_back(own_pg, lambda_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", own_pg.url)
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    assert get_widget()[0] == 200
    own_pg.stop()
    try:
        status, body, elapsed = get_widget()
        assert status == 503
        assert body == {"message": "database unavailable, try again shortly"}
        assert elapsed < 3
        status, _, _ = get_widget()  # a cold start while it is down: also 503, no crash
        assert status == 503
    finally:
        own_pg.start()
    assert get_widget()[0] == 200


def test_database_restarted_between_requests_costs_no_failed_request(own_pg, lambda_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", own_pg.url)
    assert get_widget()[0] == 200
    own_pg.restart()
    assert get_widget()[0] == 200


def test_a_silent_database_host_fails_within_the_connect_timeout(lambda_env, monkeypatch):
    # A listener that never answers: the TCP handshake succeeds, the PostgreSQL handshake never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:x@127.0.0.1:{port}/postgres")
        monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
        status, body, elapsed = get_widget()
    assert status == 503 and body["message"].startswith("database unavailable")
    assert 1.5 <= elapsed < 3.5


def test_connect_retries_within_the_budget_then_gives_up(lambda_env, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connection refused at once
        monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:x@127.0.0.1:{port}/postgres")
        monkeypatch.setenv("DB_CONNECT_RETRY_SECONDS", "1.5")
        status, _, elapsed = get_widget()
    assert status == 503
    assert 1.0 <= elapsed < 3.0
