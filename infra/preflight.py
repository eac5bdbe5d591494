"""What `make deploy` reads from the account before it synthesizes: the settings only the account knows.

- Lambda's concurrency quota (GetAccountSettings) and what this stage's function reserves today
  (GetFunctionConcurrency): the stack then reserves what the account can grant (infra/budget.py), instead
  of a number CloudFormation refuses halfway through the first deploy.
- Whether API Gateway has a CloudWatch Logs role in this region (GetAccount), and whether this stage's stack
  is the one that set it: the account-wide role (AWS::ApiGateway::Account) is created only where the region
  has none, and stays with the stack that created it.
- For `make deploy-access`: GitHub's OIDC provider, of which an account holds one, reused where it exists.

It prints CDK context arguments (`-c key=value`) for the cdk command line. A setting given explicitly
(cdk.json, `make deploy apiGatewayCloudWatchRole=...`) is never overridden.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.aws_ops import OpsError, aws_client, report_aws_error, stack_outputs, use_region_from_environment
from infra.config import Config, project_config

Client = Callable[[str], Any]


@dataclass(frozen=True)
class AccountFacts:
    """What the account says about this stage's deploy."""

    concurrency_limit: int
    # Unreserved concurrency as if this stage's function reserved nothing: its own reservation is reusable.
    unreserved: int
    logging_role: bool
    owns_logging_role: bool


def stack_resources(stack_name: str, client: Client) -> dict[str, str]:
    """Logical id -> type of the stack's resources; empty when the stack is not deployed yet."""
    cloudformation = client("cloudformation")
    found: dict[str, str] = {}
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            found.update({r["LogicalResourceId"]: r["ResourceType"] for r in page["StackResourceSummaries"]})
    except Exception as exc:
        if "does not exist" in str(exc):
            return {}
        raise
    return found


def _own_reservation(stack_name: str, client: Client) -> int:
    """What this stage's function reserves now (0 before the first deploy)."""
    try:
        function_name = stack_outputs(stack_name, client).get("FunctionName")
    except OpsError:  # not deployed yet
        return 0
    if not function_name:
        return 0
    answer = client("lambda").get_function_concurrency(FunctionName=function_name)
    return int(answer.get("ReservedConcurrentExecutions") or 0)


def read_account(stack_name: str, client: Client = aws_client) -> AccountFacts:
    """The quota, this stage's current reservation and API Gateway's logging role, from the account."""
    limit = client("lambda").get_account_settings()["AccountLimit"]
    resources = stack_resources(stack_name, client)
    role = client("apigateway").get_account().get("cloudwatchRoleArn")
    return AccountFacts(
        concurrency_limit=int(limit["ConcurrentExecutions"]),
        unreserved=int(limit["UnreservedConcurrentExecutions"]) + _own_reservation(stack_name, client),
        logging_role=bool(role),
        owns_logging_role="AWS::ApiGateway::Account" in resources.values(),
    )


def deploy_context(config: Config, facts: AccountFacts) -> dict[str, str]:
    """The context `cdk deploy` gets for this account: its quota, and whether to set API Gateway's role."""
    context = {
        "accountConcurrencyLimit": str(facts.concurrency_limit),
        "accountUnreservedConcurrency": str(facts.unreserved),
    }
    if config.api_type == "rest" and config.api_gateway_cloud_watch_role is None:
        # The stage's logs need the role; create it where the region has none, keep it where we made it.
        create = not facts.logging_role or facts.owns_logging_role
        context["apiGatewayCloudWatchRole"] = "true" if create else "false"
    return context


def deploy_access_context(config: Config, client: Client = aws_client) -> dict[str, str]:
    """Reuse the account's GitHub OIDC provider unless this region's deploy-access stack is the one that made it."""
    from infra.deploy_access import GITHUB_OIDC  # late: it loads the CDK, which only this command needs

    if config.github_oidc_provider_arn:
        return {}
    providers = client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    existing = next((p["Arn"] for p in providers if p["Arn"].endswith(f"/{GITHUB_OIDC}")), None)
    if existing is None:
        return {}
    stack = stack_resources(f"{config.service_name}-github-deploy", client)
    if "AWS::IAM::OIDCProvider" in stack.values():
        return {}
    return {"githubOidcProviderArn": existing}


def arguments(context: dict[str, str]) -> str:
    """`-c key=value ...`, quoted for the shell."""
    return " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in context.items())


def main(argv: list[str] | None = None) -> int:
    """Print the context arguments for `cdk deploy` (deploy) or the deploy-access stack (deploy-access)."""
    parser = argparse.ArgumentParser(prog="python -m infra.preflight", description=__doc__)
    parser.add_argument("stack", choices=["deploy", "deploy-access"])
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    use_region_from_environment()
    config = project_config()
    try:
        if args.stack == "deploy-access":
            context = deploy_access_context(config)
        else:
            facts = read_account(f"{config.service_name}-{args.stage}")
            context = deploy_context(config, facts)
            print(
                f"account: {facts.concurrency_limit} concurrent executions, {facts.unreserved} unreserved"
                f" (this stage's own reservation included); API Gateway logging role:"
                f" {'set' if facts.logging_role else 'none'}{' (by this stack)' if facts.owns_logging_role else ''}",
                file=sys.stderr,
            )
    except Exception as exc:
        return report_aws_error(exc)
    print(arguments(context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
