"""Logs Insights saved queries that come with the stack: errors, slow requests, cold starts.

They read the function's log group: Powertools Logger's JSON lines (each with `correlation_id` and
`function_request_id`), Lambda's REPORT lines (`@duration`, `@initDuration`, `@requestId`, which is
the `function_request_id`) and the function's EMF lines (src/lambdakit/metrics.py). The console
lists them under Logs Insights > Saved queries, in a folder named after the stack.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import Config


def query_texts(config: Config) -> dict[str, dict[str, Any]]:
    """Each saved query as aws_logs.QueryString's parts (CDK joins them with `|` in Insights' order)."""
    return {
        "errors": {
            "fields": [
                "@timestamp",
                "correlation_id",
                "function_request_id",
                "level",
                "message",
                "error_type",
                "pgcode",
                "where",
                "route",
            ],
            "filter_statements": ['level in ["ERROR", "CRITICAL"] or @message like /Task timed out/'],
            "sort": "@timestamp desc",
            "limit": 100,
        },
        "slow-requests": {
            "fields": [
                "@timestamp",
                "@requestId",
                "@duration",
                "@billedDuration",
                "@initDuration",
                "@maxMemoryUsed / 1000000 as maxMemoryMB",
            ],
            "filter_statements": [f'@type = "REPORT" and @duration > {config.alarm_api_latency_p99_ms}'],
            "sort": "@duration desc",
            "limit": 50,
        },
        # Lambda's Init Duration beside the function's own breakdown, one row per Lambda request id.
        "cold-starts": {
            "fields": ["coalesce(@requestId, function_request_id) as request"],
            "filter_statements": ["ispresent(@initDuration) or ispresent(ColdStart) or ispresent(InitConnectTime)"],
            "stats_statements": [
                "max(@initDuration) as initMs, max(InitImportTime) as importMs, "
                "max(InitCredentialsTime) as credentialsMs, max(InitConnectTime) as connectMs, "
                "max(@duration) as firstRequestMs by request"
            ],
            "sort": "initMs desc",
            "limit": 50,
        },
    }


def add_saved_queries(scope: Construct, config: Config, log_group: logs.ILogGroup) -> list[logs.QueryDefinition]:
    """One saved query per question an operator asks first, on the function's log group."""
    return [
        logs.QueryDefinition(
            scope,
            "Query" + name.title().replace("-", ""),
            query_definition_name=f"{config.stack_name}/{name}",
            query_string=logs.QueryString(**parts),
            log_groups=[log_group],
        )
        for name, parts in query_texts(config).items()
    ]
