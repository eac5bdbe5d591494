"""The stack: one function, the API(s) generated from its routes, its network and its database."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Annotations, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.api import Api
from infra.auth import UserPool, declared_groups, gateway_access
from infra.background import METADATA_KEY, Background, Watch, acknowledge_async_invocations, scheduled_jobs
from infra.budget import (
    ConnectionBudget,
    background_split,
    connection_budget,
    fit_to_account,
    reserved_concurrency,
)
from infra.build import StalePackage, stale_reason
from infra.config import Config, ConfigError
from infra.database import Database
from infra.graphql import GraphqlApi, check_routes_in_schema
from infra.log_groups import retained_log_group
from infra.log_queries import add_saved_queries
from infra.monitoring import Monitoring, Watched
from infra.nag import acknowledge, acknowledge_checkov
from infra.network import Network
from infra.routes import DirectRoute, Routes

# Never shipped when the stack packages src/ directly (synthWithoutBuild).
CODE_EXCLUDES = ["tests", "cdk.out", "**/__pycache__", "**/*.pyc", ".pytest_cache", "**/.ruff_cache"]
# API Gateway gives up on an integration after 29 s; a longer Lambda timeout only hides that.
API_GATEWAY_TIMEOUT_SECONDS = 29


class ApiStack(cdk.Stack):
    """Everything one stage of the API needs, built from the config and the scanned routes."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, routes: Routes) -> None:
        # A region of its own even without an account: per-region values (the extension's layer) are then
        # resolved for it at synth, or refused, instead of left to a lookup that fails at deploy.
        env = cdk.Environment(account=config.account, region=config.region) if config.account or config.region else None
        super().__init__(
            scope,
            construct_id,
            env=env,
            description=f"{config.service_name} ({config.stage}): Lambda + API Gateway in front of PostgreSQL",
        )
        check_routes_in_schema(routes.graphql, config.schema_file)
        cdk.Tags.of(self).add("service", config.service_name)
        cdk.Tags.of(self).add("stage", config.stage)

        network = Network(self, "Network", config=config)
        database = Database(self, "Database", config=config, network=network)
        self.function = _function(self, config, network, database)
        # SnapStart snapshots published versions only: the APIs then invoke an alias of the current one.
        invoked: lambda_.IFunction = self.function
        if config.snap_start:
            invoked = lambda_.Alias(self, "LiveAlias", alias_name="live", version=self.function.current_version)

        cdk.CfnOutput(self, "FunctionName", value=self.function.function_name)
        cdk.CfnOutput(self, "LogGroupName", value=self.function.log_group.log_group_name)
        api = graphql = None
        _warn_unreachable_groups(self, config, routes)
        pool = None
        if config.user_pool and (routes.rest or routes.graphql):
            pool = UserPool(self, "Users", config=config, groups=declared_groups(routes.table))
        if routes.rest:
            api = Api(
                self,
                "Api",
                config=config,
                routes=routes.table,
                function=invoked,
                access=gateway_access(config, pool),
            )
            cdk.CfnOutput(self, "RestApiUrl" if config.api_type == "rest" else "HttpApiUrl", value=api.url)
        if routes.graphql:
            graphql = GraphqlApi(self, "Graphql", config=config, routes=routes.graphql, function=invoked, pool=pool)
            cdk.CfnOutput(self, "GraphqlUrl", value=graphql.url)
        # Operate it: alarms, the dashboard and the saved Logs Insights queries.
        monitoring = Monitoring(
            self, "Monitoring", config=config, watched=Watched(self.function, api, graphql, database)
        )
        add_saved_queries(self, config, self.function.log_group)
        _background(self, config, routes, invoked=invoked, topic=monitoring.topic)
        cdk.CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        cdk.CfnOutput(self, "DashboardName", value=monitoring.dashboard_name)
        if config.create_database:
            cdk.CfnOutput(self, "DatabaseSecretArn", value=database.secret.secret_arn)
        if config.rds_proxy and database.proxy is not None:
            cdk.CfnOutput(self, "ProxyEndpoint", value=database.proxy.endpoint)


def _background(
    stack: ApiStack, config: Config, routes: Routes, *, invoked: lambda_.IFunction, topic: sns.ITopic
) -> None:
    """Schedules and queues for the jobs and consumers (infra/background.py), consumers sized by the budget."""
    jobs = scheduled_jobs(routes)
    if not (jobs or routes.queues):
        return
    function = stack.function
    reserved = function.node.default_child.reserved_concurrent_executions  # type: ignore[union-attr]
    concurrency = reserved if isinstance(reserved, int) else None
    split = background_split(config, concurrency, connection_budget(config), tuple(q.queue for q in routes.queues))
    Background(
        stack, "Background", config=config, routes=routes, function=function, invoked=invoked, watch=Watch(topic, split)
    )
    function.node.default_child.add_metadata(METADATA_KEY, {"connections": split.line()})  # type: ignore[union-attr]
    if jobs:
        acknowledge_async_invocations(function)


def _function(stack: cdk.Stack, config: Config, network: Network, database: Database) -> lambda_.Function:
    log_group = retained_log_group(stack, "FunctionLogs", config)
    # Our own role instead of the AWS managed ones, so every permission is visible here.
    role = iam.Role(
        stack,
        "FunctionRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"{config.stack_name} function: its logs, its ENIs, its one secret",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            resources=["*"],
        )
    )
    log_group.grant_write(role)

    environment = {
        "STAGE": config.stage,
        # The function's own check (lambdakit/authorization.py) refuses anonymous callers when this is not none.
        "AUTH": config.auth,
        "POWERTOOLS_SERVICE_NAME": config.service_name,
        "POWERTOOLS_LOG_LEVEL": config.log_level,
        "POWERTOOLS_METRICS_NAMESPACE": config.service_name,
        "DB_HOST": database.host,
        "DB_PORT": str(database.port),
        "DB_SSLMODE": config.db_sslmode,
        "DB_CONNECT_TIMEOUT": str(config.db_connect_timeout),
        "DB_CONNECT_RETRY_SECONDS": f"{config.db_connect_retry_seconds:g}",
        "DB_APPLICATION_NAME": config.stack_name,
    }
    if database.name:
        environment["DB_NAME"] = database.name
    if config.db_iam_auth and database.proxy is not None:
        # The function signs a token for the proxy with its own role; it never reads the secret.
        database.proxy.grant_connect(role, database.user or "")
        environment.update(DB_IAM_AUTH="true", DB_USER=database.user or "")
    else:
        database.grant_secret(role)
        environment["DB_SECRET_ARN"] = database.secret.secret_arn
    if config.db_statement_timeout_ms is not None:
        environment["DB_STATEMENT_TIMEOUT_MS"] = str(config.db_statement_timeout_ms)
    if config.db_idle_session_timeout_ms is not None:
        environment["DB_IDLE_SESSION_TIMEOUT_MS"] = str(config.db_idle_session_timeout_ms)
    if config.tracing:
        environment["TRACING"] = "true"
    if config.cors_origins and config.api_type == "rest":
        # An HTTP API adds CORS headers itself; a REST proxy integration leaves it to the function.
        environment["CORS_ALLOW_ORIGIN"] = config.cors_origins[0]

    budget = connection_budget(config)
    reservation = fit_to_account(config, reserved_concurrency(config, budget))
    concurrency = reservation.value
    if reservation.note:
        Annotations.of(stack).add_warning_v2("infra:account-concurrency", reservation.note)
    else:
        _warn_about_the_budget(stack, config, budget, concurrency)
    function = lambda_.Function(
        stack,
        "Function",
        description=f"{config.stack_name}: routes of src/lambda_function.py",
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=lambda_.Architecture.ARM_64 if config.architecture == "arm64" else lambda_.Architecture.X86_64,
        handler="lambda_function.handler",
        code=_code(stack, config),
        timeout=Duration.seconds(config.timeout_seconds),
        memory_size=config.memory_size,
        environment=environment,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        role=role,
        vpc=network.vpc,
        vpc_subnets=network.subnets,
        security_groups=[network.function_sg],
        reserved_concurrent_executions=concurrency,
        params_and_secrets=_secrets_extension(stack, config),
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if config.snap_start else None,
    )
    if config.timeout_seconds > API_GATEWAY_TIMEOUT_SECONDS:
        Annotations.of(function).add_warning_v2(
            "infra:timeout",
            f"timeoutSeconds={config.timeout_seconds} exceeds API Gateway's 29 s integration limit",
        )
    acknowledge(
        role.node.find_child("DefaultPolicy"),
        "AwsSolutions-IAM5[Resource::*]",
        "Lambda creates the function's network interfaces itself; the EC2 ENI actions and"
        " X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level scoping.",
    )
    _acknowledge_checkov(function, role, concurrency, config)
    acknowledge(
        function,
        "AwsSolutions-L1",
        "Python 3.12 is pinned on purpose: the build installs wheels for --python-version 3.12,"
        " so the runtime and the packaged binaries (psycopg2) must change together.",
    )
    return function


def _acknowledge_checkov(function: lambda_.Function, role: iam.Role, concurrency: int | None, config: Config) -> None:
    """checkov's Lambda checks the template answers otherwise, each with why."""
    acknowledge_checkov(
        function,
        "CKV_AWS_116",
        "API Gateway, AppSync and direct invokes call the function synchronously and get its error back;"
        " a dead-letter queue only receives failed asynchronous invocations, which this template has none of.",
    )
    acknowledge_checkov(
        function,
        "CKV_AWS_173",
        "The variables hold settings and the secret's ARN, never a credential; Lambda encrypts them at rest"
        " with its own key, and a customer-managed key would add a KMS call to every cold start.",
    )
    if concurrency is None:
        why = (
            "rdsProxy=true: the proxy bounds the database connections, so concurrency needs no cap"
            if config.rds_proxy
            else "no reservation: the connection budget is unknown, the account's quota is within it, or"
            " reservedConcurrency=off was chosen; synth warns when nothing caps the connections"
        )
        acknowledge_checkov(function, "CKV_AWS_115", why)
    acknowledge_checkov(
        role.node.find_child("DefaultPolicy"),
        "CKV_AWS_111",
        "The EC2 network-interface actions Lambda needs in a VPC and X-Ray's PutTraceSegments support no"
        " resource-level permissions; every other statement names its one resource.",
    )


def _warn_unreachable_groups(stack: cdk.Stack, config: Config, routes: Routes) -> None:
    """Groups come from tokens: with auth=iam or none no caller carries any, so those routes only ever refuse."""
    if config.auth not in ("iam", "none"):
        return
    named = [f"{r.function}()" for r in routes.table if r.spec.restricted and not isinstance(r, DirectRoute)]
    if named:
        answer = "403 (IAM callers carry no groups)" if config.auth == "iam" else "401 (nobody signs in)"
        Annotations.of(stack).add_warning_v2(
            "infra:groups",
            f"auth={config.auth}: {', '.join(dict.fromkeys(named))} name groups or scopes and will answer {answer};"
            " use auth=cognito (or jwt) for them",
        )


# The newest version of the extension CDK's table knows (by region and architecture), and its number.
EXTENSION_VERSION = lambda_.ParamsAndSecretsVersions.V1_0_103
EXTENSION_VERSION_NUMBER = "1.0.103"


def extension_published(region: str, architecture: str) -> bool:
    """Whether CDK knows the extension's layer for this region and architecture."""
    from aws_cdk.region_info import Fact, FactName

    fact = FactName.params_and_secrets_lambda_layer(EXTENSION_VERSION_NUMBER, architecture)
    return Fact.find(region, fact) is not None


def _secrets_extension(stack: cdk.Stack, config: Config) -> lambda_.ParamsAndSecretsLayerVersion | None:
    """The Parameters and Secrets extension's layer, through which the function reads its secret without boto3."""
    if config.params_and_secrets is False or config.db_iam_auth:
        return None
    if config.snap_start:
        # The extension checks callers against AWS_SESSION_TOKEN, which SnapStart functions are not given.
        Annotations.of(stack).add_info(
            "snapStart: no Parameters and Secrets extension; the secret is read with boto3,"
            " which is imported before the snapshot"
        )
        return None
    options = {"log_level": lambda_.ParamsAndSecretsLogLevel.WARN}
    if config.params_and_secrets_layer_arn:
        return lambda_.ParamsAndSecretsLayerVersion.from_version_arn(config.params_and_secrets_layer_arn, **options)
    if config.region and not extension_published(config.region, config.architecture):
        where = f"for {config.architecture} in {config.region}"
        if config.params_and_secrets is True:
            raise ConfigError(
                f"paramsAndSecrets=true: this CDK knows no Parameters and Secrets extension layer {where}; give the"
                " layer's ARN from AWS's list as paramsAndSecretsLayerArn, or leave paramsAndSecrets=auto"
                " (the function then reads its secret with boto3)"
            )
        Annotations.of(stack).add_warning_v2(
            "infra:no-secrets-extension",
            f"paramsAndSecrets=auto: no Parameters and Secrets extension layer known {where}, so the function"
            " reads its secret with boto3 (a slower cold start); paramsAndSecretsLayerArn names a layer to use",
        )
        return None
    return lambda_.ParamsAndSecretsLayerVersion.from_version(EXTENSION_VERSION, **options)


def _warn_about_the_budget(
    stack: cdk.Stack, config: Config, budget: ConnectionBudget | None, concurrency: int | None
) -> None:
    """Say at synth when nothing caps the connections, or when the cap throttles the API before its own limits do."""
    if concurrency is None and not config.rds_proxy and config.reserved_concurrency != "off":
        Annotations.of(stack).add_warning_v2(
            "infra:no-connection-budget",
            "nothing caps the function's concurrency, and each environment holds a database connection: set"
            " dbMaxConnections to your database's max_connections (SHOW max_connections), or reservedConcurrency",
        )
    elif concurrency is not None and concurrency < config.throttling_burst_limit:
        source = "reservedConcurrency" if isinstance(config.reserved_concurrency, int) else _explain(budget)
        Annotations.of(stack).add_warning_v2(
            "infra:budget-below-throttling",
            f"reserved concurrency {concurrency} ({source}) is below the API's burst limit of"
            f" {config.throttling_burst_limit}: requests past {concurrency} in flight are throttled by Lambda"
            " before they reach the database; lower throttlingBurstLimit, raise the budget, or set rdsProxy=true",
        )


def _explain(budget: ConnectionBudget | None) -> str:
    if budget is None:
        return "no connection budget"
    return f"the connection budget: {budget.for_function} of max_connections {budget.max_connections}, {budget.source}"


def _code(stack: cdk.Stack, config: Config) -> lambda_.Code:
    """The built package, when it was built from src/ as it is now and for this architecture; never a stale one."""
    if config.synth_without_build:
        Annotations.of(stack).add_warning_v2(
            "infra:unbuilt",
            f"synthWithoutBuild: packaging {config.src_dir} without its requirements: this template cannot run",
        )
        return lambda_.Code.from_asset(str(config.src_dir), exclude=CODE_EXCLUDES)
    extras = ("tracing",) if config.tracing else ()  # X-Ray's SDK ships only when the stage traces
    reason = stale_reason(Path(config.build_dir), Path(config.src_dir), config.architecture, extras)
    if reason is not None:
        raise StalePackage(
            f"{reason}. Run `make build ARCH={config.architecture}` (`make synth` and `make deploy` build"
            " when needed), or set synthWithoutBuild=true for a template that is not deployable"
        )
    # The build ships bytecode on purpose; nothing in it is to be left out.
    return lambda_.Code.from_asset(str(config.build_dir))
