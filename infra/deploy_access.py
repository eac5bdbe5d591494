"""The one-time stack that lets GitHub Actions deploy: GitHub's OIDC provider and one role per stage.

`make deploy-access GITHUB_REPOSITORY=owner/name` deploys it once per account (its own small CDK app,
so `make deploy` keeps exactly one stack). A workflow job that runs in the GitHub environment named
after a stage may assume that stage's role with a short-lived token, no stored keys. The role can do
what `make deploy` and `make migrate` need and nothing else: assume the CDK bootstrap roles of this
account and region (which hold the deploy permissions), read its stage's stack outputs and invoke its
stage's function.
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from aws_cdk import ArnFormat, Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import Config, ConfigError, load_config
from infra.nag import acknowledge, add_checks

GITHUB_OIDC = "token.actions.githubusercontent.com"
_OWN_SETTINGS = (
    "githubRepository",
    "deployStages",
    "githubOidcProviderArn",
    "cdkQualifier",
    "serviceName",
    "account",
    "region",
)
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")


class DeployAccessStack(cdk.Stack):
    """GitHub's OIDC provider (or the account's existing one) and a deploy role per stage."""

    def __init__(self, scope: Construct, construct_id: str, *, config: Config) -> None:
        env = cdk.Environment(account=config.account, region=config.region) if config.account else None
        super().__init__(
            scope, construct_id, env=env, description=f"{config.service_name}: GitHub Actions deploy roles (OIDC)"
        )
        if config.github_oidc_provider_arn:
            provider = iam.OidcProviderNative.from_oidc_provider_arn(
                self, "GitHubOidc", config.github_oidc_provider_arn
            )
        else:
            # An account has one provider per URL: give githubOidcProviderArn when it already exists.
            provider = iam.OidcProviderNative(
                self, "GitHubOidc", url=f"https://{GITHUB_OIDC}", client_ids=["sts.amazonaws.com"]
            )
        self.roles = {stage: self._role(config, provider, stage) for stage in config.deploy_stages}

    def _role(self, config: Config, provider: iam.IOidcProvider, stage: str) -> iam.Role:
        stack_name = f"{config.service_name}-{stage}"
        # No role name: IAM names are unique in the whole account, and this stack is deployed once per region.
        # CloudFormation names the role; its ARN is an output, the value of the GitHub variable.
        role = iam.Role(
            self,
            f"DeployRole{stage.title().replace('-', '')}",
            description=f"GitHub Actions ({config.github_repository}, environment {stage}) deploys {stack_name}",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.WebIdentityPrincipal(
                provider.oidc_provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
                        # Only jobs that run in this stage's GitHub environment (with its protection rules).
                        f"{GITHUB_OIDC}:sub": f"repo:{config.github_repository}:environment:{stage}",
                    }
                },
            ),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[
                    self.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name=f"cdk-{config.cdk_qualifier}-{name}-{self.account}-{self.region}",
                    )
                    for name in BOOTSTRAP_ROLES
                ],
            )
        )
        # `make migrate STAGE=...` after the deploy: find the function in the stack's outputs, invoke it.
        stack_arn = self.format_arn(service="cloudformation", resource="stack", resource_name=f"{stack_name}/*")
        function_arn = self.format_arn(
            service="lambda",
            resource="function",
            resource_name=f"{stack_name}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # `make deploy`'s preflight (infra/preflight.py): the stack's outputs and resources, the function's
        # reserved concurrency, the account's Lambda quota and API Gateway's logging role.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStacks", "cloudformation:ListStackResources"], resources=[stack_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction", "lambda:GetFunctionConcurrency"], resources=[function_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["apigateway:GET"],
                resources=[self.format_arn(service="apigateway", account="", resource="/account")],
            )
        )
        # GetAccountSettings reads the account's own quota: it has no resource to scope it to.
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:GetAccountSettings"], resources=["*"]))
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "lambda:GetAccountSettings reads the account's concurrency quota and supports no resource-level"
            " permissions; it is read-only and names nothing of any stack.",
        )
        for arn in (stack_arn, function_arn):
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                f"AwsSolutions-IAM5[Resource::{self._as_nag_names_it(arn)}]",
                "The stage's stack id and its function's generated name end in a suffix CloudFormation"
                " chooses; the wildcard covers exactly that suffix of this stage's stack and function.",
            )
        cdk.CfnOutput(self, f"DeployRoleArn{stage.title().replace('-', '')}", value=role.role_arn)
        return role

    def _as_nag_names_it(self, arn: str) -> str:
        """The ARN as cdk-nag prints it in a finding: pseudo parameters as `<AWS::Region>`."""
        resolved = self.resolve(arn)
        if isinstance(resolved, str):
            return resolved
        return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in resolved["Fn::Join"][1])


def build_app(app: cdk.App, environ: dict[str, str]) -> DeployAccessStack:
    """The stack for the configuration in `app`'s context and `environ` (tests synthesize it in-process)."""
    # Only the settings this stack reads must be valid (the API's database or VPC do not matter here).
    config = load_config(app.node.try_get_context, environ, strict=False)
    problems = [p for p in config.problems if p.startswith(_OWN_SETTINGS)]
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    if not config.github_repository:
        raise ConfigError("githubRepository is required: make deploy-access GITHUB_REPOSITORY=owner/name")
    stack = DeployAccessStack(app, f"{config.service_name}-github-deploy", config=config)
    add_checks(app)
    return stack


def main() -> int:
    """`cdk --app "python -m infra.deploy_access"`: synthesize the deploy-access stack."""
    app = cdk.App()
    try:
        build_app(app, dict(os.environ))
    except ConfigError as error:
        sys.exit(f"error: {error}")
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
