"""`run_local.py serve` over real HTTP: API Gateway-shaped answers, and workers that behave like Lambda environments."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local.embedded_pg import free_port
from tests.support.process import stop_process, wait_until_answering
from tests.identities import signed_in_session

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
http = signed_in_session()  # a user in every group: authorization has its own tests


@pytest.fixture(scope="module")
def server(pg) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0"}
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
            wait_until_answering(process, f"{base}/students/1")
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {process.stdout.read() if process.poll() is not None else ''}")
        yield base
    finally:
        # Whatever happened above, never leave the server and its workers behind.
        stop_process(process)


def test_a_listing_is_json_and_holds_a_row_just_written(server):
    created = http.post(f"{server}/students", json={"firstName": "Listed", "lastName": "Here"}, timeout=5).json()
    response = http.get(f"{server}/students", params={"limit": 100}, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ids = {s["studentId"] for s in response.json()["items"]}
    assert created["studentId"] in ids or response.json()["nextCursor"]


def test_post_put_delete_round_trip_over_http(server):
    created = http.post(f"{server}/students", json={"firstName": "Evelyn", "lastName": "Boyd"}, timeout=5)
    assert created.status_code == 201
    sid = created.json()["studentId"]
    updated = http.put(f"{server}/students/{sid}", json={"lastName": "Granville"}, timeout=5)
    assert updated.status_code == 200 and updated.json()["lastName"] == "Granville"
    assert http.delete(f"{server}/students/{sid}", timeout=5).status_code == 200
    assert http.get(f"{server}/students/{sid}", timeout=5).status_code == 404


def test_errors_match_the_deployed_api(server):
    missing = http.get(f"{server}/nowhere", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "no route for GET /nowhere"}
    wrong = http.patch(f"{server}/students/1", timeout=5)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, GET, PUT"
    bad = http.post(f"{server}/students", data=b"{oops", headers={"content-type": "application/json"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["message"].startswith("body: malformed JSON")
    huge = http.post(
        f"{server}/students",
        data=b"x" * (6 * 1024 * 1024 + 1),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert huge.status_code == 413


def test_concurrent_requests_each_get_their_own_row(server):
    ids = [1, 2, 3, 4, 5] * 8

    def fetch(sid: int) -> tuple[int, int]:
        response = http.get(f"{server}/students/{sid}", timeout=10)
        return sid, response.json()["studentId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, ids))
    assert all(asked == got for asked, got in results)


def test_query_strings_reach_the_function(server):
    page = http.get(f"{server}/students", params={"limit": 2}, timeout=5).json()
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = http.get(f"{server}/students", params={"limit": 2, "cursor": page["nextCursor"]}, timeout=5).json()
    assert rest["items"][0]["studentId"] > page["items"][-1]["studentId"]
