"""The built zip under AWS's runtime interface client (awslambdaric, what Lambda's Python runtime runs) takes a
scheduled job's event and an SQS batch, and answers the batch with the partial-failure shape Lambda reads.

The package is built as `make build` builds it, from the fixture app with its background module (a queue whose
consumer fails on request, a job), and each event is handed over by a stand-in for the Runtime API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bench.coldstart import lambda_runtime_dir
from bench.runtime_api import RuntimeApi
from infra.build import build
from tests.support import app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="the zip's binaries are built for Lambda's Python 3.12"),
]
_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:background"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """The fixture app with its background work, built and unzipped as Lambda unpacks it into /var/task."""
    src = app.write_src(tmp_path_factory.mktemp("background-src") / "src", app.BACKGROUND)
    wheels = tmp_path_factory.getbasetemp() / "wheels"
    zip_path = build(src, tmp_path_factory.mktemp("background-build"), "x86_64", wheel_cache=wheels)
    task = tmp_path_factory.mktemp("task")
    zipfile.ZipFile(zip_path).extractall(task)
    return task


def invoke(task: Path, event: dict[str, Any], database_url: str) -> Any:
    """One invocation of `lambda_function.handler` from `task`, under awslambdaric; its answer (or error)."""
    api = RuntimeApi(event, _ARN)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(task), str(lambda_runtime_dir())]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": "lambda_function.handler",
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "background",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "eu-west-1",
        "DATABASE_URL": database_url,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-s", "-m", "awslambdaric", "lambda_function.handler"],
        cwd=task,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        answered = api.answered.wait(60)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
        api.close()
    assert answered, stderr.decode(errors="replace")[-2000:]
    return api.answer if api.error is None else {"error": json.loads(api.error)}


def _record(message_id: str, body: dict, attempt: int) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": str(attempt), "SentTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:restocks",
        "awsRegion": "eu-west-1",
    }


def test_a_scheduled_event_runs_its_job_in_the_built_package(package, pg, admin):
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_ticks")
        before = cur.fetchone()[0]
    event = {"job": "tick", "scheduledTime": "2026-01-01T00:00:00Z", "attempt": "1"}
    assert invoke(package, event, pg.url) == {"job": "tick", "data": None}
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_ticks")
        assert cur.fetchone()[0] == before + 1


def test_an_sqs_batch_is_answered_with_the_failed_message_only(package, pg, admin):
    ok, failing = str(uuid.uuid4()), str(uuid.uuid4())
    event = {
        "Records": [
            _record(ok, {"restock_id": 1, "fail_times": 0}, 1),
            _record(failing, {"restock_id": 2, "fail_times": 1}, 1),
        ]
    }
    assert invoke(package, event, pg.url) == {"batchItemFailures": [{"itemIdentifier": failing}]}
    with admin.cursor() as cur:
        cur.execute("SELECT message_id::text FROM fixture_deliveries WHERE message_id IN (%s, %s)", (ok, failing))
        assert cur.fetchall() == [(ok,)]


def test_a_failing_job_fails_the_invocation_with_no_detail(package, pg):
    answer = invoke(package, {"job": "no_such_job"}, pg.url)
    assert (
        answer["error"]["errorType"] == "JobFailed" and answer["error"]["errorMessage"] == "no job named 'no_such_job'"
    )
