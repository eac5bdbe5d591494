"""Stack configuration: the connect budget must fit inside the function's timeout."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, load_config


def _load(context: dict, environ: dict | None = None):
    return load_config(context.get, environ or {})


def test_a_connect_retry_budget_that_fits_the_timeout_is_passed_on():
    config = _load({"timeoutSeconds": 28, "dbConnectRetrySeconds": 18})
    assert config.db_connect_retry_seconds == 18


def test_a_connect_budget_longer_than_the_function_timeout_is_refused():
    with pytest.raises(
        ConfigError, match=r"timeouts do not fit.*set timeoutSeconds >= 25 or a shorter dbConnectRetrySeconds"
    ):
        _load({"timeoutSeconds": 10, "dbConnectRetrySeconds": 15})


def test_a_statement_timeout_that_leaves_no_time_to_answer_504_is_refused_with_the_fix():
    # The old defaults: a 10 s statement in a 10 s function could never be answered with a 504.
    with pytest.raises(ConfigError, match=r"timeouts do not fit.*timeoutSeconds >= 16 or dbStatementTimeoutMs <= 4000"):
        _load({"timeoutSeconds": 10, "dbStatementTimeoutMs": 10000})
    with pytest.raises(ConfigError, match="dbStatementTimeoutMs is required"):
        _load({"dbStatementTimeoutMs": "none"})


def test_the_default_timeouts_fit_together():
    config = _load({})
    statement = config.db_statement_timeout_ms / 1000
    assert config.db_connect_timeout + config.db_connect_retry_seconds + statement + 1 <= config.timeout_seconds


def test_alarm_thresholds_come_from_context_and_the_environment_wins():
    context = {"alarmApi5xxPercent": 5, "alarmEmail": "ops@example.com"}
    config = _load(context, {"STACK_ALARM_API_LATENCY_P99_MS": "3000"})
    assert (config.alarm_api5xx_percent, config.alarm_api_latency_p99_ms) == (5.0, 3000)
    assert config.alarm_email == "ops@example.com"


def test_alarm_settings_that_cannot_work_are_refused_together():
    with pytest.raises(ConfigError) as raised:
        _load({"alarmEmail": "not-an-address", "alarmApi4xxPercent": 0, "alarmFunctionErrors": 0})
    message = str(raised.value)
    assert "alarmEmail" in message and "alarmApi4xxPercent" in message and "alarmFunctionErrors" in message


def test_a_prod_stage_without_auth_is_refused_in_one_line_that_says_how():
    with pytest.raises(ConfigError) as refused:
        _load({"auth": "none"}, {"STACK_STAGE": "prod"})
    (line,) = [problem for problem in str(refused.value).splitlines() if "public" in problem]
    assert "set auth (AUTH=cognito, iam or jwt)" in line and "publicApi=true (PUBLIC_API=true)" in line


def test_a_prod_stage_may_be_public_when_the_stack_says_so():
    assert _load({"auth": "none", "publicApi": True}, {"STACK_STAGE": "prod"}).auth == "none"
    assert _load({"auth": "none"}, {"STACK_STAGE": "prod", "STACK_PUBLIC_API": "true"}).public_api is True
    assert _load({"auth": "none"}, {"STACK_STAGE": "dev"}).auth == "none"


def test_auth_comes_from_context_or_the_environment_and_is_checked():
    assert _load({"auth": "cognito"}, {"STACK_AUTH": "iam"}).auth == "iam"
    with pytest.raises(ConfigError, match="auth: one of none, iam, cognito, jwt"):
        _load({"auth": "oauth"})


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"auth": "jwt", "jwtIssuer": "https://id.example", "jwtAudience": "app"}, "auth=jwt needs apiType=http"),
        ({"auth": "jwt", "apiType": "http", "jwtAudience": "app"}, "auth=jwt needs jwtIssuer"),
        ({"auth": "jwt", "apiType": "http", "jwtIssuer": "https://id.example"}, "auth=jwt needs jwtAudience"),
        ({"auth": "iam", "apiType": "http", "apiKeys": True}, "apiKeys needs apiType=rest"),
        ({"auth": "cognito", "cognitoUserPoolArn": "pool-1"}, "cognitoUserPoolArn: arn:aws:cognito-idp"),
        (
            {
                "auth": "cognito",
                "apiType": "http",
                "cognitoUserPoolArn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
            },
            "needs jwtAudience",
        ),
    ],
)
def test_authorization_settings_that_cannot_work_together_are_refused(context, message):
    with pytest.raises(ConfigError, match=message):
        _load(context)


def test_every_setting_is_named_from_its_field_once_context_key_and_stack_variable():
    from dataclasses import fields

    from infra.config import Config, settings

    known = settings()
    assert len(known) == len(fields(Config)) - 1  # every field but the list of problems
    for key, setting in known.items():
        assert key == setting.key and setting.variable == "STACK_" + setting.name.upper()
    assert known["dbMaxConnections"].variable == "STACK_DB_MAX_CONNECTIONS"
    assert known["alarmApi5xxPercent"].name == "alarm_api5xx_percent"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("STACK_DB_MAX_CONNECTIONS", "120", "db_max_connections", 120),
        ("STACK_RESERVED_CONCURRENCY", "off", "reserved_concurrency", "off"),
        ("STACK_PARAMS_AND_SECRETS", "false", "params_and_secrets", False),
        ("STACK_PRIVATE_SUBNET_IDS", "subnet-a, subnet-b", "private_subnet_ids", ("subnet-a", "subnet-b")),
        ("STACK_DB_CONNECT_RETRY_SECONDS", "2.5", "db_connect_retry_seconds", 2.5),
        ("STACK_API_GATEWAY_CLOUD_WATCH_ROLE", "", "api_gateway_cloud_watch_role", None),
    ],
)
def test_each_value_is_read_by_the_type_of_its_field(variable, value, field, expected):
    assert getattr(load_config({}.get, {variable: value}, strict=False), field) == expected


def test_a_value_of_the_wrong_type_is_refused_naming_the_setting_and_what_it_takes():
    with pytest.raises(ConfigError) as refused:
        _load({"apiType": "graphql", "memorySize": "lots", "snapStart": "maybe"})
    message = str(refused.value)
    assert "apiType='graphql': expected one of rest, http" in message
    assert "memorySize='lots': expected an integer" in message
    assert "snapStart='maybe': expected true or false" in message


def test_the_functions_own_variables_in_the_environment_do_not_configure_the_stack():
    runtime = {"AUTH": "iam", "DB_HOST": "elsewhere", "TRACING": "true", "STAGE": "prod", "API_TYPE": "http"}
    config = _load({"auth": "cognito"}, runtime)
    assert (config.auth, config.db_host, config.tracing, config.stage, config.api_type) == (
        "cognito",
        None,
        False,
        "dev",
        "rest",
    )


def test_the_cli_default_region_counts_only_with_the_account_the_cli_found():
    assert _load({}, {"CDK_DEFAULT_REGION": "us-east-1"}).region is None
    cli = {"CDK_DEFAULT_REGION": "eu-west-1", "CDK_DEFAULT_ACCOUNT": "123456789012"}
    with_account = load_config({}.get, cli, strict=False)
    assert (with_account.account, with_account.region) == ("123456789012", "eu-west-1")
