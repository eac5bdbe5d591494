"""The Lambda package holds Lambda-platform binaries and no boto3; invoke/tail work against moto."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile

import pytest
from infra_support import ROOT

from infra import aws_ops
from infra.build import build


@pytest.fixture(scope="session")
def package(tmp_path_factory):
    """One real build per test run (pip downloads wheels from PyPI, cached in the session dir)."""
    out = tmp_path_factory.mktemp("build")
    return build(ROOT / "src", out, "x86_64", wheel_cache=tmp_path_factory.getbasetemp() / "wheels")


def test_build_zip_holds_the_handler_and_psycopg2_manylinux_binary_for_python312(package):
    names = zipfile.ZipFile(package).namelist()
    assert "lambda_function.py" in names
    assert any(n.startswith("psycopg2/_psycopg.cpython-312-x86_64-linux-gnu") for n in names)
    assert any(n.startswith("aws_lambda_powertools/") for n in names)


def test_build_zip_leaves_out_boto3_botocore_tests_and_caches(package):
    names = zipfile.ZipFile(package).namelist()
    assert not [n for n in names if n.split("/")[0].startswith(("boto3", "botocore", "s3transfer"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("tests/")]


@pytest.fixture
def aws(fake_aws):
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


def _function(name: str = "students-api-dev-fn") -> str:
    import boto3

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("lambda_function.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return name


def test_invoke_prints_the_status_and_decoded_payload(aws, tmp_path):
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"httpMethod": "GET", "path": "/students"}))
    out = io.StringIO()
    status = aws_ops.invoke(_function(), event, out)
    text = out.getvalue()
    assert status == 0
    assert text.startswith("status: 200")
    assert "payload:" in text


def test_invoke_decodes_a_json_body_inside_the_payload():
    raw = json.dumps({"statusCode": 200, "body": json.dumps({"studentId": 1})})
    assert json.loads(aws_ops._pretty(raw))["body"] == {"studentId": 1}


def test_invoke_prints_the_log_tail_lambda_returns():
    class FakeLambda:
        def invoke(self, **kwargs):
            return {
                "StatusCode": 200,
                "Payload": io.BytesIO(b'{"ok": true}'),
                "LogResult": base64.b64encode(b"START RequestId: 1\nhello from the handler\n").decode(),
            }

    out = io.StringIO()
    event = ROOT / "events" / "get_student.json"
    aws_ops.invoke("f", event if event.exists() else ROOT / "cdk.json", out, client=lambda _: FakeLambda())
    assert "log tail:\nSTART RequestId: 1\nhello from the handler" in out.getvalue()


def test_tail_prints_each_log_event_of_the_group(aws):
    import boto3

    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="2025/01/01/[$LATEST]abcdef12")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/fn",
        logStreamName="2025/01/01/[$LATEST]abcdef12",
        logEvents=[{"timestamp": now, "message": "first line"}, {"timestamp": now + 1, "message": "second line"}],
    )
    out = io.StringIO()
    assert aws_ops.tail("/aws/lambda/fn", since_minutes=5, follow=False, out=out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["first line", "second line"]


def test_invoke_without_credentials_says_so_instead_of_a_traceback(monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert aws_ops.main(["check", "--stage", "dev"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_deploy_without_stage_says_stage_is_missing(capsys):
    assert aws_ops.main(["check", "--require-stage", "--stage", ""]) == 2
    assert "STAGE is not set" in capsys.readouterr().err


def test_an_unknown_event_name_lists_the_known_events(capsys):
    assert aws_ops.main(["invoke", "--function", "f", "--event", "no_such_event"]) == 2
    assert "no event 'no_such_event'" in capsys.readouterr().err


def test_invoke_finds_the_function_from_the_stack_outputs_when_not_given():
    calls = []

    class FakeCfn:
        def describe_stacks(self, StackName):
            calls.append(StackName)
            return {"Stacks": [{"Outputs": [{"OutputKey": "FunctionName", "OutputValue": "fn-from-stack"}]}]}

    assert aws_ops.stack_outputs("students-api-prod", client=lambda _: FakeCfn()) == {"FunctionName": "fn-from-stack"}
    assert calls == ["students-api-prod"]


@pytest.mark.parametrize("variable", ["AWS_REGION", "REGION"])
def test_aws_region_or_region_is_the_region_boto3_uses(monkeypatch, variable):
    import boto3

    env = {variable: "ap-southeast-2"}
    assert aws_ops.use_region_from_environment(env) == "ap-southeast-2"
    monkeypatch.setenv("AWS_DEFAULT_REGION", env["AWS_DEFAULT_REGION"])  # what boto3 reads
    client = boto3.client("lambda", aws_access_key_id="k", aws_secret_access_key="s")
    assert client.meta.region_name == "ap-southeast-2"


def test_an_explicit_aws_default_region_wins():
    env = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "us-east-1"}
    assert aws_ops.use_region_from_environment(env) == "eu-west-1"
