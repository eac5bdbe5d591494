"""EMF lines against a real PostgreSQL: written on a cold start, a reconnect and a retry, never on a warm request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import psycopg2
import pytest
from moto import mock_aws

import db_utils
from db_utils import transaction
from lambdakit import metrics
from local.events import LambdaContext, direct_event
from tests.support import app
from tests.support.emf import dimensions_of, emf_lines, metrics_of

ROOT = Path(__file__).resolve().parents[2]
# A fresh process whose Lambda package is the fixture app: its lambda_function first on the path.
FIXTURE_PATH = f"{app.APP_DIR}:{ROOT / 'src'}:{ROOT}"


def serve(event: dict, context: LambdaContext | None = None) -> dict:
    """One invocation through the handler (the router tags the request with its ids first)."""
    return app.handler(event, context or LambdaContext())


@transaction(read_only=True)
def backend_pid(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid() AS pid")
        return cur.fetchone()["pid"]


@pytest.fixture(autouse=True)
def stage(monkeypatch):
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "widgets-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "widgets-api")


def test_a_cold_start_writes_one_coldstart_line_and_one_connect_line_with_the_init_breakdown(lambda_env, capsys):
    context = LambdaContext(aws_request_id="lambda-req-1")
    event = {**direct_event("get_widget", widgetId=1), "requestContext": {"requestId": "gateway-req-1"}}
    assert serve(event, context)["data"]["widgetId"] == 1
    cold, connect = emf_lines(capsys.readouterr().out)

    assert metrics_of(cold) == {"ColdStart": ("Count", 1.0)}  # InitImportTime only on a deployed on-demand init
    assert cold["initialization_type"] == "local"
    found = metrics_of(connect)
    assert set(found) == {"DatabaseConnect", "DatabaseConnectTime", "InitConnectTime"}
    assert found["DatabaseConnect"] == ("Count", 1.0)
    assert found["DatabaseConnectTime"][0] == found["InitConnectTime"][0] == "Milliseconds"
    assert 0 < found["InitConnectTime"][1] < 5000
    for line in (cold, connect):
        assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "widgets-api"
        assert dimensions_of(line) == {"service": "widgets-api", "stage": "test"}
        assert line["correlation_id"] == "gateway-req-1" and line["function_request_id"] == "lambda-req-1"


def test_a_warm_request_that_opens_no_connection_writes_no_metric_line(lambda_env, capsys):
    serve(direct_event("get_widget", widgetId=1))
    capsys.readouterr()
    for widget_id in (1, 2, 999):
        serve(direct_event("get_widget", widgetId=widget_id))
    assert emf_lines(capsys.readouterr().out) == []


def test_a_connection_closed_by_the_server_is_counted_as_a_retry_and_a_reconnect(lambda_env, admin, capsys):
    first = backend_pid()
    capsys.readouterr()
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (first,))
    assert backend_pid() != first
    retry, reconnect = emf_lines(capsys.readouterr().out)
    assert metrics_of(retry) == {"DatabaseRetry": ("Count", 1.0)}
    found = metrics_of(reconnect)
    assert set(found) == {"DatabaseConnect", "DatabaseConnectTime", "DatabaseReconnect"}
    assert found["DatabaseReconnect"] == ("Count", 1.0) and found["DatabaseConnectTime"][0] == "Milliseconds"
    assert dimensions_of(retry) == dimensions_of(reconnect) == {"service": "widgets-api", "stage": "test"}


def test_a_cold_start_with_a_secret_reports_the_credentials_time_apart_from_the_connect_time(
    lambda_env, monkeypatch, fake_aws, admin, capsys
):
    monkeypatch.delenv("DATABASE_URL")
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS metrics_user")
        cur.execute("CREATE ROLE metrics_user LOGIN PASSWORD 'metrics-password'")
        cur.execute("GRANT SELECT ON fixture_widgets TO metrics_user")
    try:
        with mock_aws():
            secret = {"username": "metrics_user", "password": "metrics-password", "host": "127.0.0.1"}
            arn = boto3.client("secretsmanager").create_secret(
                Name="metrics/db", SecretString=json.dumps({**secret, "port": lambda_env.port})
            )["ARN"]
            monkeypatch.setenv("DB_SECRET_ARN", arn)
            monkeypatch.setenv("DB_SSLMODE", "disable")
            assert "data" in serve(direct_event("get_widget", widgetId=1))
        _, connect = emf_lines(capsys.readouterr().out)
        found = metrics_of(connect)
        assert found["InitCredentialsTime"][0] == "Milliseconds" and found["InitCredentialsTime"][1] > 0
        assert found["InitConnectTime"][1] > 0
        assert "metrics-password" not in json.dumps(connect)
    finally:
        db_utils.close_connection()
        with admin.cursor() as cur:
            cur.execute("REVOKE ALL ON fixture_widgets FROM metrics_user")
            cur.execute("DROP ROLE metrics_user")


def test_a_refused_password_that_was_rotated_writes_a_credentials_refresh_line(capsys):
    metrics.credentials_refreshed(rotated=True)
    (line,) = emf_lines(capsys.readouterr().out)
    assert metrics_of(line) == {"CredentialsRefresh": ("Count", 1.0)}
    assert line["rotated"] is True


def test_a_503_for_lack_of_connection_slots_writes_a_too_many_connections_line(lambda_env, admin, capsys, monkeypatch):
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS crowded")
        cur.execute("CREATE ROLE crowded LOGIN PASSWORD 'crowded' CONNECTION LIMIT 0")
    try:
        url = psycopg2.extensions.parse_dsn(lambda_env.url)
        monkeypatch.setenv(
            "DATABASE_URL", psycopg2.extensions.make_dsn(**{**url, "user": "crowded", "password": "crowded"})
        )
        answer = serve(direct_event("get_widget", widgetId=1))
        assert answer["error"]["status"] == 503
        _, too_many = emf_lines(capsys.readouterr().out)
        assert metrics_of(too_many) == {"TooManyConnections": ("Count", 1.0)}
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP ROLE crowded")


def test_a_deployed_on_demand_cold_start_measures_the_import_time_in_a_fresh_process(pg):
    code = (
        "import lambda_function;"
        "from local.events import LambdaContext, direct_event;"
        "lambda_function.handler(direct_event('get_widget', widgetId=1), LambdaContext())"
    )
    env = {
        "DATABASE_URL": pg.url,
        "PYTHONPATH": FIXTURE_PATH,
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "STAGE": "prod",
        "POWERTOOLS_SERVICE_NAME": "widgets-api",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    cold = emf_lines(out.stdout)[0]
    found = metrics_of(cold)
    assert found["ColdStart"] == ("Count", 1.0)
    unit, import_ms = found["InitImportTime"]
    assert unit == "Milliseconds" and 1 < import_ms < 10_000
    assert cold["initialization_type"] == "on-demand"


def test_a_cold_start_that_logs_nothing_never_imports_powertools(pg):
    # Its package costs a cold start ~13 ms; the Logger is made on the first line (lambdakit.log).
    code = (
        "import sys, lambda_function;"
        "from local.events import LambdaContext, rest_v1_event;"
        "from tests.support.identities import as_user;"
        "event = as_user(rest_v1_event('GET', '/widgets/1', '', [], b''));"
        "answer = lambda_function.handler(event, LambdaContext());"
        "print(answer['statusCode'], 'aws_lambda_powertools' in sys.modules)"
    )
    env = {"DATABASE_URL": pg.url, "PYTHONPATH": FIXTURE_PATH, "PATH": "/usr/bin:/bin", "STAGE": "prod"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "200 False"
    assert emf_lines(out.stdout), "the cold start's metric lines are still written"
