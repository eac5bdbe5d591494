"""Jobs and consumers are route-model records: judged alike at import and by the scanner, compared by the route
check, and their schedules, queues and functions refused where EventBridge, SQS or the dispatch would refuse them."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from infra.route_check import checked_routes
from infra.routes import scan_source
from lambdakit import Message, Router
from lambdakit.outbox import RELAY_JOB, scheduled_jobs
from lambdakit.routemodel import QueueConsumer, RouteError, ScheduledJob, check_schedule, describe, label
from local.background import Timetable, failed_ids, next_run, sqs_record

ROOT = Path(__file__).resolve().parents[2]

SOURCE = """
from db_utils import transaction
from lambdakit import Message, Router

router = Router()


@router.schedule("cron(0 3 * * ? *)", timezone="Europe/Paris")
@transaction
def nightly(conn) -> dict:
    \"\"\"Nightly cleanup.\"\"\"
    return {}


@transaction
@router.schedule("rate(1 hour)", name="hourly_report")
def report(conn, limit: int = 10) -> None:
    return None


@router.queue("welcome", batch_size=5, max_receives=3)
@transaction
def welcome(conn, message: Message) -> None:
    return None
"""


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(2 days)",
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(0 12 L * ? 2026-2030)",
        "cron(0 9 ? * 6L *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(30 4 15W JAN,JUL ? *)",
    ],
)
def test_eventbridge_schedule_expressions_are_accepted(expression):
    check_schedule(expression)


@pytest.mark.parametrize(
    ("expression", "timezone", "message"),
    [
        ("rate(1 minutes)", None, "singular for 1 only"),
        ("rate(2 hour)", None, "singular for 1 only"),
        ("rate(0 hours)", None, "at least 1"),
        ("rate(1 hour)", "Europe/Paris", "timezone is for cron"),
        ("cron(0 3 * * *)", None, "six fields"),
        ("cron(0 3 * * * *)", None, "one of day-of-month and day-of-week must be ?"),
        ("cron(60 3 * * ? *)", None, "minutes '60'"),
        ("cron(0 3 ? * 8 *)", None, "day-of-week '8'"),
        ("at(2026-01-01T00:00:00)", None, "rate(1 hour) or cron"),
        ("cron(0 3 * * ? *)", "Not a zone!", "IANA time zone"),
    ],
)
def test_schedules_eventbridge_refuses_are_refused_with_the_reason(expression, timezone, message):
    with pytest.raises(RouteError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        check_schedule(expression, timezone)


def test_the_runtime_refuses_a_job_with_inputs_and_a_consumer_without_exactly_one_message():
    router = Router()

    @router.schedule("rate(1 hour)")
    def needs(customer_id: int) -> None: ...

    with pytest.raises(RouteError, match="a job takes no inputs, but it requires customer_id"):
        router.routes  # noqa: B018 - the table is judged when it is built, as the function is finally bound

    other = Router()

    @other.queue("welcome")
    def two(message: Message, other: int) -> None: ...

    with pytest.raises(RouteError, match="a consumer takes one parameter"):
        other.routes  # noqa: B018

    with pytest.raises(RouteError, match=r"batch_size=11: 1\.\.10"):
        router.queue("welcome", batch_size=11)
    with pytest.raises(RouteError, match="queue 'no way'"):
        router.queue("no way")


def test_two_consumers_of_one_queue_or_two_jobs_of_one_name_clash():
    router = Router()

    @router.queue("welcome")
    def first(message) -> None: ...

    with pytest.raises(RouteError, match="queue 'welcome' on second\\(\\) is already claimed by first\\(\\)"):

        @router.queue("welcome")
        def second(message) -> None: ...


def test_the_scanner_reads_jobs_and_consumers_as_the_runtime_registers_them(tmp_path):
    scanned = scan_source(textwrap.dedent(SOURCE), tmp_path / "jobs.py")
    assert [label(job) for job in scanned.jobs] == ["job 'nightly'", "job 'hourly_report'"]
    nightly, hourly = scanned.jobs
    assert (nightly.expression, nightly.timezone, nightly.spec.summary) == (
        "cron(0 3 * * ? *)",
        "Europe/Paris",
        "Nightly cleanup.",
    )
    assert (hourly.function, [p.name for p in hourly.spec.parameters]) == ("report", ["limit"])
    (consumer,) = scanned.queues
    assert isinstance(consumer, QueueConsumer) and (consumer.batch_size, consumer.max_receives) == (5, 3)
    assert describe(consumer)["route"] == "queue 'welcome'" and describe(nightly)["timezone"] == "Europe/Paris"


def test_the_route_check_compares_jobs_and_consumers_field_by_field(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "lambdakit").symlink_to(ROOT / "src" / "lambdakit")
    (src / "db_utils.py").symlink_to(ROOT / "src" / "db_utils.py")
    (src / "jobs.py").write_text(textwrap.dedent(SOURCE))
    (src / "lambda_function.py").write_text(
        "import jobs\nfrom lambdakit import Router\n\nrouter = Router()\nrouter.include(jobs.router)\n"
        "EXPRESSION = 'rate(2 hours)'\n\n\n@router.schedule(EXPRESSION)\ndef later() -> None: ...\n"
    )
    routes = checked_routes(src / "lambda_function.py", warn=lambda _line: None)
    assert {job.name for job in routes.jobs} == {"nightly", "hourly_report", "later"}
    (src / "lambda_function.py").write_text(
        "import jobs\nfrom lambdakit import Router\n\nrouter = Router()\nrouter.include(jobs.router)\n\n\n"
        "def register():\n    @router.queue('hidden')\n    def hidden(message) -> None: ...\n\n\nregister()\n"
    )
    with pytest.raises(RouteError, match=r"queue 'hidden' .* is registered when the module is imported"):
        checked_routes(src / "lambda_function.py", warn=lambda _line: None)


def test_the_outbox_relay_runs_only_where_there_is_a_queue():
    relay = ScheduledJob(RELAY_JOB, "rate(10 minutes)", "relay_outbox")
    other = ScheduledJob("nightly", "cron(0 3 * * ? *)", "nightly")
    assert scheduled_jobs([relay, other], has_queues=False) == (other,)
    assert scheduled_jobs([relay, other], has_queues=True) == (relay, other)


def test_the_local_timetable_reads_rates_from_now_and_cron_in_the_jobs_time_zone():
    now = datetime.datetime(2026, 7, 1, 12, 0, 30, tzinfo=datetime.UTC)
    assert next_run("rate(5 minutes)", None, now) == now + datetime.timedelta(minutes=5)
    # 03:00 in Paris in summer is 01:00 UTC; in winter 02:00 UTC.
    assert next_run("cron(0 3 * * ? *)", "Europe/Paris", now) == datetime.datetime(
        2026, 7, 2, 1, 0, tzinfo=datetime.UTC
    )
    winter = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
    assert next_run("cron(0 3 * * ? *)", "Europe/Paris", winter).hour == 2
    jobs = [ScheduledJob("every", "rate(1 minute)", "every"), ScheduledJob(RELAY_JOB, "rate(10 minutes)", "r")]
    timetable = Timetable(jobs, now, first=[RELAY_JOB])
    assert [job.name for job, _ in timetable.due(now)] == [RELAY_JOB]
    assert timetable.due(now + datetime.timedelta(seconds=30)) == []
    assert [job.name for job, _ in timetable.due(now + datetime.timedelta(seconds=61))] == ["every"]


def test_a_local_delivery_is_the_record_lambda_builds_and_a_bad_answer_fails_the_whole_batch():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "h",
        "Body": "{}",
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "Policy": "no"},
        "MessageAttributes": {"lambdakit-message-id": {"StringValue": "id-1", "DataType": "String"}},
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:welcome", "us-east-1")
    assert record["eventSource"] == "aws:sqs" and record["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1",
    }
    assert record["messageAttributes"]["lambdakit-message-id"]["stringValue"] == "id-1"
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "m1"}]}) == {"m1"}
    assert failed_ids({"batchItemFailures": []}) == set()
    assert failed_ids({"statusCode": 200}) is None and failed_ids({"batchItemFailures": [{}]}) is None
