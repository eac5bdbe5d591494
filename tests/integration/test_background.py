"""Background work in-process, on the fixture app's queue and job: the handler runs a scheduled job and an SQS
batch as their sources expect, and `enqueue` sends only for committed work (SQS is moto's, the database real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from lambdakit import Router, enqueue, outbox, settings
from lambdakit import background as runtime
from lambdakit.background import JobFailed, Message, scheduled_event
from local.events import LambdaContext, rest_v1_event
from tests.support import app

ROOT = Path(__file__).resolve().parents[2]


def _fixture_background():
    app.module()  # puts the fixture app's folder on the path
    import fixture_background

    return fixture_background


@pytest.fixture
def background_app(lambda_env) -> Router:
    """A handler's router serving the fixture app's background module."""
    router = Router()
    router.include(_fixture_background().router)
    return router


@pytest.fixture
def sqs(fake_aws, monkeypatch) -> Iterator[tuple[object, str]]:
    """moto's SQS with the fixture's queue; QUEUE_URLS names it, as the stack does."""
    with mock_aws():
        client = boto3.client("sqs")
        url = client.create_queue(QueueName="restocks-queue-Xy12")["QueueUrl"]
        monkeypatch.setenv("QUEUE_URLS", json.dumps({"restocks": url}))
        _forget()
        yield client, url
    _forget()


def _forget() -> None:
    settings.queue_urls.cache_clear()
    runtime._names.cache_clear()
    outbox.forget_client()


def _post(router: Router, body: dict) -> dict:
    event = rest_v1_event("POST", "/restocks", "", [("Content-Type", "application/json")], json.dumps(body).encode())
    return router.handle(event, LambdaContext())


def _rows(admin, sql: str, *args: object) -> list[tuple]:
    with admin.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def _received(client, url: str) -> list[dict]:
    answer = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return answer.get("Messages", [])


def test_a_committed_post_sends_its_message_after_the_commit_with_the_outbox_id(background_app, sqs, admin):
    client, url = sqs
    answer = _post(background_app, {"widget_id": 1, "amount": 3})
    assert answer["statusCode"] == 202
    message_id = json.loads(answer["body"])["messageId"]
    (received,) = _received(client, url)
    assert received["MessageAttributes"][outbox.MESSAGE_ID_ATTRIBUTE]["StringValue"] == message_id
    assert json.loads(received["Body"])["restock_id"] == json.loads(answer["body"])["restockId"]
    assert _rows(
        admin, "SELECT sent_at IS NOT NULL, attempts FROM lambdakit_outbox WHERE message_id = %s", message_id
    ) == [(True, 1)]


def test_a_message_enqueued_in_a_transaction_that_rolls_back_is_neither_written_nor_sent(background_app, sqs, admin):
    client, url = sqs
    before = _rows(admin, "SELECT count(*) FROM lambdakit_outbox")[0][0]
    answer = _post(background_app, {"widget_id": 1, "amount": 3, "roll_back": True})
    assert answer["statusCode"] == 409
    assert _rows(admin, "SELECT count(*) FROM lambdakit_outbox")[0][0] == before
    assert _received(client, url) == []
    assert outbox.pending == []


def test_a_committed_message_that_cannot_be_sent_stays_in_the_outbox_and_the_relay_sends_it(background_app, sqs, admin):
    client, url = sqs
    os.environ["QUEUE_URLS"] = json.dumps({"restocks": url.replace("restocks-queue-Xy12", "gone")})
    _forget()
    answer = _post(background_app, {"widget_id": 2, "amount": 1})
    assert answer["statusCode"] == 202  # the write is committed whatever the queue does
    message_id = json.loads(answer["body"])["messageId"]
    sent, attempts, error = _rows(
        admin, "SELECT sent_at, attempts, last_error FROM lambdakit_outbox WHERE message_id = %s", message_id
    )[0]
    assert sent is None and attempts == 1 and error
    os.environ["QUEUE_URLS"] = json.dumps({"restocks": url})
    _forget()
    _rows(
        admin, "UPDATE lambdakit_outbox SET created_at = now() - interval '2 minutes' WHERE message_id = %s", message_id
    )
    import db_utils

    assert db_utils.relay_outbox()["sent"] >= 1  # the machinery's job, as its schedule runs it
    ids = [m["MessageAttributes"][outbox.MESSAGE_ID_ATTRIBUTE]["StringValue"] for m in _received(client, url)]
    assert message_id in ids
    assert _rows(admin, "SELECT sent_at IS NOT NULL FROM lambdakit_outbox WHERE message_id = %s", message_id) == [
        (True,)
    ]


def test_enqueue_in_a_read_only_transaction_is_refused_and_outside_one_sends_at_once(lambda_env, sqs):
    from db_utils import transaction

    @transaction(read_only=True)
    def read_only(conn) -> None:
        enqueue("restocks", {"restock_id": 0, "fail_times": 0})

    with pytest.raises(RuntimeError, match="read_only"):
        read_only()
    client, url = sqs
    message_id = enqueue("restocks", {"when": __import__("datetime").date(2026, 1, 2), "id": uuid.UUID(int=1)})
    (received,) = _received(client, url)
    assert received["MessageAttributes"][outbox.MESSAGE_ID_ATTRIBUTE]["StringValue"] == message_id
    assert json.loads(received["Body"]) == {"when": "2026-01-02", "id": str(uuid.UUID(int=1))}


@pytest.mark.parametrize(
    ("queue", "body", "message"),
    [("no such", {}, "queue 'no such'"), ("restocks", "x" * (300 * 1024), "larger than SQS")],
)
def test_enqueue_refuses_a_bad_queue_name_or_an_oversized_message_before_writing_anything(queue, body, message):
    with pytest.raises(ValueError, match=message):
        enqueue(queue, body)


def _sqs_event(*records: tuple[str, object, int]) -> dict:
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": "r",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": str(attempt)},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:restocks",
                "awsRegion": "eu-west-1",
            }
            for message_id, body, attempt in records
        ]
    }


def test_a_batch_answers_with_the_failed_messages_only_and_each_message_has_its_own_transaction(
    background_app, admin, monkeypatch
):
    monkeypatch.delenv("QUEUE_URLS", raising=False)
    _forget()
    ok, failing = str(uuid.uuid4()), str(uuid.uuid4())
    event = _sqs_event((ok, {"restock_id": 7, "fail_times": 0}, 1), (failing, {"restock_id": 8, "fail_times": 1}, 1))
    assert background_app.handle(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": failing}]}
    delivered = _rows(
        admin, "SELECT message_id::text, attempt FROM fixture_deliveries WHERE message_id IN (%s, %s)", ok, failing
    )
    assert delivered == [(ok, 1)]
    again = _sqs_event((failing, {"restock_id": 8, "fail_times": 1}, 2))
    assert background_app.handle(again, LambdaContext()) == {"batchItemFailures": []}


def test_a_record_of_a_queue_nobody_consumes_fails_alone(background_app, monkeypatch):
    monkeypatch.delenv("QUEUE_URLS", raising=False)
    _forget()
    event = _sqs_event(("a", {"restock_id": 1, "fail_times": 0}, 1))
    event["Records"][0]["eventSourceARN"] = "arn:aws:sqs:eu-west-1:123456789012:elsewhere"
    assert background_app.handle(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "a"}]}


def test_a_message_reads_its_outbox_id_json_body_and_delivery_count():
    record = _sqs_event(("sqs-id", {"a": 1}, 3))["Records"][0]
    assert runtime.message_of(record, "restocks") == Message("sqs-id", "restocks", {"a": 1}, 3)
    record["messageAttributes"] = {outbox.MESSAGE_ID_ATTRIBUTE: {"stringValue": "outbox-id", "dataType": "String"}}
    record["body"] = "plain text"
    assert runtime.message_of(record, "restocks") == Message("outbox-id", "restocks", "plain text", 3)


def test_a_job_runs_by_name_and_a_failing_or_unknown_job_raises_without_detail(
    background_app, admin, capsys, caplog, monkeypatch
):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    before = _rows(admin, "SELECT count(*) FROM fixture_ticks")[0][0]
    assert background_app.handle(scheduled_event("tick"), LambdaContext()) == {"job": "tick", "data": None}
    assert _rows(admin, "SELECT count(*) FROM fixture_ticks")[0][0] == before + 1
    with pytest.raises(JobFailed, match="no job named 'nope'"):
        background_app.handle(scheduled_event("nope"), LambdaContext())

    router = Router()

    @router.schedule("rate(5 minutes)")
    def broken() -> None:
        raise ValueError("SELECT secret FROM somewhere")

    capsys.readouterr()
    with pytest.raises(JobFailed) as raised:
        router.handle(scheduled_event("broken"), LambdaContext(aws_request_id="req-1"))
    assert raised.value.__cause__ is None and "secret" not in str(raised.value)
    (logged,) = [r for r in caplog.records if r.getMessage() == "job failed"]
    assert (logged.job, logged.error_type) == ("broken", "ValueError")
    assert "secret" not in json.dumps({k: str(v) for k, v in vars(logged).items() if k != "msg"})
    metric_lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [
        (m.get("JobFailed"), m.get("job"), m.get("function_request_id")) for m in metric_lines if "JobFailed" in m
    ] == [(1.0, "broken", "req-1")]


def test_importing_and_serving_background_work_loads_no_boto3_until_something_is_sent(tmp_path):
    src = app.write_src(tmp_path / "src", app.BACKGROUND)
    probe = (
        "import sys, lambda_function as f\n"
        "from lambdakit.background import scheduled_event\n"
        "f.router.routes\n"
        "f.handler({'Records': []}, None)\n"
        "print('boto3' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(src), "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=src, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
