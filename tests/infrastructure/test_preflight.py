"""`make deploy`'s preflight against moto: the account's Lambda quota before any reserved concurrency.

moto keeps functions and their reservations but does not answer GetAccountSettings; the tests answer it
from moto's own state through botocore's before-call hook, as Lambda would: the quota minus every
function's reservation.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from infra_support import ACCOUNT, BYO_CONTEXT, synth, write_module

from infra.budget import UNRESERVED_MINIMUM, QuotaError, fit_to_account
from infra.config import load_config
from infra.preflight import AccountFacts, arguments, deploy_access_context, deploy_context, read_account

STACK = "students-api-dev"


def account_with_quota(quota: int):
    """A client factory whose Lambda client answers GetAccountSettings from moto's functions."""
    import boto3

    def answer(**_: Any) -> tuple[Any, dict]:
        lambda_ = boto3.client("lambda")
        reserved = 0
        for function in lambda_.list_functions()["Functions"]:
            concurrency = lambda_.get_function_concurrency(FunctionName=function["FunctionName"])
            reserved += int(concurrency.get("ReservedConcurrentExecutions") or 0)
        limit = {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": quota - reserved}
        from botocore.awsrequest import AWSResponse

        return AWSResponse("", 200, {}, None), {"AccountLimit": limit, "AccountUsage": {}}

    def client(service: str) -> Any:
        made = boto3.client(service)
        if service == "lambda":
            made.meta.events.register("before-call.lambda.GetAccountSettings", answer)
        return made

    return client


def function(name: str, reserved: int | None = None) -> str:
    import boto3

    role = boto3.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("lambda_function.py", "def handler(event, context):\n    return event\n")
    lambda_ = boto3.client("lambda")
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.handler",
        Code={"ZipFile": code.getvalue()},
    )
    if reserved is not None:
        lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return name


def deployed_stack(function_name: str) -> None:
    """The stage's stack as moto can hold it: its FunctionName output."""
    import boto3

    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"FunctionName": {"Value": function_name}},
    }
    boto3.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(template))


@pytest.fixture
def aws(fake_aws):
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


def test_a_new_account_reports_its_quota_and_nothing_reserved(aws):
    facts = read_account(STACK, account_with_quota(10))
    assert (facts.concurrency_limit, facts.unreserved, facts.logging_role) == (10, 10, False)


def test_what_other_functions_reserve_is_not_free_but_this_stages_own_reservation_is(aws):
    function("someone-elses", reserved=500)
    deployed_stack(function("students-api-dev-fn", reserved=357))
    facts = read_account(STACK, account_with_quota(1000))
    assert facts.unreserved == 1000 - 500 - 357 + 357


def test_api_gateways_logging_role_is_read_from_the_account(aws):
    import boto3

    boto3.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/x"}]
    )
    assert read_account(STACK, account_with_quota(1000)).logging_role is True


def config(**context: Any):
    """Your own database; reserved concurrency derived from the budget unless the test gives it."""
    return load_config({**BYO_CONTEXT, **ACCOUNT, "reservedConcurrency": None, **context}.get, {}, strict=False)


def facts(limit: int = 1000, unreserved: int = 1000, role: bool = False, owned: bool = False) -> AccountFacts:
    return AccountFacts(limit, unreserved, role, owned)


def test_the_context_carries_the_quota_and_asks_for_the_logging_role_only_where_the_region_has_none():
    assert deploy_context(config(), facts()) == {
        "accountConcurrencyLimit": "1000",
        "accountUnreservedConcurrency": "1000",
        "apiGatewayCloudWatchRole": "true",
    }
    assert deploy_context(config(), facts(role=True))["apiGatewayCloudWatchRole"] == "false"
    # The stack that set the role keeps it: dropping it would delete the account setting with the resource.
    assert deploy_context(config(), facts(role=True, owned=True))["apiGatewayCloudWatchRole"] == "true"
    assert "apiGatewayCloudWatchRole" not in deploy_context(config(apiGatewayCloudWatchRole=False), facts())
    assert "apiGatewayCloudWatchRole" not in deploy_context(config(apiType="http"), facts())
    assert arguments({"a": "1", "b": "x y"}) == "-c a=1 -c 'b=x y'"


def test_a_reservation_the_account_can_grant_is_kept():
    assert fit_to_account(config(accountConcurrencyLimit=1000, accountUnreservedConcurrency=1000), 357).value == 357
    assert fit_to_account(config(), 357).value == 357  # no quota known (offline synth): as asked


def test_a_new_accounts_quota_of_10_needs_no_reservation_to_keep_the_budget():
    fitted = fit_to_account(config(accountConcurrencyLimit=10, accountUnreservedConcurrency=10), 357)
    assert fitted.value is None and "limit of 10" in fitted.note


def test_the_budget_is_lowered_to_what_the_account_has_free():
    fitted = fit_to_account(config(accountConcurrencyLimit=1000, accountUnreservedConcurrency=300), 357)
    assert (
        fitted.value == 300 - UNRESERVED_MINIMUM and "lowered from the connection budget of 357 to 200" in fitted.note
    )


def test_an_explicit_reservation_that_does_not_fit_is_refused_in_one_line_naming_the_setting():
    with pytest.raises(QuotaError, match=r"^reservedConcurrency=500 cannot be reserved: .* at most 400 can be"):
        fit_to_account(
            config(reservedConcurrency=500, accountConcurrencyLimit=1000, accountUnreservedConcurrency=500), 500
        )


def test_a_budget_with_nothing_free_is_refused_with_the_ways_out():
    with pytest.raises(QuotaError, match=r"none can be reserved.*rdsProxy=true.*reservedConcurrency=off"):
        fit_to_account(config(accountConcurrencyLimit=1000, accountUnreservedConcurrency=100), 357)


def test_the_stack_reserves_what_the_preflight_found_the_account_can_grant(tmp_path):
    write_module(tmp_path)
    context = {
        **BYO_CONTEXT,
        **ACCOUNT,
        "reservedConcurrency": None,
        "dbMaxConnections": 400,
        "accountConcurrencyLimit": 10,
        "accountUnreservedConcurrency": 10,
    }
    s = synth(tmp_path, context)
    assert "ReservedConcurrentExecutions" not in s.one("AWS::Lambda::Function")["Properties"]
    assert any("no reserved concurrency: the account's limit of 10" in w for w in s.warnings)
    # Without a reservation there is no concurrency alarm to size from it.
    assert not [a for a in s.resources("AWS::CloudWatch::Alarm") if "RunningTasks" in a]


def test_the_github_oidc_provider_of_another_region_is_reused_and_our_own_kept(aws):
    import boto3

    plain = load_config({"githubRepository": "acme/students", **ACCOUNT}.get, {}, strict=False)
    assert deploy_access_context(plain, boto3.client) == {}  # none yet: this stack creates it
    provider = boto3.client("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    assert deploy_access_context(plain, boto3.client) == {"githubOidcProviderArn": provider}
