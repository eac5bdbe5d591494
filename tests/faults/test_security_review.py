"""Security review points as tests: nothing secret or internal in any answer or log line (at DEBUG), error
bodies of one stable shape, and TLS required to the database outside local runs."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

import db_utils
from lambdakit.settings import ConfigError, parse_database_settings
from local.events import direct_event
from tests.conftest import _RUNTIME_VARIABLES, reset_runtime
from tests.faults.client import Tally
from tests.faults.conftest import APP_PASSWORD, app_url
from tests.faults.harness import LocalServer
from tests.support.app import handler

WRONG_PASSWORD = "Wrong-Okapi-55d1"
# What must never leave the function: credentials, and what betrays internals (stack traces, SQL).
FORBIDDEN = (APP_PASSWORD, WRONG_PASSWORD, "Traceback", "SELECT", "INSERT", "no_such_table", "psycopg2", 'File "')


@pytest.mark.slow
def test_no_secret_stack_trace_or_sql_in_any_answer_or_log_line_at_debug_level(fault_db, logs):
    tally = Tally("security: errors at DEBUG log level")
    debug = {"POWERTOOLS_LOG_LEVEL": "DEBUG", "LOCAL_ACCESS_LOG": "1", "DB_STATEMENT_TIMEOUT_MS": "500"}
    module = "tests.faults.fault_routes"
    with LocalServer({"DATABASE_URL": app_url(fault_db), **debug}, workers=1, module=module, log=logs) as server:
        assert tally.call("GET", f"{server.base}/ping").status == 200
        assert tally.call("GET", f"{server.base}/broken").status == 500  # a bug: the table does not exist
        assert tally.call("GET", f"{server.base}/sleep?seconds=3").status == 504
        assert tally.call("POST", f"{server.base}/pairs", json={"requestId": "x"}).status == 400
        assert tally.call("POST", f"{server.base}/pairs", data=b"{", headers={"content-type": JSON}).status == 400
        fault_db.stop()
        try:
            assert tally.call("GET", f"{server.base}/ping").status == 503
        finally:
            fault_db.start()
    wrong = {"DATABASE_URL": app_url(fault_db, WRONG_PASSWORD), **debug}
    with LocalServer(wrong, workers=1, module=module, log=logs) as server:
        assert tally.call("GET", f"{server.base}/ping").status == 503

    for answer in tally.failures:
        assert set(answer.body) == {"message"} and isinstance(answer.body["message"], str)
        assert answer.content_type == JSON
        assert not any(word in json.dumps(answer.body) for word in FORBIDDEN), answer
    assert tally.failures[0].body == {"message": "internal error"}
    log = logs.read_text(errors="replace")
    assert '"level":"ERROR"' in log and "request failed" in log  # the failures were logged, by type only
    leaks = [line for line in log.splitlines() if any(word in line for word in FORBIDDEN)]
    assert leaks == []


JSON = "application/json"


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _RUNTIME_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    reset_runtime()
    yield monkeypatch
    reset_runtime()


def test_tls_is_required_by_default_when_credentials_come_from_secrets_manager():
    deployed = parse_database_settings({"DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db"})
    local = parse_database_settings({"DATABASE_URL": "postgresql://localhost/postgres"})
    stricter = parse_database_settings({"DB_SECRET_ARN": "arn", "DB_SSLMODE": "verify-full"})
    assert deployed.sslmode == "require" and not deployed.is_local
    assert local.sslmode == "prefer" and local.is_local
    assert stricter.sslmode == "verify-full"
    with pytest.raises(ConfigError, match="DB_SSLMODE"):
        parse_database_settings({"DB_SECRET_ARN": "arn", "DB_SSLMODE": "off"})


def test_a_deployed_function_refuses_a_database_without_tls(fault_db, runtime):
    """The embedded server has no certificate: with the deployed defaults the driver must not talk to it."""
    seen: list[dict] = []
    connect = db_utils.psycopg2.connect

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return connect(*args, **kwargs)

    runtime.setattr(db_utils.psycopg2, "connect", spy)
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        runtime.setenv(name, value)
    secret = {"username": "fault_app", "password": APP_PASSWORD, "host": "127.0.0.1", "port": fault_db.port}
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="tls/db", SecretString=json.dumps(secret))["ARN"]
        runtime.setenv("DB_SECRET_ARN", arn)
        answer = handler(direct_event("get_widget", widgetId=1))
    assert answer == {"error": {"status": 503, "message": "database unavailable, try again shortly"}}
    assert seen and all(kwargs["sslmode"] == "require" for kwargs in seen)
