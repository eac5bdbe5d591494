"""`run_local.py serve` over real HTTP: API Gateway-shaped answers, and workers that behave like Lambda environments.

The server serves the fixture app (tests/support/app) through LOCAL_SRC_DIR, as `make serve` serves src/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local.embedded_pg import free_port
from tests.support.identities import signed_in_session
from tests.support.process import stop_process, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
http = signed_in_session()  # a user in every group: authorization has its own tests


@pytest.fixture(scope="module")
def server(pg, app_src) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    process = subprocess.Popen(
        [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_answering(process, f"{base}/widgets/1")
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {process.stdout.read() if process.poll() is not None else ''}")
        yield base
    finally:
        # Whatever happened above, never leave the server and its workers behind.
        stop_process(process)


def test_a_row_just_written_is_read_back_over_http(server):
    created = http.post(f"{server}/widgets", json={"name": "Listed", "maker": "Here"}, timeout=5)
    assert created.status_code == 201 and created.headers["content-type"] == "application/json"
    location = created.headers["location"]
    assert http.get(f"{server}{location}", timeout=5).json() == created.json()


def test_post_put_delete_round_trip_over_http(server):
    created = http.post(f"{server}/widgets", json={"name": "Evelyn", "maker": "Boyd"}, timeout=5)
    assert created.status_code == 201
    wid = created.json()["widgetId"]
    updated = http.put(f"{server}/widgets/{wid}", json={"maker": "Granville"}, timeout=5)
    assert updated.status_code == 200 and updated.json()["maker"] == "Granville"
    assert http.delete(f"{server}/widgets/{wid}", timeout=5).status_code == 200
    assert http.get(f"{server}/widgets/{wid}", timeout=5).status_code == 404


def test_errors_match_the_deployed_api(server):
    missing = http.get(f"{server}/nowhere", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "no route for GET /nowhere"}
    wrong = http.patch(f"{server}/widgets/1", timeout=5)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, GET, PUT"
    bad = http.post(f"{server}/widgets", data=b"{oops", headers={"content-type": "application/json"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["message"].startswith("body: malformed JSON")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"x" * (6 * 1024 * 1024 + 1), "application/json"),  # the body alone is over the 6 MiB
        # 5 MiB of bytes, under the function's own body limit, arrive base64-encoded: 6.7 MiB of event.
        (b"\x00" * (5 * 1024 * 1024), "application/octet-stream"),
    ],
    ids=["json-over-6-mib", "binary-under-6-mib-whose-event-is-over"],
)
def test_an_event_lambda_would_refuse_is_a_413_from_the_server_before_the_function_runs(server, body, content_type):
    huge = http.post(f"{server}/widgets", data=body, headers={"content-type": content_type}, timeout=30)
    assert huge.status_code == 413
    # The server's own check, in Lambda's terms; the function's (a body over 6 MB) would say "body: ...".
    assert huge.json()["message"].startswith("request too large: its Lambda event is ")


def test_concurrent_requests_each_get_their_own_row(server):
    ids = [1, 2, 3, 4, 5] * 8

    def fetch(wid: int) -> tuple[int, int]:
        response = http.get(f"{server}/widgets/{wid}", timeout=10)
        return wid, response.json()["widgetId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, ids))
    assert all(asked == got for asked, got in results)


def test_query_strings_reach_the_function(server):
    page = http.get(f"{server}/widgets", params={"limit": 2}, timeout=5).json()
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = http.get(f"{server}/widgets", params={"limit": 2, "cursor": page["nextCursor"]}, timeout=5).json()
    assert rest["items"][0]["widgetId"] > page["items"][-1]["widgetId"]
