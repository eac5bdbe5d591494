"""Who may call the API: the Cognito user pool (created here or imported), API keys, and what the documents need.

The stack's `auth` is the default of every route; the OpenAPI document carries each operation's
authorizer (lambdakit/openapi.py) and AppSync its modes (infra/graphql.py). This module makes what
those point at: the user pool, with an app client and the groups the routes name, when auth=cognito
(or a pool given by ARN), and the issuer and audience an HTTP API's JWT authorizer checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.config import Config
from infra.nag import acknowledge
from lambdakit.openapi import Access
from lambdakit.routemodel import RouteTable


def declared_groups(routes: RouteTable) -> list[str]:
    """Every group a route names, in first-seen order."""
    return list(dict.fromkeys(group for route in routes for group in route.spec.groups))


class UserPool(Construct):
    """The Cognito user pool callers sign in to, with the app client whose tokens the APIs accept."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config, groups: Iterable[str]) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if config.cognito_user_pool_arn:
            self.pool = cognito.UserPool.from_user_pool_arn(self, "Imported", config.cognito_user_pool_arn)
            self.client_ids: tuple[str, ...] = config.jwt_audience
        else:
            self.pool = self._create(config, groups)
        self.issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"

    def _create(self, config: Config, groups: Iterable[str]) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=config.stack_name,
            # Users are created by an administrator (console, `aws cognito-idp admin-create-user`):
            # an API in front of your database should not let anyone on the internet sign up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True, require_symbols=True
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Users are data: kept when the stack goes, except in dev where stacks come and go.
            removal_policy=RemovalPolicy.DESTROY if config.stage == "dev" else RemovalPolicy.RETAIN,
        )
        client = pool.add_client(
            "Client",
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            # Tokens come from InitiateAuth (SDKs, Amplify, the CLI); no hosted UI or redirect URLs to keep.
            disable_o_auth=True,
        )
        self.client_ids = (client.user_pool_client_id,)
        for group in groups:
            cognito.CfnUserPoolGroup(
                self,
                "Group" + re.sub(r"[^A-Za-z0-9]", "", group.title()),
                user_pool_id=pool.user_pool_id,
                group_name=group,
                description=f"named by groups=[...] on routes of {config.stack_name}",
            )
        CfnOutput(Stack.of(self), "UserPoolId", value=pool.user_pool_id)
        CfnOutput(Stack.of(self), "UserPoolClientId", value=client.user_pool_client_id)
        acknowledge(
            pool,
            "AwsSolutions-COG2",
            "MFA is offered (TOTP) but not required: requiring it blocks every first sign-in of the"
            " template's users; set mfa=REQUIRED in infra/auth.py when your users have authenticators.",
        )
        acknowledge(
            pool,
            "AwsSolutions-COG8",
            "Cognito threat protection (advanced security) needs the Plus feature plan, billed per monthly"
            " active user; the template stays on the Essentials plan and leaves enabling it to you.",
        )
        return pool


def gateway_access(config: Config, pool: UserPool | None) -> Access:
    """What the API Gateway document's security schemes point at, for the stack's `auth`."""
    if config.auth == "jwt":
        return Access("jwt", issuer=config.jwt_issuer, audience=config.jwt_audience)
    if config.auth == "cognito" and pool is not None:
        return Access(
            "cognito",
            user_pool_arns=(pool.pool.user_pool_arn,),
            issuer=pool.issuer,
            audience=pool.client_ids,
            api_keys=config.api_keys,
        )
    return Access(config.auth, api_keys=config.api_keys)
