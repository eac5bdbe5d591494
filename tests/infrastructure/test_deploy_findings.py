"""What the review of the synthesized templates found would fail a first deploy or break at runtime, each on a
real synth: the test that would have caught it, and the deploy check's verdict on the template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from infra_support import ACCOUNT, BYO_CONTEXT, ROOT, project_context, synth, write_module

from infra.config import ConfigError
from infra.deploy_check import duplicate_security_group_rules

SUBNETS = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
}
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def function(s) -> dict:
    return s.one("AWS::Lambda::Function")["Properties"]


def statements(s, role_fragment: str) -> list[dict]:
    """The policy statements attached to roles whose logical id contains `role_fragment`."""
    found = []
    for policy in s.resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role_fragment in roles:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


@pytest.fixture(scope="module")
def proxied_cluster(tmp_path_factory):
    """createDatabase + rdsProxy, the secret read by the proxy (no IAM authentication)."""
    directory = tmp_path_factory.mktemp("proxied-cluster")
    write_module(directory)
    return synth(directory, {"createDatabase": True, "rdsProxy": True, **SUBNETS, **ACCOUNT})


@pytest.fixture(scope="module")
def proxied_own_database(tmp_path_factory):
    """Your own cluster (its security group given) behind an RDS Proxy, its secret under your own KMS key."""
    directory = tmp_path_factory.mktemp("proxied-own")
    write_module(directory)
    context = {
        **BYO_CONTEXT,
        **ACCOUNT,
        "rdsProxy": True,
        "dbClusterIdentifier": "students",
        "dbSecretKmsKeyArn": KEY_ARN,
    }
    return synth(directory, context)


@pytest.fixture(scope="module")
def public_with_cors(tmp_path_factory):
    """auth=none (so AppSync answers with an API key), one browser origin, the default REST API."""
    directory = tmp_path_factory.mktemp("public-cors")
    write_module(directory)
    return synth(directory, {**BYO_CONTEXT, **ACCOUNT, "auth": "none", "corsOrigins": ["https://app.example"]})


# 1. rdsProxy + createDatabase: the proxy's rule on the cluster's group written twice -------------------------
@pytest.mark.parametrize("fixture", ["proxied_cluster", "proxied_own_database"])
def test_the_proxy_is_admitted_to_the_database_once_and_the_deploy_check_agrees(fixture, request):
    s = request.getfixturevalue(fixture)
    assert duplicate_security_group_rules(s.template["Resources"]) == []
    proxy_group = next(k for k, g in s.resources("AWS::EC2::SecurityGroup").items() if "Proxy" in k)
    from_proxy = [
        r["Properties"]
        for r in s.resources("AWS::EC2::SecurityGroupIngress").values()
        if proxy_group in json.dumps(r["Properties"].get("SourceSecurityGroupId"))
    ]
    assert len(from_proxy) == 1
    assert s.findings == []


# 2. the Parameters and Secrets extension where AWS publishes no layer (CDK's table) --------------------------
def test_in_a_region_without_the_extension_the_function_reads_its_secret_with_boto3_and_says_so(tmp_path):
    write_module(tmp_path)
    s = synth(tmp_path, {**BYO_CONTEXT, "account": "123456789012", "region": "ca-west-1"})
    assert "Layers" not in function(s) and "DB_SECRET_ARN" in function(s)["Environment"]["Variables"]
    assert any("no Parameters and Secrets extension layer known for x86_64 in ca-west-1" in w for w in s.warnings)
    assert s.findings == []
    arm = synth(tmp_path, {**BYO_CONTEXT, "account": "123456789012", "region": "eu-central-2", "architecture": "arm64"})
    assert "Layers" not in function(arm)


def test_asking_for_the_extension_where_cdk_knows_no_layer_is_refused_naming_the_setting(tmp_path):
    write_module(tmp_path)
    with pytest.raises(ConfigError, match=r"^paramsAndSecrets=true: .* in ca-west-1; give the layer's ARN"):
        synth(tmp_path, {**BYO_CONTEXT, "region": "ca-west-1", "paramsAndSecrets": True})
    layer = "arn:aws:lambda:ca-west-1:123456789012:layer:AWS-Parameters-and-Secrets-Lambda-Extension:12"
    given = synth(tmp_path, {**BYO_CONTEXT, "region": "ca-west-1", "paramsAndSecretsLayerArn": layer})
    assert function(given)["Layers"] == [layer]


def test_make_synth_for_such_a_region_ends_in_one_line_not_a_jsii_trace(tmp_path):
    src = write_module(tmp_path).parent
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path / "out"),
        "CDK_CONTEXT_JSON": json.dumps(project_context(src)),
        "STACK_REGION": "ca-west-1",
        "STACK_PARAMS_AND_SECRETS": "true",
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "paramsAndSecrets=true" in line and "Traceback" not in result.stderr and "jsii" not in result.stderr


def test_a_deployable_template_without_a_region_is_refused_where_its_lookups_have_gaps(tmp_path):
    src = write_module(tmp_path).parent
    s = synth(tmp_path, BYO_CONTEXT)  # real subnets and database, no account and no region
    (finding,) = s.findings
    assert finding.blocking and finding.rule == "region-mapping" and "ca-west-1" in finding.message
    # app.py (make synth, make deploy) stops on it, in one line naming the setting.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path / "app-out"),
        "CDK_CONTEXT_JSON": json.dumps({**project_context(src), **BYO_CONTEXT}),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: deploy check: region-mapping: paramsAndSecrets")


# 3. createDatabase's reservation on a new account: tests/infrastructure/test_preflight.py --------------------


# 4. REST CORS preflight with `*/*` as a binary media type -----------------------------------------------------
def test_every_cors_preflight_mock_converts_the_request_to_text_so_its_template_applies(public_with_cors):
    body = public_with_cors.one("AWS::ApiGateway::RestApi")["Properties"]["Body"]
    assert body["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    mocks = [
        op["x-amazon-apigateway-integration"] for item in body["paths"].values() for op in [item.get("options")] if op
    ]
    assert mocks and all(m["type"] == "mock" and m["contentHandling"] == "CONVERT_TO_TEXT" for m in mocks)


# 5. AppSync's API key with auth=none ---------------------------------------------------------------------------
def test_the_appsync_api_key_lives_a_year_from_the_deploy_and_is_an_output(public_with_cors):
    key = public_with_cors.one("AWS::AppSync::ApiKey")["Properties"]
    expires = datetime.fromtimestamp(key["Expires"], UTC)
    assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)
    output = public_with_cors.template["Outputs"]["GraphqlApiKey"]["Value"]
    assert output["Fn::GetAtt"][1] == "ApiKey"


# 6. a secret under your own KMS key --------------------------------------------------------------------------
def test_the_function_and_the_proxy_may_decrypt_a_secret_under_your_own_key(
    proxied_own_database,
):
    for role in ("FunctionRole", "ProxyIAMRole"):
        (decrypt,) = [s for s in statements(proxied_own_database, role) if "kms:Decrypt" in json.dumps(s["Action"])]
        assert decrypt["Resource"] == KEY_ARN, role
    (function_decrypt,) = [
        s for s in statements(proxied_own_database, "FunctionRole") if "kms:Decrypt" in json.dumps(s["Action"])
    ]
    assert function_decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


def test_a_key_arn_that_is_no_kms_key_is_refused(tmp_path):
    write_module(tmp_path)
    with pytest.raises(ConfigError, match="dbSecretKmsKeyArn: arn:aws:kms"):
        synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT, "dbSecretKmsKeyArn": "alias/mine"})


# 7. API Gateway's account-wide role, and the execution log group API Gateway would create --------------------
def test_the_account_wide_logging_role_is_created_only_when_asked(public_with_cors, tmp_path):
    assert public_with_cors.resources("AWS::ApiGateway::Account") == {}
    write_module(tmp_path)
    asked = synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT, "apiGatewayCloudWatchRole": True})
    assert asked.one("AWS::ApiGateway::Account") and asked.findings == []


def test_the_execution_log_group_exists_before_the_stage_with_the_stages_retention(public_with_cors):
    s = public_with_cors
    (api_id,) = s.resources("AWS::ApiGateway::RestApi")
    groups = {
        k: g["Properties"]
        for k, g in s.resources("AWS::Logs::LogGroup").items()
        if "API-Gateway-Execution-Logs_" in json.dumps(g["Properties"].get("LogGroupName"))
    }
    ((group_id, group),) = groups.items()
    assert group["LogGroupName"] == {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": api_id}, "/dev"]]}
    assert group["RetentionInDays"] == 30
    (stage,) = s.resources("AWS::ApiGateway::Stage").values()
    assert group_id in stage["DependsOn"]
    assert s.findings == []


# 8. `Authorization: Bearer <token>` or the bare token: AWS documents the token as the header's value -------
@pytest.mark.parametrize("value", ["eyJraWQ.token", "Bearer eyJraWQ.token", "bearer  eyJraWQ.token "])
def test_the_local_server_takes_the_token_in_either_form_so_the_documented_bare_form_works_everywhere(value):
    from local.auth import bearer_token

    assert bearer_token({"authorization": value}) == "eyJraWQ.token"


# 9. names a second region or stage would collide with --------------------------------------------------------
def test_the_dashboard_is_named_for_its_region_because_dashboards_are_account_wide(public_with_cors):
    dashboard = public_with_cors.one("AWS::CloudWatch::Dashboard")["Properties"]
    assert dashboard["DashboardName"] == "students-api-dev-eu-west-1"


# Found on the way: a database named by its identifier failed synth in the alarms (cdk-monitoring-constructs
# reads the cluster or instance object, not its identifier).
@pytest.mark.parametrize("named", [{"dbClusterIdentifier": "students"}, {"dbInstanceIdentifier": "students"}])
def test_your_database_named_by_its_identifier_gets_its_alarms_with_or_without_a_proxy(named, tmp_path):
    write_module(tmp_path)
    for proxy in (False, True):
        s = synth(tmp_path, {**BYO_CONTEXT, **ACCOUNT, **named, "rdsProxy": proxy})
        cpu = [
            a["Properties"]
            for a in s.resources("AWS::CloudWatch::Alarm").values()
            if "CPU" in a["Properties"]["AlarmName"]
        ]
        assert [a["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for a in cpu] == ["students"]
        assert s.findings == []
