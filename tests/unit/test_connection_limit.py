"""Every connection slot taken: a 503 that says when to retry, whether the limit hits at connect or mid-call."""

from __future__ import annotations

import psycopg2
import pytest

import db_utils
from db_utils import transaction
from lambdakit.errors import ServiceUnavailable
from lambdakit.settings import database_settings


@transaction(read_only=True)
def read(conn) -> None:
    raise AssertionError("never reached: there is no connection")


@pytest.fixture
def cold(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@127.0.0.1:1/app")
    monkeypatch.delenv("DB_CONNECT_RETRY_SECONDS", raising=False)
    db_utils.close_connection()
    database_settings.cache_clear()
    yield
    db_utils.close_connection()
    database_settings.cache_clear()


@pytest.mark.parametrize(
    "server_says",
    [
        "FATAL:  sorry, too many clients already",
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
        'FATAL:  too many connections for role "app"',
        "ERROR:  no more connections allowed (max_client_conn)",
    ],
)
def test_a_full_database_at_connect_is_a_503_with_retry_after(cold, monkeypatch, server_says):
    def refuse(*args, **kwargs):
        raise psycopg2.OperationalError(f'connection to server at "127.0.0.1", port 1 failed: {server_says}')

    monkeypatch.setattr(psycopg2, "connect", refuse)
    with pytest.raises(ServiceUnavailable) as raised:
        read()
    assert raised.value.status == 503
    assert raised.value.retry_after == db_utils.CONNECTION_LIMIT_RETRY_AFTER
    assert raised.value.message == "database is at its connection limit, try again shortly"


def test_an_unreachable_database_is_a_503_without_a_retry_after(cold, monkeypatch):
    def refuse(*args, **kwargs):
        raise psycopg2.OperationalError("connection refused")

    monkeypatch.setattr(psycopg2, "connect", refuse)
    with pytest.raises(ServiceUnavailable) as raised:
        read()
    assert raised.value.retry_after is None


def test_sqlstate_53300_on_a_statement_translates_to_the_same_503():
    class TooMany(psycopg2.OperationalError):
        pgcode = "53300"

    translated = db_utils._translate(TooMany("too many connections"))
    assert isinstance(translated, ServiceUnavailable) and translated.retry_after == 2


def test_service_unavailable_carries_no_retry_after_unless_told():
    assert ServiceUnavailable("down").retry_after is None
    assert ServiceUnavailable("full", retry_after=5).retry_after == 5
