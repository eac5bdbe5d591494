"""Background work under `make serve`, over real processes: the local SQS, the consuming environment and the
timetable, on the fixture app's queue `restocks` (its consumer fails on request) and its job `tick` (every minute).

One server for the module, on a database of its own; the visibility timeout is a second, so a failed message
comes back quickly (deployed it is six times the function's timeout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
import requests

from local.embedded_pg import free_port
from tests.local.conftest import start_server, stop_server
from tests.support import app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
_RUNTIME = ("DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME", "DB_IAM_AUTH", "QUEUE_URLS", "AWS_ENDPOINT_URL_SQS")


def _query(url: str, sql: str, *args: object) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _wait_for(check: Callable[[], object], what: str, timeout: float = 30) -> object:
    """Poll until `check()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s")
        time.sleep(0.2)


def _unsent_restock(src: Path, url: str) -> str:
    """A committed restock whose message could not be sent (its queue unreachable), in a process of its own."""
    probe = (
        "import json, lambda_function\n"
        "from local.events import rest_v1_event\n"
        "event = rest_v1_event('POST', '/restocks', '', [('Content-Type', 'application/json')],"
        ' b\'{"widgetId": 1, "amount": 4}\')\n'
        "print(lambda_function.handler(event, None)['body'])\n"
    )
    dead = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k not in _RUNTIME}
    env.update(
        DATABASE_URL=url,
        PYTHONPATH=os.pathsep.join([str(src), str(ROOT)]),
        QUEUE_URLS=json.dumps({"restocks": f"{dead}/123456789012/restocks"}),
        AWS_ENDPOINT_URL_SQS=dead,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=src, env=env, capture_output=True, text=True, check=True)
    message_id = json.loads(done.stdout.strip().splitlines()[-1])["messageId"]
    # The relay leaves rows of the last minute to their own transaction's send; this one is older.
    _query(
        url, "UPDATE lambdakit_outbox SET created_at = now() - interval '2 minutes' WHERE message_id = %s", message_id
    )
    return message_id


@pytest.fixture(scope="module")
def served(pg, tmp_path_factory) -> Iterator[tuple[str, str, Path, str]]:
    """(base URL, database URL, server log, the message whose first send failed) of a server consuming `restocks`."""
    folder = tmp_path_factory.mktemp("background")
    name = f"bg_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = pg.url.rsplit("/", 1)[0] + f"/{name}"
    app.prepare_database(url)
    src = app.write_src(folder / "src", app.BACKGROUND)
    unsent = _unsent_restock(src, url)
    env = {k: "" for k in _RUNTIME}
    env.update(DATABASE_URL=url, LOCAL_SRC_DIR=str(src), LOCAL_ACCESS_LOG="0", LOCAL_VISIBILITY_TIMEOUT="1")
    log = folder / "serve.log"
    process, base = start_server("--workers", "1", "--no-reload", env=env, log=log)
    yield base, url, log, unsent
    stop_server(process)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _deliveries(url: str, message_id: str) -> list[int]:
    rows = _query(url, "SELECT attempt FROM fixture_deliveries WHERE message_id = %s ORDER BY attempt", message_id)
    return [attempt for (attempt,) in rows]


def test_the_banner_lists_the_jobs_and_queues_and_openapi_shows_neither(served):
    base, _, log, _ = served
    text = log.read_text()
    assert "jobs      relay_outbox rate(10 minutes), tick rate(1 minute); on their timetable" in text
    assert "queue     restocks -> apply_restock() (batches of 5, dead-lettered after 3 tries)" in text
    document = requests.get(f"{base}/openapi.json", timeout=10).text
    assert "apply_restock" not in document and "tick" not in document and "relay_outbox" not in document


def test_the_outbox_relay_sends_at_start_a_committed_message_whose_first_send_failed(served):
    _, url, _, unsent = served
    assert _wait_for(lambda: _deliveries(url, unsent), "the relayed message delivered") == [1]


def test_a_message_enqueued_by_a_committed_post_is_consumed_once(served):
    base, url, _, _ = served
    answer = requests.post(f"{base}/restocks", json={"widgetId": 1, "amount": 2}, timeout=10)
    assert answer.status_code == 202
    message_id = answer.json()["messageId"]
    _wait_for(lambda: _deliveries(url, message_id), "the message delivered")
    time.sleep(3)  # three visibility timeouts: a message not deleted would have come back by now
    assert _deliveries(url, message_id) == [1]


def test_a_message_enqueued_in_a_transaction_that_rolls_back_is_never_written_nor_delivered(served):
    base, url, _, _ = served
    before = _query(url, "SELECT count(*) FROM lambdakit_outbox")[0][0]
    delivered = _query(url, "SELECT count(*) FROM fixture_deliveries")[0][0]
    answer = requests.post(f"{base}/restocks", json={"widgetId": 1, "amount": 2, "rollBack": True}, timeout=10)
    assert answer.status_code == 409
    time.sleep(3)
    assert _query(url, "SELECT count(*) FROM lambdakit_outbox")[0][0] == before
    assert _query(url, "SELECT count(*) FROM fixture_deliveries")[0][0] == delivered


def test_a_consumer_failing_one_message_of_a_batch_sees_only_that_message_again(served):
    base, url, log, _ = served
    restocks = [
        {"widgetId": 1, "amount": 1},
        {"widgetId": 2, "amount": 1, "failTimes": 1},
        {"widgetId": 3, "amount": 1},
    ]
    answer = requests.post(f"{base}/restock-batches", json={"restocks": restocks}, timeout=10)
    assert answer.status_code == 202
    first, failing, third = (item["messageId"] for item in answer.json())
    _wait_for(lambda: _deliveries(url, failing), "the failed message delivered again")
    assert (_deliveries(url, first), _deliveries(url, failing), _deliveries(url, third)) == ([1], [2], [1])
    assert "queue restocks: 3 message(s) to apply_restock(), 1 failed" in log.read_text()


def test_after_its_last_try_a_message_lands_in_the_local_dead_letter_queue(served):
    base, url, log, _ = served
    answer = requests.post(f"{base}/restocks", json={"widgetId": 1, "amount": 1, "failTimes": 9}, timeout=10)
    message_id = answer.json()["messageId"]
    _wait_for(lambda: "queue restocks: 1 message(s) moved to its dead-letter queue" in log.read_text(), "dead-lettered")
    assert _deliveries(url, message_id) == []


def test_a_job_runs_on_its_timetable_and_on_demand(served):
    _, url, log, _ = served
    _wait_for(lambda: _query(url, "SELECT count(*) FROM fixture_ticks")[0][0], "the job's first run", timeout=90)
    assert "job tick: ran in" in log.read_text()
    env = {k: v for k, v in os.environ.items() if k not in _RUNTIME}
    done = subprocess.run(
        [sys.executable, "run_local.py", "--job", "relay_outbox"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"job": "relay_outbox"' in done.stdout and '"sent"' in done.stdout
    unknown = subprocess.run(
        [sys.executable, "run_local.py", "--job", "nope"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unknown.returncode == 2 and "no job 'nope'; known: " in unknown.stdout
