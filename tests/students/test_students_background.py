"""The sample's background work through the real handler: creating a student sends a welcome only once the student
is committed, its consumer welcomes once however often the message comes, and the nightly job purges sent messages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

import lambda_function
from lambdakit import background as runtime
from lambdakit import outbox, settings
from lambdakit.background import scheduled_event
from local.events import rest_v1_event
from tests.support.identities import EVERY_GROUP, as_user


@pytest.fixture
def welcome_queue(lambda_env, fake_aws, monkeypatch) -> Iterator[tuple[object, str]]:
    """moto's SQS with the queue `welcome`, named in QUEUE_URLS as the stack names it."""
    with mock_aws():
        client = boto3.client("sqs")
        url = client.create_queue(QueueName="students-api-dev-welcome-AbC")["QueueUrl"]
        monkeypatch.setenv("QUEUE_URLS", json.dumps({"welcome": url}))
        settings.queue_urls.cache_clear()
        runtime._names.cache_clear()
        outbox.forget_client()
        yield client, url
    settings.queue_urls.cache_clear()
    runtime._names.cache_clear()
    outbox.forget_client()


def _create(body: dict) -> dict:
    event = rest_v1_event("POST", "/students", "", [("Content-Type", "application/json")], json.dumps(body).encode())
    return lambda_function.handler(as_user(event, EVERY_GROUP), None)


def _as_batch(messages: list[dict], queue_arn: str) -> dict:
    """The SQS event Lambda's event source mapping would hand over for these received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {
                    name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
            }
            for m in messages
        ]
    }


def test_a_new_student_is_welcomed_once_however_often_the_message_comes(welcome_queue, admin):
    client, url = welcome_queue
    created = _create({"firstName": "Mary", "lastName": "Jackson"})
    assert created["statusCode"] == 201
    student_id = json.loads(created["body"])["studentId"]
    messages = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert [json.loads(m["Body"]) for m in messages] == [{"student_id": student_id}]
    batch = _as_batch(messages, arn)
    assert lambda_function.handler(batch, None) == {"batchItemFailures": []}
    assert lambda_function.handler(batch, None) == {"batchItemFailures": []}  # delivered again: nothing changes
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM student_welcomes WHERE student_id = %s", (student_id,))
        assert cur.fetchone()[0] == 1
        cur.execute("DELETE FROM students WHERE student_id = %s", (student_id,))
    assert lambda_function.handler(batch, None) == {"batchItemFailures": []}  # a deleted student: no welcome, no error


def test_a_refused_student_sends_no_welcome(welcome_queue):
    client, url = welcome_queue
    refused = _create({"firstName": "", "lastName": "Nobody"})
    assert refused["statusCode"] == 400
    assert client.receive_message(QueueUrl=url).get("Messages", []) == []


def test_the_nightly_job_purges_the_messages_sent_over_a_week_ago(lambda_env, admin):
    with admin.cursor() as cur:
        cur.execute(
            "INSERT INTO lambdakit_outbox (message_id, queue, body, created_at, sent_at) VALUES"
            " (gen_random_uuid(), 'welcome', '{}', now() - interval '9 days', now() - interval '8 days'),"
            " (gen_random_uuid(), 'welcome', '{}', now() - interval '2 days', now() - interval '1 day')"
            " RETURNING message_id"
        )
        old, recent = (row[0] for row in cur.fetchall())
    answer = lambda_function.handler(scheduled_event("purge_sent_messages"), None)
    assert answer["job"] == "purge_sent_messages" and answer["data"]["purged"] >= 1
    with admin.cursor() as cur:
        cur.execute("SELECT message_id FROM lambdakit_outbox WHERE message_id IN (%s, %s)", (old, recent))
        assert [row[0] for row in cur.fetchall()] == [recent]
        cur.execute("DELETE FROM lambdakit_outbox WHERE message_id = %s", (recent,))
