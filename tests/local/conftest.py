"""Fixtures for the local loop's tests: served APIs (the fixture app, with routes of these tests beside it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.embedded_pg import free_port
from tests.support import app
from tests.support.process import stop_process, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]


def start_server(*args: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`run_local.py serve` on a free port with output to `log`; returns the process and base URL once it answers."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "run_local.py", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{base}/openapi.json")
    except RuntimeError as exc:
        stop_server(process)
        pytest.fail(f"server did not start ({exc}):\n{log.read_text()}")
    return process, base


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C or a process manager would; the workers must go with it."""
    stop_process(process, timeout=30)


@pytest.fixture(scope="session")
def answers_src(tmp_path_factory) -> Path:
    """The fixture app with tests/local/answers_routes.py beside it (responses and the caller), as a src/ folder."""
    from tests.local import answers_routes

    folder = tmp_path_factory.mktemp("answers") / "src"
    return app.write_src(folder, Path(answers_routes.__file__), schema_extra=answers_routes.SCHEMA_EXTRA)


def serve_copy(pg, src: Path, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """One worker serving `src` with the given stack settings (STACK_AUTH=..., STACK_CORS_ORIGINS=...)."""
    settings = {"DATABASE_URL": pg.url, "LOCAL_SRC_DIR": str(src), "LOCAL_ACCESS_LOG": "0", **env}
    return start_server("--workers", "1", "--no-reload", env=settings, log=log)


@pytest.fixture(scope="session")
def cognito_server(pg, answers_src, tmp_path_factory) -> Iterator[str]:
    """The local server as `make serve AUTH=cognito` runs it, with a browser origin allowed."""
    log = tmp_path_factory.mktemp("cognito") / "serve.log"
    process, base = serve_copy(pg, answers_src, log, STACK_AUTH="cognito", STACK_CORS_ORIGINS="https://app.example")
    yield base
    stop_server(process)


@pytest.fixture(scope="session")
def iam_server(pg, answers_src, tmp_path_factory) -> Iterator[str]:
    """The local server as `make serve AUTH=iam` runs it."""
    log = tmp_path_factory.mktemp("iam") / "serve.log"
    process, base = serve_copy(pg, answers_src, log, STACK_AUTH="iam")
    yield base
    stop_server(process)


@pytest.fixture(scope="session")
def http_api_server(pg, answers_src, tmp_path_factory) -> Iterator[str]:
    """The local server as `make serve AUTH=cognito API_TYPE=http` runs it: HTTP API (payload 2.0) events."""
    log = tmp_path_factory.mktemp("http-api") / "serve.log"
    process, base = serve_copy(pg, answers_src, log, STACK_AUTH="cognito", STACK_API_TYPE="http")
    yield base
    stop_server(process)
