"""GraphQL: an AppSync API from src/schema.graphql with one Lambda resolver per scanned field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aws_cdk import Annotations, CfnOutput, Expiration, Stack
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.auth import UserPool
from infra.config import Config
from infra.graphql_auth import api_modes, check_schema_access, deployable_schema
from infra.log_groups import retained_log_group
from infra.nag import acknowledge, acknowledge_checkov
from infra.routes import GraphqlRoute, RouteError


def schema_fields(schema: str) -> dict[str, set[str]]:
    """Field names per object type of an SDL schema (enough to check routes against it)."""
    text = re.sub(r'"""(?:.|\n)*?"""|"(?:\\.|[^"\\])*"', "", schema)
    text = re.sub(r"#[^\n]*", "", text)
    while re.search(r"\([^()]*\)", text):
        # Arguments may hold `name: Type` pairs that would read as fields.
        text = re.sub(r"\([^()]*\)", "", text)
    fields: dict[str, set[str]] = {}
    for match in re.finditer(r"\b(?:extend\s+)?type\s+(\w+)[^{]*\{([^}]*)\}", text):
        names = re.findall(r"^\s*(\w+)\s*:", match.group(2), flags=re.MULTILINE)
        fields.setdefault(match.group(1), set()).update(names)
    return fields


def check_routes_in_schema(routes: Sequence[GraphqlRoute], schema_file: Path) -> None:
    """A resolver for a field the schema lacks would fail at deploy; fail at synth instead."""
    if not routes:
        return
    try:
        fields = schema_fields(schema_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RouteError(f"{routes[0].where}: @graphql routes need {schema_file} ({exc.strerror})") from exc
    for route in routes:
        if route.field not in fields.get(route.type_name, set()):
            raise RouteError(
                f"{route.where}: {route.type_name}.{route.field} on {route.function}() is not in {schema_file}"
            )


class GraphqlApi(Construct):
    """AppSync API whose resolvers all invoke the function directly (no mapping templates)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        routes: Sequence[GraphqlRoute],
        function: lambda_.IFunction,
        pool: UserPool | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        sdl = config.schema_file.read_text(encoding="utf-8")
        check_schema_access(routes, sdl, config.schema_file.name)
        default, offered = api_modes(config.auth, sdl, user_pool=pool is not None, oidc=bool(config.jwt_issuer))
        modes = {mode: _mode(mode, config, pool) for mode in offered}
        api = appsync.GraphqlApi(
            self,
            "Api",
            name=config.stack_name,
            definition=appsync.Definition.from_file(str(config.schema_file)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=modes.pop(default),
                additional_authorization_modes=[modes[mode] for mode in sorted(modes)] or None,
            ),
            xray_enabled=True,
            # What one request may cost: AppSync invokes the function once per resolved field.
            query_depth_limit=config.graphql_query_depth_limit,
            resolver_count_limit=config.graphql_resolver_count_limit,
        )
        deployed, left_out = deployable_schema(sdl, offered)
        if left_out:
            # AppSync refuses a directive for a mode the API lacks; the function still checks the groups.
            schema = next(c for c in api.node.children if isinstance(c, appsync.CfnGraphQLSchema))
            schema.definition = deployed
            Annotations.of(self).add_warning_v2(
                "infra:graphql-auth",
                f"auth={config.auth}: the API has no {', '.join(left_out)} mode, so schema.graphql's directives"
                " for it are left out of the deployed schema; the function enforces the routes' groups",
            )
        # AppSync writes here; created by us so it has a retention and goes away with the stack.
        # (The L2 `log_config` would add a log-retention custom resource with a wildcard role.)
        log_group = retained_log_group(self, "Logs", config, f"/aws/appsync/apis/{api.api_id}")
        log_role = iam.Role(
            self,
            "LogRole",
            assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"),
            description=f"{config.stack_name} AppSync: write to its own log group only",
        )
        log_group.grant_write(log_role)
        cfn_api = api.node.default_child
        cfn_api.log_config = appsync.CfnGraphQLApi.LogConfigProperty(  # type: ignore[union-attr]
            cloud_watch_logs_role_arn=log_role.role_arn, field_log_level="ERROR"
        )
        source = api.add_lambda_data_source("Function", function)
        for route in routes:
            source.create_resolver(
                f"{route.type_name}{route.field[0].upper()}{route.field[1:]}Resolver",
                type_name=route.type_name,
                field_name=route.field,
            )
        self.api = api
        self.url = api.graphql_url
        acknowledge_checkov(
            api,
            "CKV2_AWS_33",
            "AWS WAF costs a fixed monthly fee per web ACL; AppSync's authorization modes and its query depth and"
            " resolver count limits are the default protection, attach a web ACL for internet-facing use.",
        )
        if "API_KEY" in offered:
            # The key is how callers reach an API_KEY-mode API at all (auth=none): it is the URL's companion,
            # not a secret, and anyone who may read the stack may also list it in the AppSync console.
            CfnOutput(Stack.of(self), "GraphqlApiKey", value=api.api_key or "")
        acknowledge(
            source,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(function)}.Arn>:*]",
            "CDK grants the data source the function and its versions/aliases (`arn:*`); only this"
            " one function can be invoked, through any of its qualifiers.",
        )


def _mode(mode: str, config: Config, pool: UserPool | None) -> appsync.AuthorizationMode:
    """One AppSync authorization mode, pointed at the stack's pool or issuer."""
    if mode == "AMAZON_COGNITO_USER_POOLS" and pool is not None:
        return appsync.AuthorizationMode(
            authorization_type=appsync.AuthorizationType.USER_POOL,
            # ALLOW: AppSync requires it with additional modes; fields still follow their directives.
            user_pool_config=appsync.UserPoolConfig(
                user_pool=pool.pool, default_action=appsync.UserPoolDefaultAction.ALLOW
            ),
        )
    if mode == "OPENID_CONNECT":
        return appsync.AuthorizationMode(
            authorization_type=appsync.AuthorizationType.OIDC,
            open_id_connect_config=appsync.OpenIdConnectConfig(
                oidc_provider=str(config.jwt_issuer),
                client_id=config.jwt_audience[0] if config.jwt_audience else None,
            ),
        )
    if mode == "API_KEY":
        return appsync.AuthorizationMode(
            authorization_type=appsync.AuthorizationType.API_KEY,
            api_key_config=appsync.ApiKeyConfig(
                description=f"{config.stack_name}: renewed for {API_KEY_DAYS} days by each deploy",
                expires=Expiration.at_timestamp(api_key_expiry(datetime.now(UTC).date())),
            ),
        )
    return appsync.AuthorizationMode(authorization_type=appsync.AuthorizationType.IAM)


# AppSync's longest API key life; without an expiry a key lasts 7 days, after which GraphQL stops answering.
API_KEY_DAYS = 365


def api_key_expiry(today: date) -> int:
    """The API key's expiry in epoch milliseconds: API_KEY_DAYS after the start of `today` (UTC).

    A deploy is never earlier than its synth, so the key lives at most API_KEY_DAYS from the deploy, as
    AppSync requires; starting from midnight keeps every synth of one day identical.
    """
    start = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return int((start + timedelta(days=API_KEY_DAYS)).timestamp() * 1000)


def _logical_id(function: lambda_.IFunction) -> str:
    """How cdk-nag names the function in a finding (its CloudFormation logical id)."""
    return Stack.of(function).resolve(Stack.of(function).get_logical_id(function.node.default_child))
