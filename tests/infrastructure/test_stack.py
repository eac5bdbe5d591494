"""Template assertions on real synths: routes become methods/resolvers, and access is least-privilege."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from infra_support import ACCOUNT, LAMBDA_SOURCE, ROOT, project_context, synth, write_module

from infra.routes import RouteError

ANY = "x-amazon-apigateway-any-method"


def rest_body(s):
    return s.one("AWS::ApiGateway::RestApi")["Properties"]["Body"]


def methods(body):
    return {
        (m.upper(), p)
        for p, ops in body["paths"].items()
        for m in ops
        if m in ("get", "post", "put", "delete", "patch")
    }


def test_each_rest_route_is_one_method_at_its_nested_path(byo):
    assert methods(rest_body(byo)) == {
        ("GET", "/students"),
        ("POST", "/students"),
        ("GET", "/students/{studentId}"),
        ("PUT", "/students/{studentId}"),
        ("DELETE", "/students/{studentId}"),
    }
    operation = rest_body(byo)["paths"]["/students/{studentId}"]["get"]
    assert operation["parameters"][0]["name"] == "studentId"
    assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def test_unknown_paths_and_wrong_methods_reach_the_function_so_it_answers_404_405_like_local(byo):
    paths = rest_body(byo)["paths"]
    assert ANY in paths["/{proxy+}"] and ANY in paths["/"]
    assert ANY in paths["/students"] and ANY in paths["/students/{studentId}"]


def test_function_has_exactly_one_invoke_permission_scoped_to_the_api(byo):
    permission = byo.one("AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    arn = json.dumps(permission["SourceArn"])
    api_id = next(iter(byo.resources("AWS::ApiGateway::RestApi")))
    assert "execute-api" in arn and api_id in arn and arn.endswith('/*"]]}')


def test_stage_is_named_after_stage_with_access_logs_throttling_and_tracing(byo):
    stage = byo.one("AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "dev"
    assert "DestinationArn" in stage["AccessLogSetting"]
    settings = stage["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert stage["TracingEnabled"] is True


def test_one_resolver_per_graphql_route_on_a_lambda_data_source(byo):
    resolvers = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"])
        for r in byo.resources("AWS::AppSync::Resolver").values()
    }
    assert resolvers == {
        ("Query", "listStudents"),
        ("Query", "getStudent"),
        ("Mutation", "saveStudent"),
        ("Mutation", "deleteStudent"),
    }
    assert byo.one("AWS::AppSync::DataSource")["Properties"]["Type"] == "AWS_LAMBDA"


def test_lambda_runs_python312_in_the_given_private_subnets_with_its_own_security_group(byo):
    fn = byo.one("AWS::Lambda::Function")["Properties"]
    assert fn["Runtime"] == "python3.12" and fn["Handler"] == "lambda_function.handler"
    assert fn["Architectures"] == ["x86_64"]
    assert fn["VpcConfig"]["SubnetIds"] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["ReservedConcurrentExecutions"] == 20
    env = fn["Environment"]["Variables"]
    assert env["DB_HOST"] == "students.cluster-abc.eu-west-1.rds.amazonaws.com"
    assert env["DB_IDLE_SESSION_TIMEOUT_MS"] == "300000" and env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert not any("PASSWORD" in k for k in env)


def test_security_groups_allow_only_the_database_port_to_the_database_group_and_https_out(byo):
    groups = byo.resources("AWS::EC2::SecurityGroup")
    assert len(groups) == 1
    egress = groups[next(iter(groups))]["Properties"]["SecurityGroupEgress"]
    assert egress == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "Secrets Manager API through the NAT",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    (db_egress,) = byo.resources("AWS::EC2::SecurityGroupEgress").values()
    assert db_egress["Properties"]["DestinationSecurityGroupId"] == "sg-0db0db0db0db0db00"
    assert db_egress["Properties"]["FromPort"] == 5432 == db_egress["Properties"]["ToPort"]
    (ingress,) = byo.resources("AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["GroupId"] == "sg-0db0db0db0db0db00"
    assert ingress["Properties"]["FromPort"] == 5432


def test_function_may_read_exactly_its_one_secret(byo):
    statements = [
        s for p in byo.resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    secret = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
    assert len(secret) == 1
    assert secret[0]["Resource"] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:students-db-AbC123"
    for statement in statements:
        assert "*" not in json.dumps(statement["Action"]), statement
        if statement["Resource"] == "*":
            # The only wildcard resources AWS forces: ENI management and X-Ray.
            assert all(a.startswith(("ec2:", "xray:")) for a in statement["Action"]), statement


def test_outputs_name_the_rest_and_graphql_urls_the_function_and_its_log_group(byo):
    assert {"RestApiUrl", "GraphqlUrl", "FunctionName", "LogGroupName"} <= set(byo.template["Outputs"])


def nag_findings(s) -> list[dict]:
    """cdk-nag's findings from the validation report (CDK's own schema check may add warnings)."""
    reports = json.loads((s.outdir / "validation-report.json").read_text())["pluginReports"]
    assert all(r["conclusion"] == "success" for r in reports), reports
    return [v for r in reports for v in r["violations"] if "AwsSolutions" in v["ruleName"]]


def test_cdk_nag_has_no_unacknowledged_finding_and_every_acknowledgment_has_a_reason(byo):
    assert nag_findings(byo) == []
    reasons = [
        r
        for resource in byo.template["Resources"].values()
        for r in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert reasons, "acknowledgments are written to the template"
    assert all(len(r["reason"].split()) >= 10 for r in reasons), reasons


def cfn_lint_errors(template_path) -> list[str]:
    # The console script: this cfn-lint has no `python -m cfnlint`, which ran nothing and so passed.
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    command = [str(cfn_lint), "--regions", "eu-west-1", "--format", "parseable", str(template_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    # Exit codes are flags (2 errors, 4 warnings, 8 informational); anything else means it did not run.
    assert result.returncode in range(0, 16, 2), result.stderr[-2000:]
    # parseable lines are file:line:col:line:col:RULE:message; E* rules are errors
    return [line for line in result.stdout.splitlines() if line.split(":")[5].startswith("E")]


def test_cfn_lint_reports_no_error_on_the_template(byo):
    assert cfn_lint_errors(byo.template_path) == []


@pytest.fixture(scope="module")
def created(tmp_path_factory):
    """createDatabase + rdsProxy + HTTP API + arm64 + Secrets Manager endpoint, with an account."""
    directory = tmp_path_factory.mktemp("created")
    write_module(directory)
    context = {
        "createDatabase": True,
        "rdsProxy": True,
        "apiType": "http",
        "architecture": "arm64",
        "secretsManagerEndpoint": True,
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    }
    return synth(directory, {**context, **ACCOUNT})


def test_create_database_makes_an_aurora_serverless_v2_cluster_that_pauses_at_zero(created):
    cluster = created.one("AWS::RDS::DBCluster")["Properties"]
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    assert cluster["StorageEncrypted"] is True
    assert created.one("AWS::SecretsManager::Secret")


def test_with_rds_proxy_the_function_connects_to_the_proxy_endpoint(created):
    env = created.one("AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    proxy_id = next(iter(created.resources("AWS::RDS::DBProxy")))
    assert env["DB_HOST"] == {"Fn::GetAtt": [proxy_id, "Endpoint"]}


def test_http_api_option_is_one_api_resource_with_one_scoped_permission_and_arm64(created):
    body = created.one("AWS::ApiGatewayV2::Api")["Properties"]["Body"]
    assert body["paths"]["/students"]["get"]["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"
    assert created.one("AWS::Lambda::Permission")
    assert created.one("AWS::Lambda::Function")["Properties"]["Architectures"] == ["arm64"]
    assert "HttpApiUrl" in created.template["Outputs"]


def test_secrets_manager_endpoint_is_reached_on_443_from_the_function_only(created):
    endpoint = created.one("AWS::EC2::VPCEndpoint")["Properties"]
    assert endpoint["VpcEndpointType"] == "Interface" and endpoint["PrivateDnsEnabled"] is True
    groups = created.resources("AWS::EC2::SecurityGroup")
    for group in groups.values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0", rule


def test_created_database_template_passes_cdk_nag_and_cfn_lint(created):
    assert nag_findings(created) == []
    assert cfn_lint_errors(created.template_path) == []


def test_adding_a_route_to_a_copy_of_the_module_adds_exactly_that_method(byo, tmp_path):
    write_module(
        tmp_path,
        routes=LAMBDA_SOURCE
        + '\n@router.rest("PATCH", "/students/{studentId}/status")\ndef set_status(student_id: int): ...\n'
        + '\n@router.rest("GET", "/files/{path+}")\ndef get_file(path: str): ...\n',
    )
    after = synth(tmp_path, {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1"]})
    added = {("PATCH", "/students/{studentId}/status"), ("GET", "/files/{path+}")}
    assert methods(rest_body(after)) - methods(rest_body(byo)) == added
    (greedy,) = rest_body(after)["paths"]["/files/{path+}"]["get"]["parameters"]
    assert greedy["name"] == "path" and greedy["in"] == "path"  # API Gateway's greedy parameter, by its name
    assert methods(rest_body(byo)) <= methods(rest_body(after))


def test_a_300_route_app_stays_under_500_resources_with_at_most_two_permissions(tmp_path):
    lines = ["from lambdakit import Router", "router = Router()"]
    for n in range(300):
        method = ("GET", "POST", "PUT")[n % 3]
        lines += [
            f'@router.rest("{method}", "/things{n // 3}/{{thingId}}/part{n}")',
            f"def route{n}(thing_id: int): ...",
        ]
    write_module(tmp_path, "\n".join(lines) + "\n", schema=None)
    big = synth(tmp_path)
    assert len(methods(rest_body(big))) == 300
    assert len(big.resources("AWS::Lambda::Permission")) <= 2
    assert len(big.template["Resources"]) < 500


def test_a_graphql_field_missing_from_the_schema_is_a_synth_error(tmp_path):
    write_module(tmp_path, routes=LAMBDA_SOURCE + '\n@router.graphql("Query", "notInSchema")\ndef nope(): ...\n')
    with pytest.raises(RouteError, match=r"routes_under_test\.py:\d+: Query\.notInSchema on nope\(\) is not in"):
        synth(tmp_path)


def test_clean_clone_synth_via_app_py_works_offline_when_the_lambda_module_cannot_be_imported(tmp_path):
    src = write_module(tmp_path, routes="import psycopg2\nimport no_such_module\n" + LAMBDA_SOURCE).parent
    blocker = tmp_path / "blocker" / "psycopg2"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('no psycopg2 here')\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PYTHONPATH": f"{tmp_path / 'blocker'}:{ROOT}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path / "out"),
        "CDK_CONTEXT_JSON": json.dumps(project_context(src)),
    }
    started = time.monotonic()
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "out" / "students-api-dev.template.json").read_text())
    assert any(r["Type"] == "AWS::ApiGateway::RestApi" for r in template["Resources"].values())
    print(f"offline app.py synth took {time.monotonic() - started:.1f} s")


def test_app_py_reports_a_route_error_in_one_line_not_a_traceback(tmp_path):
    module = write_module(
        tmp_path, 'from lambdakit import Router\nrouter = Router()\n@router.rest("GET", "nope")\ndef f(): ...\n'
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path / "out"),
        "CDK_CONTEXT_JSON": json.dumps({"lambdaFile": str(module)}),
    }
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "lambda_function.py:3: malformed path 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
