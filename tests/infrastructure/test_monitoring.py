"""Alarms, the dashboard, the alarm topics and the saved queries on real synths (cfn-lint and cdk-nag clean)."""

from __future__ import annotations

import json

import pytest
from infra_support import ACCOUNT, ROOT, synth, write_module
from test_stack import cfn_lint_errors, nag_findings

DEV = json.loads((ROOT / "cdk.json").read_text())["context"]["stages"]["dev"]


def alarms(s) -> dict[str, dict]:
    """Alarm properties by the alarm's name without the stack prefix (`api-Fault-Rate-critical`)."""
    found = {}
    for resource in s.resources("AWS::CloudWatch::Alarm").values():
        props = resource["Properties"]
        found[props["AlarmName"].removeprefix(f"{s.stack_name}-")] = props
    return found


def metric_of(alarm: dict) -> tuple[str, str, dict]:
    """(namespace, metric name, dimensions) the alarm watches."""
    (query,) = alarm["Metrics"]
    metric = query["MetricStat"]["Metric"]
    return metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}


def logical_id(s, kind: str, contains: str) -> str:
    (found,) = [k for k in s.resources(kind) if contains in k]
    return found


@pytest.fixture(scope="module")
def created(tmp_path_factory):
    """Aurora Serverless created here, an HTTP API, no reserved concurrency, an alarm email, prod thresholds."""
    directory = tmp_path_factory.mktemp("monitored")
    write_module(directory)
    context = {
        "stage": "prod",
        "createDatabase": True,
        "reservedConcurrency": "off",  # a created cluster would otherwise cap concurrency at its budget
        "apiType": "http",
        "alarmEmail": "oncall@example.com",
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    }
    return synth(directory, {**context, **ACCOUNT}, {"STACK_STAGE": "prod"})


def test_rest_api_alarms_use_the_stage_thresholds_and_the_4xx_spike_is_low_priority(byo):
    found = alarms(byo)
    main = [{"Ref": logical_id(byo, "AWS::SNS::Topic", "MonitoringAlarmTopic")}]
    low = [{"Ref": logical_id(byo, "AWS::SNS::Topic", "LowPriority")}]
    five_xx, p99, four_xx = (
        found["api-Fault-Rate-critical"],
        found["api-Latency-P99-critical"],
        found["api-Error-Rate-low"],
    )
    assert metric_of(five_xx) == ("AWS/ApiGateway", "5XXError", {"ApiName": "students-api-dev", "Stage": "dev"})
    assert five_xx["Metrics"][0]["MetricStat"]["Stat"] == "Average"  # a fraction of requests
    assert five_xx["Threshold"] == DEV["alarmApi5xxPercent"] / 100
    assert metric_of(p99)[1] == "Latency" and p99["Metrics"][0]["MetricStat"]["Stat"] == "p99"
    assert p99["Threshold"] == DEV["alarmApiLatencyP99Ms"]
    assert metric_of(four_xx)[1] == "4XXError" and four_xx["Threshold"] == DEV["alarmApi4xxPercent"] / 100
    assert five_xx["AlarmActions"] == p99["AlarmActions"] == main
    assert four_xx["AlarmActions"] == four_xx["OKActions"] == low
    for alarm in (five_xx, p99, four_xx):
        assert (alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == (2, 3)
        assert alarm["Metrics"][0]["MetricStat"]["Period"] == 300


def test_function_alarms_errors_throttles_duration_near_timeout_and_concurrency_near_the_reserved_budget(byo):
    found = alarms(byo)
    function_name = {"Ref": logical_id(byo, "AWS::Lambda::Function", "Function")}
    errors, throttles = found["function-Fault-Count-critical"], found["function-Throttled-Count-critical"]
    duration, concurrency = found["function-Latency-Maximum-critical"], found["function-Running-Tasks-High-critical"]
    assert metric_of(errors) == ("AWS/Lambda", "Errors", {"FunctionName": function_name})
    assert errors["Threshold"] == DEV["alarmFunctionErrors"]
    assert errors["ComparisonOperator"] == throttles["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert metric_of(throttles)[1] == "Throttles" and throttles["Threshold"] == DEV["alarmFunctionThrottles"]
    assert metric_of(duration)[1] == "Duration" and duration["Metrics"][0]["MetricStat"]["Stat"] == "Maximum"
    assert duration["Threshold"] == 10_000 * 0.8  # 80 % of the 10 s timeout
    assert metric_of(concurrency)[1] == "ConcurrentExecutions"
    assert concurrency["Threshold"] == 16  # 80 % of reservedConcurrency=20


def test_appsync_alarms_on_errors_and_latency(byo):
    found = alarms(byo)
    errors, latency = found["graphql-Fault-Rate-critical"], found["graphql-Latency-P99-critical"]
    assert metric_of(errors)[:2] == ("AWS/AppSync", "5XXError")
    assert "GraphQLAPIId" in metric_of(errors)[2]
    assert metric_of(latency)[:2] == ("AWS/AppSync", "Latency") and latency["Threshold"] == DEV["alarmApiLatencyP99Ms"]


def test_a_database_the_stack_does_not_know_gets_no_database_alarm(byo):
    assert not [name for name in alarms(byo) if name.startswith("database")]


def test_a_created_aurora_cluster_gets_connections_cpu_capacity_at_max_and_freeable_memory_alarms(created):
    found = alarms(created)
    cluster = {"Ref": logical_id(created, "AWS::RDS::DBCluster", "Cluster")}
    cpu, connections = found["database-CPU-Usage-critical"], found["database-Connection-Count-High-critical"]
    capacity, memory = found["database-Usage-Count-critical"], found["database-memory-freeable-memory-critical"]
    assert metric_of(cpu) == ("AWS/RDS", "CPUUtilization", {"DBClusterIdentifier": cluster})
    assert cpu["Threshold"] == 80
    assert metric_of(connections)[1] == "DatabaseConnections" and connections["Threshold"] == 80
    assert metric_of(capacity)[1] == "ServerlessDatabaseCapacity"
    assert (capacity["Threshold"], capacity["ComparisonOperator"]) == (2, "GreaterThanOrEqualToThreshold")
    assert metric_of(memory) == ("AWS/RDS", "FreeableMemory", {"DBClusterIdentifier": cluster})
    assert (memory["Threshold"], memory["ComparisonOperator"]) == (256 * 1024 * 1024, "LessThanThreshold")


def test_prod_thresholds_are_the_strict_defaults_and_an_http_api_is_watched_too(created):
    found = alarms(created)
    assert found["api-Fault-Rate-critical"]["Threshold"] == 0.01
    assert metric_of(found["api-Fault-Rate-critical"])[:2] == ("AWS/ApiGateway", "5xx")
    assert found["function-Fault-Count-critical"]["Threshold"] == 1
    assert "function-Running-Tasks-High-critical" not in found  # no reserved concurrency, no budget to watch


def test_every_alarm_says_what_it_means_and_where_the_runbook_is(byo, created):
    for s in (byo, created):
        for name, alarm in alarms(s).items():
            assert "docs/operate.md, Runbook" in alarm["AlarmDescription"], name


def test_alarm_topics_are_encrypted_with_a_rotated_key_cloudwatch_may_use_and_ssl_only(byo):
    topics = byo.resources("AWS::SNS::Topic")
    assert len(topics) == 2
    (key_id,) = byo.resources("AWS::KMS::Key")
    key = byo.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    for policy in byo.resources("AWS::SNS::TopicPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        publish = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        assert publish[0]["Action"] == "sns:Publish"
        assert publish[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_alarm_email_subscribes_the_address_to_both_topics_and_no_email_subscribes_nothing(byo, created):
    assert byo.resources("AWS::SNS::Subscription") == {}
    subscriptions = created.resources("AWS::SNS::Subscription").values()
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions) == ["oncall@example.com"] * 2
    assert {s["Properties"]["Protocol"] for s in subscriptions} == {"email"}
    assert {json.dumps(s["Properties"]["TopicArn"]) for s in subscriptions} == {
        json.dumps({"Ref": k}) for k in created.resources("AWS::SNS::Topic")
    }


def test_one_dashboard_per_stage_with_the_services_and_the_functions_own_metrics(byo, created):
    for s, stage in ((byo, "dev"), (created, "prod")):
        dashboard = s.one("AWS::CloudWatch::Dashboard")["Properties"]
        assert dashboard["DashboardName"] == f"students-api-{stage}-eu-west-1"  # dashboards are account-wide
        body = json.dumps(dashboard["DashboardBody"])
        for name in (
            "ColdStart",
            "InitImportTime",
            "InitCredentialsTime",
            "InitConnectTime",
            "DatabaseConnectTime",
            "DatabaseReconnect",
            "DatabaseRetry",
            "CredentialsRefresh",
            "TooManyConnections",
        ):
            assert name in body, name
        assert '\\"service\\",\\"students-api\\",\\"stage\\",\\"' + stage in body
    assert "AWS/RDS" in json.dumps(created.one("AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"])


def test_the_function_writes_its_metrics_to_the_namespace_the_dashboard_reads(byo):
    env = byo.one("AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "students-api" and env["STAGE"] == "dev"
    assert "TRACING" not in env


def test_saved_queries_for_errors_slow_requests_and_cold_starts_read_the_function_log_group(byo):
    queries = {q["Properties"]["Name"]: q["Properties"] for q in byo.resources("AWS::Logs::QueryDefinition").values()}
    assert set(queries) == {"students-api-dev/errors", "students-api-dev/slow-requests", "students-api-dev/cold-starts"}
    log_group = {"Ref": logical_id(byo, "AWS::Logs::LogGroup", "FunctionLogs")}
    for query in queries.values():
        assert query["LogGroupNames"] == [log_group]
    assert "correlation_id" in queries["students-api-dev/errors"]["QueryString"]
    assert 'level in ["ERROR", "CRITICAL"]' in queries["students-api-dev/errors"]["QueryString"]
    assert f"@duration > {DEV['alarmApiLatencyP99Ms']}" in queries["students-api-dev/slow-requests"]["QueryString"]
    assert "InitConnectTime" in queries["students-api-dev/cold-starts"]["QueryString"]


def test_outputs_name_the_alarm_topic_and_the_dashboard(byo):
    assert {"AlarmTopicArn", "DashboardName"} <= set(byo.template["Outputs"])


def test_monitored_templates_pass_cfn_lint_and_cdk_nag(byo, created):
    for s in (byo, created):
        assert nag_findings(s) == []
        assert cfn_lint_errors(s.template_path) == []


def test_make_synth_lists_every_alarm_with_its_condition(byo):
    from infra.summary import summary

    lines = summary(byo.template)
    assert lines[0].startswith("9 alarms, dashboard students-api-dev-eu-west-1, 3 saved queries, 2 alarm topics")
    assert "  alarm students-api-dev-api-Fault-Rate-critical: 5XXError > 5 % of requests" in lines
    assert "  alarm students-api-dev-function-Fault-Count-critical: Errors >= 5" in lines
