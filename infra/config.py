"""All configuration of the stack, parsed and validated in one place.

Each setting is one field of `Config`: its name, type and default are written there once. Its cdk.json
context key is the field's camelCase (`db_max_connections` -> `dbMaxConnections`) and its environment
variable the field's UPPER_SNAKE behind the `STACK_` prefix (`STACK_DB_MAX_CONNECTIONS`), so the stack's
settings never share a name with the function's own variables (`AUTH`, `DB_HOST`, `TRACING`, ...).
`make synth AUTH=iam` passes make's command-line variables on as `STACK_AUTH=iam` (infra/infra.mk).

Sources, later wins: cdk.json `context` (top level), then `context.stages.<stage>`, then `-c key=value`
(CDK merges it into the same context), then the `STACK_` environment variables. Values from `-c` or the
environment are strings; they are converted here according to the field's type.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal

from lambdakit.routemodel import camel_case

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "STACK_"

# Valid CloudWatch Logs retention periods, in days, and their names in CDK's RetentionDays.
RETENTION_NAMES = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
}
LOG_RETENTION_DAYS = tuple(RETENTION_NAMES)


class ConfigError(ValueError):
    """One or more invalid settings; the message lists every problem, not just the first."""


def _also(*variables: str) -> Any:
    """Metadata for a setting that is also read from the AWS tooling's own variables, in this order."""
    return {"also": variables}


@dataclass(frozen=True)
class Config:
    """The validated settings the stack is built from (each one listed in docs/configuration.md)."""

    stage: str = "dev"
    region: str | None = field(default=None, metadata=_also("AWS_REGION"))
    account: str | None = field(default=None, metadata=_also("CDK_DEFAULT_ACCOUNT"))
    service_name: str = "lambda-api"
    # Lambda
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    memory_size: int = 256
    timeout_seconds: int = 10
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_retention_days: int = 30
    # None: derived from the connection budget; "off": no reserved concurrency at all.
    reserved_concurrency: int | Literal["off"] | None = None
    snap_start: bool = False
    # auto: the extension where AWS publishes it for the region (CDK's table), boto3 elsewhere.
    params_and_secrets: bool | Literal["auto"] = "auto"
    # The extension's layer for this region, from AWS's list, instead of CDK's table (a newer version).
    params_and_secrets_layer_arn: str | None = None
    # X-Ray subsegments per SQL statement (Powertools Tracer); off keeps the tracer out of the package.
    tracing: bool = False
    # Network
    vpc_id: str | None = None
    vpc_id_parameter: str = "VpcId"
    private_subnet_ids: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    vpc_cidr: str | None = None
    secrets_manager_endpoint: bool = False
    # Database
    create_database: bool = False
    db_stack_name: str | None = None
    db_secret_arn: str | None = None
    # The customer-managed KMS key your secret is encrypted with: the function and the proxy may decrypt with it.
    db_secret_kms_key_arn: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str | None = None
    db_security_group_id: str | None = None
    db_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "require"
    db_connect_timeout: int = 5
    # Extra seconds to retry connecting with backoff: an Aurora Serverless cluster resuming from a
    # pause takes about 15 s to accept connections.
    db_connect_retry_seconds: float = 0.0
    # Under the function's timeout with room to connect and answer (see timeout_problems).
    db_statement_timeout_ms: int | None = 4000
    db_idle_session_timeout_ms: int | None = 300000
    db_min_capacity: float = 0
    db_max_capacity: float = 2
    db_deletion_protection: bool = True
    rds_proxy: bool = False
    # The database's max_connections; derived for createDatabase (AWS's table), required to budget your own.
    db_max_connections: int | None = None
    db_iam_auth: bool = False
    db_user: str | None = None
    db_cluster_identifier: str | None = None
    db_instance_identifier: str | None = None
    # APIs
    api_type: Literal["rest", "http"] = "rest"
    throttling_rate_limit: int = 50
    throttling_burst_limit: int = 100
    cors_origins: tuple[str, ...] = ()
    # AppSync's cost limits for one GraphQL request (docs/limits.md); the local server enforces the same.
    # Depth 15 lets the introspection query GraphQL tools send through; AppSync allows 1..75 (0: none).
    graphql_query_depth_limit: int = 15
    # Lambda invocations one request may cause (each resolved field is one); AppSync allows 1..10000.
    graphql_resolver_count_limit: int = 200
    # The account-wide role API Gateway logs with (AWS::ApiGateway::Account, one per account and region).
    # None: not created by synth; `make deploy` creates it only where the region has none (infra/preflight.py).
    api_gateway_cloud_watch_role: bool | None = None
    # The account's Lambda concurrency, as `make deploy` reads it (GetAccountSettings) before reserving any.
    account_concurrency_limit: int | None = None
    # The account's unreserved concurrency, not counting what this stage's function reserves today.
    account_unreserved_concurrency: int | None = None
    # Background work (infra/background.py): each queue consumer's maximum concurrency; None: a share of the budget.
    queue_concurrency: int | None = None
    # Alarms and dashboard (infra/monitoring.py). Defaults are production's; cdk.json relaxes dev.
    alarm_email: str | None = None
    alarm_api5xx_percent: float = 1.0
    alarm_api_latency_p99_ms: int = 2000
    alarm_api4xx_percent: float = 20.0
    alarm_function_errors: int = 1
    alarm_function_throttles: int = 1
    alarm_duration_percent: float = 80.0
    alarm_concurrency_percent: float = 80.0
    alarm_db_connections: int = 80
    alarm_db_cpu_percent: float = 80.0
    alarm_db_freeable_memory_mb: int = 256
    alarm_dead_letter_messages: int = 1
    # The CI deploy roles (infra/deploy_access.py, `make deploy-access`): GitHub's OIDC, per stage.
    github_repository: str | None = None
    deploy_stages: tuple[str, ...] = ("dev", "prod")
    github_oidc_provider_arn: str | None = None
    cdk_qualifier: str = "hnb659fds"
    # Authorization: the default of every REST and GraphQL route (a route may say auth="none" or "iam").
    auth: str = "none"
    public_api: bool = False
    cognito_user_pool_arn: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    api_keys: bool = False
    # Files
    lambda_file: Path = ROOT / "src" / "lambda_function.py"
    schema_file: Path = ROOT / "src" / "schema.graphql"
    src_dir: Path = ROOT / "src"
    build_dir: Path = ROOT / ".build" / "package"
    # Synthesize with src/ alone (no requirements, no bytecode): a template that cannot run, for tests.
    synth_without_build: bool = False
    problems: tuple[str, ...] = field(default=(), compare=False, metadata={"setting": False})

    @property
    def stack_name(self) -> str:
        """One stack per stage, so dev and prod never share resources."""
        return f"{self.service_name}-{self.stage}"

    @property
    def offline(self) -> bool:
        """No account known: lookups cannot run, so placeholders stand in (synth only)."""
        return self.account is None

    @property
    def user_pool(self) -> bool:
        """A Cognito user pool exists: auth=cognito (created or imported), or one given by ARN (for AppSync)."""
        return self.auth == "cognito" or bool(self.cognito_user_pool_arn)

    @property
    def database_given(self) -> bool:
        """True when the database is created here or fully described by context/env/exports."""
        return self.create_database or bool(
            self.db_stack_name or (self.db_secret_arn and (self.db_host or self.rds_proxy))
        )


@dataclass(frozen=True)
class Setting:
    """One field of Config as the outside world names it."""

    name: str
    key: str
    variable: str
    also: tuple[str, ...]
    type: Any


@cache
def settings() -> dict[str, Setting]:
    """Every setting by its context key, derived from Config's fields."""
    hints = typing.get_type_hints(Config)
    return {
        camel_case(f.name): Setting(
            f.name, camel_case(f.name), ENV_PREFIX + f.name.upper(), f.metadata.get("also", ()), hints[f.name]
        )
        for f in fields(Config)
        if f.metadata.get("setting", True)
    }


def load_config(
    get_context: Callable[[str], Any],
    environ: Mapping[str, str],
    *,
    strict: bool = True,
) -> Config:
    """Merge context and environment into a validated Config; raise ConfigError when invalid."""
    known = settings()
    raw: dict[str, Any] = {}
    for key in known:
        value = get_context(key)
        if value is not None:
            raw[key] = value
    stage = environ.get(known["stage"].variable) or raw.get("stage") or "dev"
    stages = get_context("stages") or {}
    if not isinstance(stages, Mapping):
        raise ConfigError("context 'stages' must be an object of per-stage settings")
    for key, value in (stages.get(stage) or {}).items():
        if key not in known:
            raise ConfigError(f"stages.{stage}.{key}: unknown setting")
        raw[key] = value
    for key, setting in known.items():
        for name in (setting.variable, *setting.also):
            if environ.get(name):
                raw[key] = environ[name]
                break
    # The CDK CLI's CDK_DEFAULT_REGION says us-east-1 when nothing is configured: it names the region
    # only together with the account the CLI found credentials for.
    if "account" in raw and "region" not in raw and environ.get("CDK_DEFAULT_REGION"):
        raw["region"] = environ["CDK_DEFAULT_REGION"]
    raw["stage"] = stage
    config, problems = _convert(raw)
    problems += _validate(config)
    if problems and strict:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return _replace(config, problems=tuple(problems))


def project_config(environ: Mapping[str, str] | None = None) -> Config:
    """The settings cdk.json and the environment give, outside a CDK app (local tools, `make build`)."""
    import os

    try:
        context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    except (OSError, ValueError):
        context = {}
    return load_config(context.get, os.environ if environ is None else environ, strict=False)


def _replace(config: Config, **changes: Any) -> Config:
    values = {f.name: getattr(config, f.name) for f in fields(config)}
    values.update(changes)
    return Config(**values)


def _convert(raw: Mapping[str, Any]) -> tuple[Config, list[str]]:
    known = settings()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        setting = known[key]
        try:
            values[setting.name] = coerce(value, setting.type)
        except (TypeError, ValueError) as exc:
            problems.append(f"{key}={value!r}: {exc}")
    return Config(**values), problems


# Hand-written rather than a settings library: lists arrive as `a,b` from make and the environment,
# `off`/`auto` stand beside numbers and booleans, and CDK, not the library, decides context precedence.
def coerce(value: Any, hint: Any) -> Any:
    """`value` (from JSON context or a string) as the type `hint` of a Config field; ValueError when it is not."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and (value is None or str(value).strip().lower() in ("", "none")):
            return None
        failures = []
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce(value, option)
            except (TypeError, ValueError) as exc:
                failures.append(str(exc).removeprefix("expected "))
        raise ValueError("expected " + " or ".join(failures))
    if origin is Literal:
        text = str(value).strip()
        if isinstance(value, str) and text in args:
            return text
        raise ValueError("expected one of " + ", ".join(map(str, args)))
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "false", "0", "no", ""):
            return text in ("true", "1", "yes")
        raise ValueError("expected true or false")
    if hint is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("expected an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError("expected an integer") from None
    if hint is float:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("expected a number") from None
    if hint is Path:
        path = Path(value)
        return path if path.is_absolute() else ROOT / path
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise TypeError("expected a list or a comma-separated string")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if hint is str:
        if isinstance(value, (dict, list)):
            raise TypeError("expected a string")
        return str(value)
    raise TypeError(f"no conversion to {hint}")


# What the function needs after its last statement gave up: roll back, log, write the 503/504.
ANSWER_MARGIN_SECONDS = 1.0


def timeout_problems(c: Config) -> list[str]:
    """Connecting, one statement and the answer must fit in the function's timeout.

    Otherwise a slow database ends in a Lambda timeout, which API Gateway turns into a bare 502,
    instead of the function's own 503 (cannot connect) or 504 (statement timed out).
    """
    if c.db_statement_timeout_ms is None:
        return [
            "dbStatementTimeoutMs is required: without it a slow statement outlives the function and the client"
            f" gets API Gateway's 502 instead of a 504 (e.g. dbStatementTimeoutMs={Config.db_statement_timeout_ms})"
        ]
    statement = c.db_statement_timeout_ms / 1000
    needed = c.db_connect_timeout + c.db_connect_retry_seconds + statement + ANSWER_MARGIN_SECONDS
    if needed <= c.timeout_seconds:
        return []
    room = c.timeout_seconds - c.db_connect_timeout - c.db_connect_retry_seconds - ANSWER_MARGIN_SECONDS
    fix = f"dbStatementTimeoutMs <= {int(room * 1000)}" if room > 0 else "a shorter dbConnectRetrySeconds"
    return [
        f"timeouts do not fit: dbConnectTimeout {c.db_connect_timeout:g} s + dbConnectRetrySeconds"
        f" {c.db_connect_retry_seconds:g} s + dbStatementTimeoutMs {statement:g} s + {ANSWER_MARGIN_SECONDS:g} s to"
        f" answer = {needed:g} s, over timeoutSeconds {c.timeout_seconds} s;"
        f" set timeoutSeconds >= {int(-(-needed // 1))} or {fix}"
    ]


_STAGE_NAME = r"[a-z][a-z0-9-]{0,19}"
_KMS_KEY_ARN = r"arn:aws[\w-]*:kms:[\w-]+:\d{12}:key/[\w-]+"
_LAYER_ARN = r"arn:aws[\w-]*:lambda:([\w-]+):\d{12}:layer:[\w-]+:\d+"


def _validate(c: Config) -> list[str]:
    problems = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    check(bool(re.fullmatch(_STAGE_NAME, c.stage)), f"stage {c.stage!r}: use a-z, 0-9, -")
    check(
        bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,40}", c.service_name)),
        f"serviceName {c.service_name!r}: letters, digits and '-' only",
    )
    check(c.account is None or bool(re.fullmatch(r"\d{12}", c.account)), "account: 12 digits")
    check(
        c.region is None or bool(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", c.region)),
        f"region {c.region!r}: an AWS region name such as eu-west-1",
    )
    # A template for an account must be for one region: layer ARNs, service principals and endpoints differ.
    check(c.account is None or c.region is not None, "region is required with account (REGION=eu-west-1)")
    check(128 <= c.memory_size <= 10240, "memorySize: 128..10240 MB")
    check(1 <= c.timeout_seconds <= 900, "timeoutSeconds: 1..900")
    check(c.log_retention_days in LOG_RETENTION_DAYS, f"logRetentionDays: one of {LOG_RETENTION_DAYS}")
    check(
        c.reserved_concurrency in (None, "off") or c.reserved_concurrency >= 1,
        "reservedConcurrency: a number >= 1, or off",
    )
    check(
        c.params_and_secrets_layer_arn is None or _layer_in_region(c.params_and_secrets_layer_arn, c.region),
        "paramsAndSecretsLayerArn: arn:aws:lambda:<the stack's region>:<account>:layer:<name>:<version>",
    )
    check(c.db_max_connections is None or c.db_max_connections >= 10, "dbMaxConnections >= 10")
    check(not c.db_iam_auth or c.rds_proxy, "dbIamAuth authenticates to the RDS Proxy: set rdsProxy=true too")
    check(
        not c.db_iam_auth or c.create_database or bool(c.db_user),
        "dbIamAuth with your own database needs dbUser (the database user the proxy's secret logs in as)",
    )
    check(c.vpc_id is None or c.vpc_id.startswith("vpc-"), "vpcId must start with vpc-")
    check(
        all(s.startswith("subnet-") for s in c.private_subnet_ids),
        "privateSubnetIds must start with subnet-",
    )
    check(not c.private_subnet_ids or c.vpc_id is not None, "privateSubnetIds needs vpcId as well")
    check(
        not c.availability_zones or len(c.availability_zones) == len(c.private_subnet_ids),
        "availabilityZones: one per private subnet",
    )
    check(1 <= c.db_port <= 65535, "dbPort: 1..65535")
    check(c.db_connect_timeout >= 1, "dbConnectTimeout >= 1")
    check(c.db_connect_retry_seconds >= 0, "dbConnectRetrySeconds >= 0")
    problems += timeout_problems(c) + _graphql_problems(c)
    check(
        0 <= c.db_min_capacity <= c.db_max_capacity <= 256,
        "0 <= dbMinCapacity <= dbMaxCapacity <= 256",
    )
    check(
        not (c.create_database and (c.db_stack_name or c.db_secret_arn or c.db_host)),
        "createDatabase=true cannot be combined with dbStackName, dbSecretArn or dbHost",
    )
    check(
        not (c.db_stack_name and (c.db_secret_arn or c.db_host)),
        "dbStackName imports the database; do not also give dbSecretArn or dbHost",
    )
    check(
        not (c.rds_proxy and not c.create_database) or bool(c.db_cluster_identifier or c.db_instance_identifier),
        "rdsProxy with your own database needs dbClusterIdentifier or dbInstanceIdentifier",
    )
    check(
        c.db_secret_arn is None or c.db_secret_arn.startswith("arn:"),
        "dbSecretArn must be a full arn:...:secret:... ARN",
    )
    check(
        c.db_secret_kms_key_arn is None or bool(re.fullmatch(_KMS_KEY_ARN, c.db_secret_kms_key_arn)),
        "dbSecretKmsKeyArn: arn:aws:kms:<region>:<account>:key/<key id>",
    )
    check(
        c.db_secret_kms_key_arn is None or not c.create_database,
        "dbSecretKmsKeyArn is for your own secret; createDatabase generates its secret with AWS's key",
    )
    check(
        c.offline or c.database_given,
        "no database: set createDatabase=true, dbStackName, or dbSecretArn plus dbHost",
    )
    check(
        c.offline
        or not c.private_subnet_ids
        or bool(c.vpc_cidr or c.create_database or c.db_stack_name or c.db_security_group_id),
        "without a database security group the Lambda's egress goes to the VPC CIDR: set vpcCidr"
        " (or dbSecurityGroupId)",
    )
    check(
        c.api_type == "http" or len(c.cors_origins) <= 1,
        "corsOrigins: a REST API answers preflight with one origin; use apiType=http for several",
    )
    check(
        c.throttling_rate_limit >= 1 and c.throttling_burst_limit >= 1,
        "throttling limits >= 1",
    )
    check(
        c.account_concurrency_limit is None or c.account_concurrency_limit >= 1,
        "accountConcurrencyLimit >= 1 (make deploy reads it from the account)",
    )
    check(
        c.account_unreserved_concurrency is None or c.account_unreserved_concurrency >= 0,
        "accountUnreservedConcurrency >= 0 (make deploy reads it from the account)",
    )
    check(
        c.alarm_email is None or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", c.alarm_email)),
        f"alarmEmail {c.alarm_email!r}: an email address",
    )
    for name in ("alarm_api5xx_percent", "alarm_api4xx_percent", "alarm_duration_percent", "alarm_concurrency_percent"):
        check(0 < getattr(c, name) <= 100, f"{camel_case(name)}: a percentage, more than 0 and at most 100")
    check(0 < c.alarm_db_cpu_percent <= 100, "alarmDbCpuPercent: a percentage, more than 0 and at most 100")
    counts = ("alarm_api_latency_p99_ms", "alarm_function_errors", "alarm_function_throttles", "alarm_db_connections")
    for name in counts:
        check(getattr(c, name) >= 1, f"{camel_case(name)} >= 1")
    check(c.alarm_db_freeable_memory_mb >= 0, "alarmDbFreeableMemoryMb >= 0")
    check(
        c.github_repository is None or bool(re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", c.github_repository)),
        f"githubRepository {c.github_repository!r}: owner/name",
    )
    check(
        all(re.fullmatch(_STAGE_NAME, s) for s in c.deploy_stages),
        "deployStages: stage names (a-z, 0-9, -)",
    )
    check(
        c.github_oidc_provider_arn is None or ":oidc-provider/" in c.github_oidc_provider_arn,
        "githubOidcProviderArn: arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    )
    check(bool(re.fullmatch(r"[a-z0-9]{1,10}", c.cdk_qualifier)), "cdkQualifier: the CDK bootstrap qualifier")
    problems += _auth_problems(c) + _background_problems(c)
    check(c.lambda_file.is_file(), f"lambdaFile {c.lambda_file} does not exist")
    return problems


def _background_problems(c: Config) -> list[str]:
    problems = []
    if c.alarm_dead_letter_messages < 1:
        problems.append("alarmDeadLetterMessages >= 1")
    if c.queue_concurrency is not None and not 2 <= c.queue_concurrency <= 1000:
        problems.append("queueConcurrency: 2..1000 (the maximum concurrency of an SQS event source mapping)")
    return problems


def _graphql_problems(c: Config) -> list[str]:
    """AppSync's ranges for its cost limits (QueryDepthLimit, ResolverCountLimit)."""
    problems = []
    if not 1 <= c.graphql_query_depth_limit <= 75:
        problems.append("graphqlQueryDepthLimit: 1..75 (AppSync's range)")
    if not 1 <= c.graphql_resolver_count_limit <= 10000:
        problems.append("graphqlResolverCountLimit: 1..10000 (AppSync's range)")
    return problems


def _layer_in_region(arn: str, region: str | None) -> bool:
    """A layer ARN, in the stack's region when it has one (Lambda attaches layers of the function's region only)."""
    match = re.fullmatch(_LAYER_ARN, arn)
    return bool(match) and (region is None or match.group(1) == region)


# The refusal `make synth` prints for a public production stage; one line that says how to proceed.
PUBLIC_PROD = (
    "stage {stage} would deploy a public API (auth=none): set auth (AUTH=cognito, iam or jwt), or declare"
    " the API public on purpose with publicApi=true (PUBLIC_API=true)"
)


def _auth_problems(c: Config) -> list[str]:
    """The authorization settings fit together, and a production stage is never public by accident."""
    from lambdakit.routemodel import AUTH_MODES

    if c.auth not in AUTH_MODES:
        return [f"auth: one of {', '.join(AUTH_MODES)}"]
    problems = []
    if c.stage == "prod" and c.auth == "none" and not c.public_api:
        problems.append(PUBLIC_PROD.format(stage=c.stage))
    if c.cognito_user_pool_arn and not re.fullmatch(
        r"arn:aws[\w-]*:cognito-idp:[\w-]+:\d{12}:userpool/[\w-]+", c.cognito_user_pool_arn
    ):
        problems.append("cognitoUserPoolArn: arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>")
    if c.auth == "jwt":
        if c.api_type != "http":
            problems.append("auth=jwt needs apiType=http (a REST API has no JWT authorizer; use auth=cognito)")
        if not (c.jwt_issuer and c.jwt_issuer.startswith("https://")):
            problems.append("auth=jwt needs jwtIssuer, the https:// URL of your OpenID Connect issuer")
        if not c.jwt_audience:
            problems.append("auth=jwt needs jwtAudience, the client id(s) your tokens are issued for")
    if c.auth == "cognito" and c.api_type == "http" and c.cognito_user_pool_arn and not c.jwt_audience:
        problems.append("auth=cognito with apiType=http and your own pool needs jwtAudience (its app client ids)")
    if c.api_keys and c.api_type != "rest":
        problems.append("apiKeys needs apiType=rest (HTTP APIs have no API keys or usage plans)")
    return problems
