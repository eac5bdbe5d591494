"""Shared fixtures: a real PostgreSQL (embedded, started once per run), a clean Lambda runtime per test, and the
fixture app (tests/support/app) the machinery's tests run against, in-process or written out as a src/ folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from local.database import apply_migrations, apply_seed
from local.embedded_pg import EmbeddedPostgres, free_port
from tests.support import app

# The suite runs with the template's own settings (cdk.json: auth=cognito for the servers it starts; the
# in-process runtime sees no AUTH, as a function deployed without the stack), not with the shell's.
for _name in ("AUTH", "API_KEYS", "PUBLIC_API", "COGNITO_USER_POOL_ARN", "JWT_ISSUER", "JWT_AUDIENCE"):
    os.environ.pop(_name, None)

_RUNTIME_VARIABLES = (
    "DATABASE_URL",
    "DB_SECRET_ARN",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_SSLMODE",
    "DB_CONNECT_TIMEOUT",
    "DB_CONNECT_RETRY_SECONDS",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_IDLE_SESSION_TIMEOUT_MS",
    "DB_APPLICATION_NAME",
    "DB_IAM_AUTH",
    "DB_USER",
    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
)


def start_database(**settings: str) -> EmbeddedPostgres:
    """A new PostgreSQL in a temporary folder: the project's migrations and seed, and the fixture app's."""
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "data", free_port(), settings={"fsync": "off", **settings})
    server.init()
    server.start()
    apply_migrations(server.url)
    apply_seed(server.url)
    app.prepare_database(server.url)
    return server


def remove_database(server: EmbeddedPostgres) -> None:
    """Stop the server and delete its folder."""
    server.stop("immediate")
    shutil.rmtree(server.datadir.parent, ignore_errors=True)


def reset_runtime() -> None:
    """Forget the cached connection, settings and credentials: the next call is a cold start."""
    import db_utils
    from lambdakit import credentials, observability
    from lambdakit import settings as config

    db_utils.close_connection()
    config.database_settings.cache_clear()
    credentials.forget_credentials()
    observability.reset()


@pytest.fixture(scope="session")
def pg() -> Iterator[EmbeddedPostgres]:
    """The run's shared database; tests that stop or restart a server use their own."""
    server = start_database()
    yield server
    remove_database(server)


def restore_role_defaults(url: str) -> None:
    """Put the role's session defaults back to the runtime's defaults (a test may have stored others)."""
    from lambdakit import session

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER ROLE CURRENT_USER IN DATABASE postgres RESET ALL")
        session.store_role_defaults(conn, session.wanted_defaults(4_000, None))
    finally:
        conn.close()


@pytest.fixture
def lambda_env(pg: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedPostgres]:
    """The Lambda's environment pointed at the shared database over TCP, starting cold."""
    for name in _RUNTIME_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", pg.url)
    reset_runtime()
    yield pg
    reset_runtime()
    restore_role_defaults(pg.url)


@pytest.fixture
def empty_db(pg: EmbeddedPostgres) -> Iterator[str]:
    """URL of a new, empty database in the shared server (cheaper than a new server); dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(pg.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield pg.url.rsplit("/", 1)[0] + f"/{name}"
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def admin(pg: EmbeddedPostgres) -> Iterator[psycopg2.extensions.connection]:
    """A separate autocommit connection to look at the database from outside the Lambda."""
    conn = psycopg2.connect(pg.url)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so real boto3 clients can be built against moto or a Stubber offline."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def app_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture app written out as a project's src/ folder, for servers started with LOCAL_SRC_DIR."""
    return app.write_src(tmp_path_factory.mktemp("app") / "src")
