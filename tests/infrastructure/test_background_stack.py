"""The stack's background work, from jobs and consumers in the routes: a schedule per job (time zone, retries,
dead-letter queue), a queue per consumer (encryption, redrive, visibility timeout, an event source mapping with
partial batch responses and a maximum concurrency out of the connection budget), alarms on every dead-letter
queue, and the split of the budget in synth's summary. The template passes cdk-nag, the deploy check and cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from infra_support import ACCOUNT, BACKGROUND_SOURCE, BYO_CONTEXT, Synth, synth, write_module

from infra.budget import background_split, connection_budget
from infra.config import Config, ConfigError
from infra.routes import RouteError
from infra.summary import summary

HANDLER_WITH_MAINTENANCE = """
import db_utils
from lambdakit import Router

import routes_under_test

router = Router()
router.include(routes_under_test.router)
router.include(db_utils.maintenance)


def handler(event, context):
    return router.handle(event, context)
"""


def _with_machinery(directory: Path) -> None:
    """The template's db_utils beside the routes: its outbox relay is one of the jobs."""
    src = directory / "src"
    (src / "lambda_function.py").write_text(HANDLER_WITH_MAINTENANCE)
    root = Path(__file__).resolve().parents[2] / "src"
    (src / "db_utils.py").write_text((root / "db_utils.py").read_text())


@pytest.fixture(scope="module")
def background(tmp_path_factory) -> Synth:
    directory = tmp_path_factory.mktemp("background")
    write_module(directory, routes=BACKGROUND_SOURCE)
    _with_machinery(directory)
    return synth(directory, {**BYO_CONTEXT, **ACCOUNT, "timeoutSeconds": 12})


def _by_metadata(s: Synth, kind: str) -> dict[str, dict]:
    return {
        r["Metadata"]["lambdakit"]["name"]: r
        for r in s.template["Resources"].values()
        if r.get("Metadata", {}).get("lambdakit", {}).get("kind") == kind
    }


def _ref(value: dict) -> str:
    return value.get("Ref") or value["Fn::GetAtt"][0]


def test_each_job_is_a_schedule_in_its_time_zone_that_invokes_the_function_with_its_name(background):
    schedules = _by_metadata(background, "job")
    assert set(schedules) == {"nightly", "relay_outbox"}
    nightly = schedules["nightly"]["Properties"]
    assert (nightly["ScheduleExpression"], nightly["ScheduleExpressionTimezone"]) == (
        "cron(0 3 * * ? *)",
        "Europe/Paris",
    )
    target = nightly["Target"]
    assert json.loads(target["Input"]) == {
        "job": "nightly",
        "scheduledTime": "<aws.scheduler.scheduled-time>",
        "attempt": "<aws.scheduler.attempt-number>",
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2 and "DeadLetterConfig" in target
    assert schedules["relay_outbox"]["Properties"]["ScheduleExpression"] == "rate(10 minutes)"
    (invoke_config,) = background.resources("AWS::Lambda::EventInvokeConfig").values()
    dead = _ref(target["DeadLetterConfig"]["Arn"])
    assert _ref(invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]) == dead
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 2


def test_each_queue_is_encrypted_redriven_to_its_dead_letter_queue_and_hidden_six_function_timeouts(background):
    queues = _by_metadata(background, "queue")
    welcome = queues["welcome"]["Properties"]
    assert welcome["SqsManagedSseEnabled"] is True and welcome["VisibilityTimeout"] == 6 * 12
    assert welcome["RedrivePolicy"]["maxReceiveCount"] == 3
    dead = background.template["Resources"][_ref(welcome["RedrivePolicy"]["deadLetterTargetArn"])]["Properties"]
    assert dead["SqsManagedSseEnabled"] is True and dead["MessageRetentionPeriod"] == 14 * 86400
    policies = [p["Properties"]["PolicyDocument"] for p in background.resources("AWS::SQS::QueuePolicy").values()]
    assert len(policies) == 5  # two queues, their dead-letter queues, the jobs' dead-letter queue: TLS only
    assert all(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for p in policies for s in p["Statement"])


def test_each_mapping_reports_batch_item_failures_with_a_concurrency_out_of_the_budget(background):
    mappings = {
        _ref(m["Properties"]["EventSourceArn"]): m["Properties"]
        for m in background.resources("AWS::Lambda::EventSourceMapping").values()
    }
    queues = {name: r for name, r in _by_metadata(background, "queue").items()}
    ids = {name: next(k for k, v in background.template["Resources"].items() if v is r) for name, r in queues.items()}
    welcome, reports = mappings[ids["welcome"]], mappings[ids["reports"]]
    assert welcome["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (welcome["BatchSize"], reports["BatchSize"]) == (5, 10)
    # reservedConcurrency 20: a fifth for the consumers, 2 each (Lambda's least), 16 stay the API's.
    assert welcome["ScalingConfig"]["MaximumConcurrency"] == reports["ScalingConfig"]["MaximumConcurrency"] == 2
    function = background.one("AWS::Lambda::Function")
    assert function["Properties"]["ReservedConcurrentExecutions"] == 20
    assert "QUEUE_URLS" in function["Properties"]["Environment"]["Variables"]


def test_every_dead_letter_queue_has_a_depth_alarm_to_the_alarm_topic(background):
    alarms = [
        a["Properties"]
        for a in background.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(alarms) == 3
    assert all(a["Threshold"] == 1 and a["AlarmActions"] for a in alarms)


def test_the_function_may_send_to_its_queues_and_the_schedules_may_invoke_it_only(background):
    statements = [
        s
        for p in background.resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("sqs:SendMessage" in json.dumps(s["Action"]) for s in statements)
    role = next(r for k, r in background.resources("AWS::IAM::Role").items() if k.startswith("BackgroundSchedulerRole"))
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_the_background_stack_passes_the_deploy_check_cdk_nag_and_cfn_lint(background):
    assert background.findings == []
    reports = json.loads((background.outdir / "validation-report.json").read_text())["pluginReports"]
    assert [v for r in reports for v in r["violations"] if "AwsSolutions" in v["ruleName"]] == []
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--regions", "eu-west-1", "--format", "parseable", "--", str(background.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert [line for line in done.stdout.splitlines() if line.split(":")[5].startswith("E")] == []


def test_synths_summary_prints_the_split_and_each_job_and_queue_with_its_file_and_line(background):
    lines = summary(background.template)
    assert "connections: 20 (reservedConcurrency) = API and jobs 16 + queue consumers 4 (welcome 2, reports 2)" in lines
    job = next(line for line in lines if line.startswith("  job nightly:"))
    assert "cron(0 3 * * ? *) Europe/Paris -> nightly() at " in job and "routes_under_test.py:" in job
    assert any(line.startswith("  queue welcome: -> welcome() at ") for line in lines)


def test_without_a_queue_the_outbox_relay_is_not_scheduled_and_nothing_is_added(tmp_path):
    write_module(tmp_path)
    _with_machinery(tmp_path)
    s = synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT})
    kinds = {r["Type"] for r in s.template["Resources"].values()}
    assert not kinds & {"AWS::SQS::Queue", "AWS::Scheduler::Schedule", "AWS::Lambda::EventSourceMapping"}


def test_a_time_zone_the_iana_database_does_not_know_stops_synth(tmp_path):
    write_module(tmp_path, routes=BACKGROUND_SOURCE.replace("Europe/Paris", "Europe/Atlantis"))
    with pytest.raises(RouteError, match="timezone='Europe/Atlantis' on job 'nightly' is no IANA time zone"):
        synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT})


def _config(**settings: object) -> Config:
    return Config(**{"account": None, **settings})


def test_the_split_gives_the_consumers_a_fifth_of_the_budget_and_the_rest_to_the_api():
    config = _config(db_max_connections=400)
    budget = connection_budget(config)
    split = background_split(config, budget.for_function, budget, ("welcome", "reports"))
    assert split.total == 357 and split.queues == {"welcome": 35, "reports": 35} and split.api == 287
    given = background_split(_config(queue_concurrency=5), 20, None, ("welcome",))
    assert given.queues == {"welcome": 5} and given.api == 15
    unknown = background_split(_config(), None, None, ("welcome",))
    assert unknown.queues == {"welcome": 2} and unknown.api is None and "not capped" in unknown.line()


def test_a_budget_too_small_for_the_consumers_and_the_api_stops_synth():
    with pytest.raises(ConfigError, match="leave none of the 4 connections to the API"):
        background_split(_config(reserved_concurrency=4), 4, None, ("a", "b"))
