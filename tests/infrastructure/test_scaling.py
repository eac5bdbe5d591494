"""Synth assertions for scaling: the connection budget, RDS Proxy sizing and IAM auth, the secrets extension,
SnapStart, and a package that must match src/ and the architecture. Each template passes cdk-nag and cfn-lint."""

from __future__ import annotations

import json
import shutil

import pytest
from infra_support import ACCOUNT as ACCOUNT_CONTEXT
from infra_support import BYO_CONTEXT, SCHEMA, synth, write_module
from test_stack import cfn_lint_errors, nag_findings

from infra.build import PYTHON_VERSION, STAMP, StalePackage, source_hash

SUBNETS = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
}


def function(s) -> dict:
    return s.one("AWS::Lambda::Function")["Properties"]


def policy_statements(s) -> list[dict]:
    return [
        st for p in s.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def assert_clean(s) -> None:
    assert nag_findings(s) == []
    assert cfn_lint_errors(s.template_path) == []


@pytest.fixture(scope="module")
def created(tmp_path_factory):
    """createDatabase (0-2 ACUs), direct connections: the budget sets reserved concurrency."""
    directory = tmp_path_factory.mktemp("created-budget")
    write_module(directory)
    return synth(directory, {"createDatabase": True, **SUBNETS, **ACCOUNT_CONTEXT})


def test_a_created_cluster_caps_concurrency_at_its_connection_budget(created):
    # Aurora Serverless v2 at 2 ACUs: 400 connections (AWS's table), minus 3 superuser slots and 40 spare.
    assert function(created)["ReservedConcurrentExecutions"] == 357
    assert not any("infra:no-connection-budget" in w or "budget-below-throttling" in w for w in created.warnings)


def test_the_secret_is_read_through_the_parameters_and_secrets_extension(created):
    props = function(created)
    (layer,) = props["Layers"]
    assert "AWS-Parameters-and-Secrets-Lambda-Extension" in json.dumps(layer)
    assert props["Environment"]["Variables"]["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] == "2773"
    assert "DB_SECRET_ARN" in props["Environment"]["Variables"]
    assert_clean(created)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """createDatabase + rdsProxy with IAM authentication to the proxy."""
    directory = tmp_path_factory.mktemp("proxied")
    write_module(directory)
    return synth(directory, {"createDatabase": True, "rdsProxy": True, "dbIamAuth": True, **SUBNETS, **ACCOUNT_CONTEXT})


def test_with_rds_proxy_the_budget_sizes_the_proxys_pool_instead_of_capping_concurrency(proxied):
    target = proxied.one("AWS::RDS::DBProxyTargetGroup")["Properties"]["ConnectionPoolConfigurationInfo"]
    assert target["MaxConnectionsPercent"] == 89
    assert target["ConnectionBorrowTimeout"] == 5
    assert "ReservedConcurrentExecutions" not in function(proxied)


def test_iam_auth_lets_the_function_connect_to_the_proxy_with_its_role_and_no_secret(proxied):
    proxy = proxied.one("AWS::RDS::DBProxy")["Properties"]
    assert proxy["RequireTLS"] is True and proxy["Auth"][0]["IAMAuth"] == "REQUIRED"
    env = function(proxied)["Environment"]["Variables"]
    assert env["DB_IAM_AUTH"] == "true" and env["DB_USER"] == "app_admin" and "DB_SECRET_ARN" not in env
    actions = [a for st in policy_statements(proxied) for a in json.dumps(st["Action"]).split('"') if ":" in a]
    assert "rds-db:connect" in actions
    assert "Layers" not in function(proxied)  # no secret to read, so no extension either


def test_security_groups_go_function_to_proxy_to_database_only(proxied):
    ingress = [r["Properties"] for r in proxied.resources("AWS::EC2::SecurityGroupIngress").values()]
    groups = proxied.resources("AWS::EC2::SecurityGroup")
    by_description = {g["Properties"]["GroupDescription"].split(":")[0]: gid for gid, g in groups.items()}
    proxy_group = next(gid for d, gid in by_description.items() if "RDS Proxy" in d)
    function_group = next(gid for d, gid in by_description.items() if d.endswith("Lambda"))
    into_proxy = [r for r in ingress if json.dumps(r["GroupId"]).count(proxy_group)]
    assert [json.dumps(r["SourceSecurityGroupId"]) for r in into_proxy] == [
        json.dumps({"Fn::GetAtt": [function_group, "GroupId"]})
    ]
    into_database = [r for r in ingress if not json.dumps(r["GroupId"]).count(proxy_group)]
    assert all(proxy_group in json.dumps(r["SourceSecurityGroupId"]) for r in into_database) and into_database
    assert_clean(proxied)


@pytest.fixture(scope="module")
def snapstart(tmp_path_factory):
    """Your own database, SnapStart on: REST and GraphQL invoke an alias of the published version."""
    directory = tmp_path_factory.mktemp("snapstart")
    write_module(directory)
    return synth(directory, {**BYO_CONTEXT, "snapStart": True, **ACCOUNT_CONTEXT})


def test_snapstart_publishes_a_version_and_the_apis_invoke_its_alias(snapstart):
    assert function(snapstart)["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    ((alias_id, alias),) = snapstart.resources("AWS::Lambda::Alias").items()
    assert alias["Properties"]["Name"] == "live"
    assert snapstart.resources("AWS::Lambda::Version")
    body = json.dumps(snapstart.one("AWS::ApiGateway::RestApi")["Properties"]["Body"])
    assert alias_id in body
    permission = snapstart.one("AWS::Lambda::Permission")["Properties"]
    assert alias_id in json.dumps(permission["FunctionName"])
    source = snapstart.one("AWS::AppSync::DataSource")["Properties"]["LambdaConfig"]["LambdaFunctionArn"]
    assert alias_id in json.dumps(source)
    # SnapStart functions are not given AWS_SESSION_TOKEN, which the extension checks: boto3 reads the secret.
    assert "Layers" not in function(snapstart)
    assert_clean(snapstart)


def test_a_budget_below_the_apis_burst_limit_is_a_synth_warning(tmp_path):
    write_module(tmp_path)
    s = synth(tmp_path, {**BYO_CONTEXT, "reservedConcurrency": None, "dbMaxConnections": 100, **ACCOUNT_CONTEXT})
    assert function(s)["ReservedConcurrentExecutions"] == 87
    assert any("reserved concurrency 87" in w and "burst limit of 100" in w for w in s.warnings), s.warnings


def test_your_own_database_without_a_budget_is_a_synth_warning_and_off_means_no_cap(tmp_path):
    write_module(tmp_path, schema=SCHEMA)
    context = {**BYO_CONTEXT, "reservedConcurrency": None}
    s = synth(tmp_path, {**context, **ACCOUNT_CONTEXT})
    assert "ReservedConcurrentExecutions" not in function(s)
    assert any("nothing caps the function's concurrency" in w for w in s.warnings)
    off = synth(tmp_path, {**context, "reservedConcurrency": "off", **ACCOUNT_CONTEXT})
    assert "ReservedConcurrentExecutions" not in function(off)
    assert not any("nothing caps" in w for w in off.warnings)


def prepared_build(directory, arch: str):
    """A build folder as `make build` leaves it, without running pip: src/ copied and its stamp."""
    src = directory / "src"
    package = directory / "build" / "package"
    shutil.copytree(src, package)
    (package.parent / STAMP).write_text(
        json.dumps({"arch": arch, "source": source_hash(src), "python": PYTHON_VERSION})
    )
    return package


def test_synth_packages_a_build_of_this_src_for_this_architecture_and_refuses_any_other(tmp_path):
    write_module(tmp_path)
    package = prepared_build(tmp_path, "x86_64")
    context = {**BYO_CONTEXT, "synthWithoutBuild": False, "buildDir": str(package)}
    s = synth(tmp_path, {**context, **ACCOUNT_CONTEXT})
    assert function(s)["Code"]["S3Key"].endswith(".zip")
    with pytest.raises(StalePackage, match="built for x86_64, this synth is for arm64"):
        synth(tmp_path, {**context, "architecture": "arm64", **ACCOUNT_CONTEXT})
    with pytest.raises(StalePackage, match="built with extras: none; this synth needs: tracing"):
        synth(tmp_path, {**context, "tracing": True, **ACCOUNT_CONTEXT})
    (tmp_path / "src" / "lambda_function.py").write_text("# edited after the build\n")
    with pytest.raises(StalePackage, match="changed since"):
        synth(tmp_path, {**context, **ACCOUNT_CONTEXT})
