"""Alarms and one dashboard per stage, from what the stack built, with cdk-monitoring-constructs.

cdk-monitoring-constructs (cdklabs) knows each service's metrics, statistics and widgets; writing
them by hand would mean keeping a few hundred lines of metric names and dashboard JSON in step with
AWS. What it does not know is added here: the database's freeable memory, and the function's own
EMF metrics (src/lambdakit/metrics.py), which only the function can see.

Thresholds come from infra/config.py (`alarm*` settings). Alarms notify an encrypted, SSL-only SNS
topic; the 4xx spike is low priority and notifies a second topic, so a pager can follow the first
one only. `alarmEmail` subscribes an address to both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cdk_monitoring_constructs as cmc
from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.api import Api
from infra.config import Config
from infra.database import Database
from infra.graphql import GraphqlApi

PERIOD = Duration.minutes(5)
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
RUNBOOK = "What to do: docs/operate.md, Runbook."
# Two bad 5-minute periods out of three: one slow cold start or one failing client does not page anyone.
SUSTAINED = {"datapoints_to_alarm": 2, "evaluation_periods": 3, "period": PERIOD}
# Errors and throttles are failed requests already: the first period with them is enough.
IMMEDIATE = {"datapoints_to_alarm": 1, "evaluation_periods": 1, "period": PERIOD}

# Metrics the function writes itself (src/lambdakit/metrics.py) and what the dashboard shows of them.
_COUNTS = ("ColdStart", "DatabaseConnect", "DatabaseReconnect", "DatabaseRetry", "CredentialsRefresh")
_INIT_TIMES = ("InitImportTime", "InitCredentialsTime", "InitConnectTime")


@dataclass(frozen=True)
class Watched:
    """What the stack built that has metrics worth an alarm."""

    function: lambda_.Function
    api: Api | None
    graphql: GraphqlApi | None
    database: Database


class Monitoring(Construct):
    """The alarm topics, every alarm of the stage, and its dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, watched: Watched) -> None:
        super().__init__(scope, construct_id)
        key = _topic_key(self, config)
        self.topic = _topic(self, "AlarmTopic", key, config, f"{config.stack_name} alarms")
        self.low_priority_topic = _topic(self, "LowPriorityAlarmTopic", key, config, f"{config.stack_name} low")
        # Dashboards are global to the account: the region in the name lets the stage live in several regions.
        self.dashboard_name = f"{config.stack_name}-{Stack.of(self).region}"
        self.facade = cmc.MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=cmc.AlarmFactoryDefaults(
                alarm_name_prefix=config.stack_name,
                actions_enabled=True,
                action=cmc.SnsAlarmActionStrategy(on_alarm_topic=self.topic, on_ok_topic=self.topic),
            ),
            dashboard_factory=cmc.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=self.dashboard_name,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self._low_priority = cmc.SnsAlarmActionStrategy(
            on_alarm_topic=self.low_priority_topic, on_ok_topic=self.low_priority_topic
        )
        self.facade.add_large_header(f"{config.stack_name}: API, function and database")
        if watched.api is not None:
            self._api(config, watched.api)
        self._function(config, watched.function)
        if watched.graphql is not None:
            self._graphql(config, watched.graphql)
        self._database(config, watched.database)
        self._own_metrics(config)

    def _api(self, config: Config, api: Api) -> None:
        # The rate metrics are the Average of a 0-or-1 per request: a fraction, while the settings are percentages.
        five_xx = {
            "critical": cmc.ErrorRateThreshold(
                max_error_rate=config.alarm_api5xx_percent / 100,
                alarm_description_override=f"API 5xx above {config.alarm_api5xx_percent:g}% of requests. {RUNBOOK}",
                **SUSTAINED,
            )
        }
        latency = {
            "critical": cmc.LatencyThreshold(
                max_latency=Duration.millis(config.alarm_api_latency_p99_ms),
                alarm_description_override=f"API p99 latency above {config.alarm_api_latency_p99_ms} ms. {RUNBOOK}",
                **SUSTAINED,
            )
        }
        four_xx = {
            "low": cmc.ErrorRateThreshold(
                max_error_rate=config.alarm_api4xx_percent / 100,
                action_override=self._low_priority,
                alarm_description_override=f"Low priority: API 4xx above {config.alarm_api4xx_percent:g}% of"
                f" requests (a client or a deploy sending bad requests). {RUNBOOK}",
                **SUSTAINED,
            )
        }
        if config.api_type == "http":
            http_api = apigwv2.HttpApi.from_http_api_attributes(self, "HttpApi", http_api_id=api.http_api.ref)
            self.facade.monitor_api_gateway_v2_http_api(
                api=http_api,
                api_stage=config.stage,
                alarm_friendly_name="api",
                human_readable_name=f"HTTP API {config.stack_name}",
                add5xx_rate_alarm=five_xx,
                add_latency_p99_alarm=latency,
                add4xx_rate_alarm=four_xx,
            )
            return
        self.facade.monitor_api_gateway(
            api=api.rest_api,
            api_stage=config.stage,
            alarm_friendly_name="api",
            human_readable_name=f"REST API {config.stack_name}",
            add5_xx_fault_rate_alarm=five_xx,
            add_latency_p99_alarm=latency,
            add4_xx_error_rate_alarm=four_xx,
        )

    def _function(self, config: Config, function: lambda_.Function) -> None:
        # Read from the function as built, so a timeout or reservation the stack computes is the one watched.
        timeout_seconds = function.timeout.to_seconds() if function.timeout else config.timeout_seconds
        reserved = function.node.default_child.reserved_concurrent_executions  # type: ignore[union-attr]
        near_timeout = timeout_seconds * 1000 * config.alarm_duration_percent / 100
        concurrency = {}
        if isinstance(reserved, (int, float)) and not Token.is_unresolved(reserved):
            # Each environment holds one database connection: the reserved budget is the connection budget.
            budget = max(1, math.ceil(reserved * config.alarm_concurrency_percent / 100))
            concurrency = {
                "critical": cmc.RunningTaskCountThreshold(
                    max_running_tasks=budget,
                    comparison_operator_override=AT_LEAST,
                    alarm_description_override=f"Concurrency at {budget} of the {reserved:g}"
                    f" reserved (each holds a database connection); next comes throttling. {RUNBOOK}",
                    **SUSTAINED,
                )
            }
        self.facade.monitor_lambda_function(
            lambda_function=function,
            alarm_friendly_name="function",
            human_readable_name=f"Function {config.stack_name}",
            add_fault_count_alarm={
                "critical": cmc.ErrorCountThreshold(
                    max_error_count=config.alarm_function_errors,
                    comparison_operator_override=AT_LEAST,
                    alarm_description_override=f"{config.alarm_function_errors}+ function errors in 5 minutes"
                    f" (crash, timeout, out of memory, or a GraphQL resolver error). {RUNBOOK}",
                    **IMMEDIATE,
                )
            },
            add_throttles_count_alarm={
                "critical": cmc.ErrorCountThreshold(
                    max_error_count=config.alarm_function_throttles,
                    comparison_operator_override=AT_LEAST,
                    alarm_description_override=f"{config.alarm_function_throttles}+ throttled invocations in 5"
                    f" minutes: requests refused at the concurrency limit. {RUNBOOK}",
                    **IMMEDIATE,
                )
            },
            add_max_latency_alarm={
                "critical": cmc.LatencyThreshold(
                    max_latency=Duration.millis(round(near_timeout)),
                    alarm_description_override=f"An invocation took over {config.alarm_duration_percent:g}% of the"
                    f" {timeout_seconds:g} s timeout. {RUNBOOK}",
                    **IMMEDIATE,
                )
            },
            add_concurrent_executions_count_alarm=concurrency,
        )

    def _graphql(self, config: Config, graphql: GraphqlApi) -> None:
        self.facade.monitor_app_sync_api(
            api=graphql.api,
            alarm_friendly_name="graphql",
            human_readable_name=f"AppSync {config.stack_name}",
            add5_xx_fault_rate_alarm={
                "critical": cmc.ErrorRateThreshold(
                    max_error_rate=config.alarm_api5xx_percent / 100,
                    alarm_description_override=f"GraphQL 5xx above {config.alarm_api5xx_percent:g}% of requests."
                    f" {RUNBOOK}",
                    **SUSTAINED,
                )
            },
            add_latency_p99_alarm={
                "critical": cmc.LatencyThreshold(
                    max_latency=Duration.millis(config.alarm_api_latency_p99_ms),
                    alarm_description_override=f"GraphQL p99 latency above {config.alarm_api_latency_p99_ms} ms."
                    f" {RUNBOOK}",
                    **SUSTAINED,
                )
            },
        )

    def _database(self, config: Config, database: Database) -> None:
        """Alarms when the stack knows the database: created here, or named by dbCluster/InstanceIdentifier."""
        cpu = {
            "critical": cmc.UsageThreshold(
                max_usage_percent=config.alarm_db_cpu_percent,
                alarm_description_override=f"Database CPU above {config.alarm_db_cpu_percent:g}%. {RUNBOOK}",
                **SUSTAINED,
            )
        }
        connections = {
            "critical": cmc.HighConnectionCountThreshold(
                max_connection_count=config.alarm_db_connections,
                alarm_description_override=f"More than {config.alarm_db_connections} database connections. {RUNBOOK}",
                **SUSTAINED,
            )
        }
        if config.create_database and database.cluster is not None:
            self.facade.monitor_aurora_cluster(
                cluster=database.cluster,
                alarm_friendly_name="database",
                human_readable_name=f"Aurora {config.stack_name}",
                add_cpu_usage_alarm=cpu,
                add_max_connection_count_alarm=connections,
                add_max_serverless_database_capacity_alarm={
                    "critical": cmc.UsageCountThreshold(
                        max_usage_count=config.db_max_capacity,
                        # "At max" means equal to it: capacity never exceeds the configured maximum.
                        comparison_operator_override=AT_LEAST,
                        alarm_description_override=f"Aurora Serverless at its maximum of {config.db_max_capacity:g}"
                        f" ACU. {RUNBOOK}",
                        **SUSTAINED,
                    )
                },
            )
            self._freeable_memory(config, {"DBClusterIdentifier": database.cluster.cluster_identifier})
        elif database.cluster is not None:
            self.facade.monitor_aurora_cluster(
                cluster=database.cluster,
                alarm_friendly_name="database",
                human_readable_name=f"Aurora {config.db_cluster_identifier}",
                add_cpu_usage_alarm=cpu,
                add_max_connection_count_alarm=connections,
            )
            self._freeable_memory(config, {"DBClusterIdentifier": config.db_cluster_identifier})
        elif database.instance is not None and config.db_instance_identifier:
            self.facade.monitor_rds_instance(
                instance=database.instance,
                alarm_friendly_name="database",
                human_readable_name=f"RDS {config.db_instance_identifier}",
                add_cpu_usage_alarm=cpu,
                add_max_connection_count_alarm=connections,
            )
            self._freeable_memory(config, {"DBInstanceIdentifier": config.db_instance_identifier})

    def _freeable_memory(self, config: Config, dimensions: dict[str, str]) -> None:
        # Not an alarm cdk-monitoring-constructs offers for Aurora; a custom metric with its alarm instead.
        metric = cloudwatch.Metric(
            namespace="AWS/RDS",
            metric_name="FreeableMemory",
            dimensions_map=dimensions,
            statistic="Minimum",
            period=PERIOD,
            label="freeable memory (minimum)",
        )
        threshold = cmc.CustomThreshold(
            threshold=config.alarm_db_freeable_memory_mb * 1024 * 1024,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            alarm_description_override=f"Database freeable memory below {config.alarm_db_freeable_memory_mb} MB."
            f" {RUNBOOK}",
            **SUSTAINED,
        )
        self.facade.monitor_custom(
            alarm_friendly_name="database-memory",
            human_readable_name="Database memory",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Freeable memory",
                    metrics=[
                        cmc.CustomMetricWithAlarm(
                            metric=metric, alarm_friendly_name="freeable-memory", add_alarm={"critical": threshold}
                        )
                    ],
                )
            ],
        )

    def _own_metrics(self, config: Config) -> None:
        """The function's EMF metrics: cold starts and their parts, and the life of its database connection."""
        dimensions = {"service": config.service_name, "stage": config.stage}

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=config.service_name,
                metric_name=name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=PERIOD,
                label=name,
            )

        self.facade.monitor_custom(
            alarm_friendly_name="function-events",
            human_readable_name="What only the function sees (EMF metrics)",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Cold start: import, credentials, connect (p90, ms)",
                    metrics=[metric(name, "p90") for name in _INIT_TIMES],
                ),
                cmc.CustomMetricGroup(
                    title="Cold starts and connections (count)", metrics=[metric(name, "Sum") for name in _COUNTS]
                ),
                cmc.CustomMetricGroup(
                    title="Database connect time (p90, ms) and too-many-connections 503s",
                    metrics=[metric("DatabaseConnectTime", "p90"), metric("TooManyConnections", "Sum")],
                ),
            ],
        )


def _topic_key(scope: Construct, config: Config) -> kms.Key:
    """A key CloudWatch may use: an alarm cannot publish to a topic encrypted with AWS's managed SNS key."""
    key = kms.Key(
        scope,
        "AlarmTopicKey",
        description=f"{config.stack_name}: encrypts the alarm topics",
        enable_key_rotation=True,
    )
    key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
    return key


def _topic(scope: Construct, construct_id: str, key: kms.Key, config: Config, display_name: str) -> sns.Topic:
    topic = sns.Topic(scope, construct_id, display_name=display_name, master_key=key, enforce_ssl=True)
    stack = Stack.of(scope)
    # The topic policy that enforces SSL replaces SNS's default one, so CloudWatch is granted explicitly,
    # for this account's alarms only.
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["sns:Publish"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
                },
            },
        )
    )
    if config.alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
    return topic
