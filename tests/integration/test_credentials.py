"""Credentials from Secrets Manager (moto): fetched lazily, cached, re-read on rotation; boto3 unused locally."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local.events import direct_event
from tests.support import app

ROOT = Path(__file__).resolve().parents[2]
# A fresh process whose Lambda package is the fixture app: its lambda_function first on the path.
FIXTURE_PATH = f"{app.APP_DIR}:{ROOT / 'src'}:{ROOT}"


@pytest.fixture
def app_role(admin):
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS app_user")
        cur.execute("CREATE ROLE app_user LOGIN PASSWORD 'first-password'")
        cur.execute("GRANT ALL ON fixture_widgets TO app_user")
    yield
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_user'")
        cur.execute("REVOKE ALL ON fixture_widgets FROM app_user")
        cur.execute("DROP ROLE app_user")


@pytest.fixture
def secret_env(lambda_env, monkeypatch, app_role, fake_aws):
    monkeypatch.delenv("DATABASE_URL")
    with mock_aws():
        client = boto3.client("secretsmanager")
        arn = client.create_secret(
            Name="widgets/db",
            SecretString=json.dumps(
                {"username": "app_user", "password": "first-password", "host": "127.0.0.1", "port": lambda_env.port}
            ),
        )["ARN"]
        monkeypatch.setenv("DB_SECRET_ARN", arn)
        monkeypatch.setenv("DB_SSLMODE", "disable")  # the embedded server has no certificate
        yield client, arn


def test_credentials_come_from_the_secret_and_are_cached(secret_env):
    client, arn = secret_env
    assert "items" in app.handler(direct_event("list_widgets", limit=1))["data"]
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    # The cached credentials serve the next requests; the deleted secret is not read again.
    assert "data" in app.handler(direct_event("list_widgets", limit=2))


def test_a_rotated_password_is_read_again_and_the_request_succeeds(secret_env, admin):
    client, arn = secret_env
    assert "data" in app.handler(direct_event("get_widget", widgetId=1))
    with admin.cursor() as cur:
        cur.execute("ALTER ROLE app_user PASSWORD 'second-password'")
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_user'")
    secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "password": "second-password"}))
    assert "data" in app.handler(direct_event("get_widget", widgetId=1))


def test_a_wrong_password_that_did_not_rotate_is_a_503_without_a_retry_loop(secret_env, admin, caplog):
    with admin.cursor() as cur:
        cur.execute("ALTER ROLE app_user PASSWORD 'nobody-knows'")
    answer = app.handler(direct_event("get_widget", widgetId=1))
    assert answer == {"error": {"status": 503, "message": "database refused the credentials"}}
    assert "first-password" not in caplog.text and "nobody-knows" not in caplog.text


def test_a_missing_secret_is_a_503_not_a_crash(lambda_env, monkeypatch, fake_aws):
    monkeypatch.delenv("DATABASE_URL")
    with mock_aws():
        monkeypatch.setenv("DB_SECRET_ARN", "widgets/does-not-exist")
        answer = app.handler(direct_event("get_widget", widgetId=1))
    assert answer == {"error": {"status": 503, "message": "database credentials are unavailable"}}


def test_boto3_is_not_loaded_when_database_url_is_set(pg):
    code = (
        "import sys, lambda_function;"
        "from local.events import direct_event;"
        "r = lambda_function.handler(direct_event('get_widget', widgetId=1), None);"
        "assert 'data' in r, r;"
        "print('boto3' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DATABASE_URL": pg.url, "PYTHONPATH": FIXTURE_PATH, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "False"  # after the metric lines of the cold start


def test_the_secret_comes_from_the_extension_without_boto3(pg, tmp_path):
    """A cold process: secret from a stand-in for the extension's HTTP API, and boto3 never imported."""
    secret = json.dumps({"username": "postgres", "password": "postgres", "host": "127.0.0.1", "port": pg.port})
    code = (
        "import sys, json, lambda_function\n"
        "from local.events import direct_event\n"
        "from tests.support.secrets_extension import FakeSecretsExtension\n"
        f"with FakeSecretsExtension({{'widgets/db': {secret!r}}}, 'session-token', {{port}}) as ext:\n"
        "    r = lambda_function.handler(direct_event('get_widget', widgetId=1), None)\n"
        "    print(json.dumps({'ok': 'data' in r, 'boto3': 'boto3' in sys.modules, 'asked': ext.requests}))\n"
    )
    from local.embedded_pg import free_port

    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": FIXTURE_PATH,
        "DB_SECRET_ARN": "widgets/db",
        "DB_SSLMODE": "disable",
        "AWS_SESSION_TOKEN": "session-token",
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port),
    }
    out = subprocess.run(
        [sys.executable, "-c", code.replace("{port}", str(port))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"ok": True, "boto3": False, "asked": ["widgets/db"]}


def test_without_an_answering_extension_the_secret_is_read_with_boto3(secret_env, monkeypatch):
    from local.embedded_pg import free_port

    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(free_port()))  # nothing listens there
    answer = app.handler(direct_event("get_widget", widgetId=1))
    assert answer["data"]["widgetId"] == 1


def test_a_refused_password_is_read_again_past_the_extensions_cache(secret_env, admin, monkeypatch):
    client, arn = secret_env
    old = client.get_secret_value(SecretId=arn)["SecretString"]
    from tests.support.secrets_extension import FakeSecretsExtension

    with FakeSecretsExtension({arn: old}, "tok") as extension:
        monkeypatch.setenv("AWS_SESSION_TOKEN", "tok")
        monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(extension.port))
        assert "data" in app.handler(direct_event("get_widget", widgetId=1))
        assert extension.requests == [arn]
        with admin.cursor() as cur:
            cur.execute("ALTER ROLE app_user PASSWORD 'second-password'")
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_user'")
        rotated = {**json.loads(old), "password": "second-password"}
        client.put_secret_value(SecretId=arn, SecretString=json.dumps(rotated))
        # The extension still serves the old password (its cache); the re-read goes to Secrets Manager.
        assert "data" in app.handler(direct_event("get_widget", widgetId=1))
        assert extension.requests == [arn]
