"""Reload: an edit in src/ reaches the running server without a restart; a syntax error is shown and serving goes on.

Each test edits a copy of the fixture app (tests/support/app), never the project's src/. The workers start
only once the file watcher is armed, so the tests edit as soon as the server answers.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from local.reload import check_source
from tests.local.conftest import start_server, stop_server
from tests.support import app
from tests.support.identities import signed_in_session

pytestmark = pytest.mark.slow
http = signed_in_session()  # the served routes need a signed-in caller (cdk.json: auth=cognito)

NEW_ROUTE = '''

@router.rest("GET", "/reload-probe")
def reload_probe() -> dict:
    """Written by the reload test."""
    return {"version": VERSION}
'''


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _answer(url: str) -> dict | None:
    try:
        response = http.get(url, timeout=10)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


@pytest.fixture
def src_copy(tmp_path) -> Path:
    """The fixture app as a src/ folder of its own to edit."""
    return app.write_src(tmp_path / "src")


def test_a_route_written_while_serving_is_served_and_a_syntax_error_keeps_the_old_code(pg, src_copy, tmp_path):
    log = tmp_path / "serve.log"
    process, base = start_server(
        "--workers", "2", env={"DATABASE_URL": pg.url, "LOCAL_SRC_DIR": str(src_copy), "LOCAL_ACCESS_LOG": "0"}, log=log
    )
    try:
        assert "reload: workers started; watching" in log.read_text(), "answering before the watcher is armed"
        probe = f"{base}/reload-probe"
        assert http.get(probe, timeout=5).status_code == 404
        handler = src_copy / "lambda_function.py"
        original = handler.read_text()

        handler.write_text(original + "\nVERSION = 1\n" + NEW_ROUTE)
        _wait_for(lambda: _answer(probe) == {"version": 1}, "the new route")
        assert "reload: lambda_function.py changed" in log.read_text()

        handler.write_text(original + "\nVERSION = 2\n" + NEW_ROUTE + "\ndef broken(:\n")
        _wait_for(lambda: "SyntaxError" in log.read_text(), "the syntax error in the log")
        text = log.read_text()
        assert "still serving the previous version" in text and "lambda_function.py" in text
        assert _answer(probe) == {"version": 1}, "the previous code must go on serving"
        assert process.poll() is None

        handler.write_text(original + "\nVERSION = 3\n" + NEW_ROUTE)
        _wait_for(lambda: _answer(probe) == {"version": 3}, "the fixed code")
    finally:
        stop_server(process)


def test_check_source_names_the_file_and_line_of_a_syntax_error(src_copy):
    assert check_source(src_copy) is None
    module = src_copy / "fixture_widgets.py"
    module.write_text(module.read_text() + "\nx = (\n")
    error = check_source(src_copy)
    assert error is not None and "fixture_widgets.py" in error and "SyntaxError" in error


def test_a_new_migration_is_applied_before_the_workers_restart_and_a_failing_one_keeps_the_old_code(
    empty_db, src_copy, tmp_path
):
    app.prepare_database(empty_db)  # the migrations the copy starts with are applied, as `make serve` does
    log = tmp_path / "serve.log"
    process, base = start_server(
        "--workers",
        "1",
        env={"DATABASE_URL": empty_db, "LOCAL_SRC_DIR": str(src_copy), "LOCAL_ACCESS_LOG": "0"},
        log=log,
    )
    try:
        (src_copy / "migrations" / "9001_reload_probe.sql").write_text(
            "CREATE TABLE reload_probe (n int); INSERT INTO reload_probe VALUES (7);"
        )
        route = (
            "\n\nfrom db_utils import transaction\n\n\n"
            "@router.rest('GET', '/probe-count')\n@transaction(read_only=True)\n"
            "def probe_count(conn) -> dict:\n    with conn.cursor() as cur:\n"
            "        cur.execute('SELECT n FROM reload_probe')\n        return cur.fetchone()\n"
        )
        handler = src_copy / "lambda_function.py"
        handler.write_text(handler.read_text() + route)
        _wait_for(lambda: _answer(f"{base}/probe-count") == {"n": 7}, "the route on the migrated table")
        assert "reload: applied 9001_reload_probe.sql" in log.read_text()

        (src_copy / "migrations" / "9002_broken.sql").write_text("CREATE TABLE half (id int); SELEC 1;")
        _wait_for(lambda: "9002_broken.sql failed and was rolled back" in log.read_text(), "the failure in the log")
        assert _answer(f"{base}/probe-count") == {"n": 7}, "the previous code must go on serving"
        assert process.poll() is None
    finally:
        stop_server(process)
