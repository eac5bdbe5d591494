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
from infra.build import PRUNED, STAMP, build


@pytest.fixture(scope="session")
def wheels(tmp_path_factory):
    """pip's cache for the builds of this run (wheels come from PyPI once)."""
    return tmp_path_factory.getbasetemp() / "wheels"


@pytest.fixture(scope="session")
def package(tmp_path_factory, wheels):
    """One real x86_64 build per test run."""
    return build(ROOT / "src", tmp_path_factory.mktemp("build"), "x86_64", wheel_cache=wheels)


@pytest.fixture(scope="session")
def package_arm64(tmp_path_factory, wheels):
    """One real arm64 build per test run (psycopg2-binary's arm64 wheels are manylinux_2_28 only)."""
    return build(ROOT / "src", tmp_path_factory.mktemp("build-arm64"), "arm64", wheel_cache=wheels)


def test_build_zip_holds_the_handler_and_psycopg2_manylinux_binary_for_python312(package):
    names = zipfile.ZipFile(package).namelist()
    assert "lambda_function.py" in names
    assert any(n.startswith("psycopg2/_psycopg.cpython-312-x86_64-linux-gnu") for n in names)
    assert any(n.startswith("aws_lambda_powertools/") for n in names)


def test_the_arm64_zip_holds_psycopg2_built_for_aarch64_and_no_x86_64_binary(package_arm64):
    names = zipfile.ZipFile(package_arm64).namelist()
    assert "psycopg2/_psycopg.cpython-312-aarch64-linux-gnu.so" in names
    assert not [n for n in names if "x86_64" in n]
    assert json.loads((package_arm64.parent / STAMP).read_text())["arch"] == "arm64"


def test_build_zip_leaves_out_boto3_botocore_tests_and_other_pythons_caches(package):
    names = zipfile.ZipFile(package).namelist()
    assert not [n for n in names if n.split("/")[0].startswith(("boto3", "botocore", "s3transfer"))]
    assert not [n for n in names if n.startswith("tests/")]
    assert not [n for n in names if n.endswith(".pyc") and "cpython-312" not in n and "__pycache__" in n]
    assert not [n for n in names if n.endswith(PRUNED)]


# What CPython 3.12 writes at the start of its .pyc files (importlib.util.MAGIC_NUMBER there).
PYTHON312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"


def pyc_flags(data: bytes) -> int:
    return int.from_bytes(data[4:8], "little")


def test_src_ships_with_unchecked_hash_bytecode_for_python312_beside_its_sources(package):
    archive = zipfile.ZipFile(package)
    names = archive.namelist()
    assert "db_utils.py" in names and "lambdakit/session.py" in names
    pyc = archive.read("__pycache__/db_utils.cpython-312.pyc")
    assert pyc[:4] == PYTHON312_MAGIC
    assert pyc_flags(pyc) == 0b01  # hash-based, source not checked: nothing to stat or compile at a cold start


def test_the_third_party_modules_src_imports_ship_as_bytecode_only_and_the_rest_as_source(package):
    names = set(zipfile.ZipFile(package).namelist())
    for module in ("aws_lambda_powertools/__init__", "aws_lambda_powertools/logging/logger", "psycopg2/extensions"):
        assert f"{module}.pyc" in names and f"{module}.py" not in names, module
    assert "fastjsonschema/draft04.pyc" in names  # a lazy import (lambdakit.validation), found too
    assert "aws_lambda_powertools/utilities/batch/__init__.py" in names  # never imported: left as source


def test_if_stale_does_not_rebuild_a_package_that_matches_src_and_arch(package, monkeypatch, capsys):
    from infra import build as builder

    monkeypatch.setattr(builder, "build", lambda *args, **kwargs: pytest.fail("rebuilt a current package"))
    assert builder.main(["--arch", "x86_64", "--out", str(package.parent), "--if-stale"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert builder.stale_reason(package.parent / "package", ROOT / "src", "arm64") is not None


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


@pytest.mark.parametrize("command", [["check", "--stage", "dev"], ["invoke", "--function", "f", "--event", "x.json"]])
def test_without_credentials_and_region_both_are_named_credentials_first(monkeypatch, capsys, tmp_path, command):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("STACK_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "x.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert aws_ops.main(command) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no AWS credentials") and "; no AWS region" in error


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


@pytest.mark.parametrize("variable", ["AWS_REGION", "STACK_REGION"])
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


def test_a_requirement_without_a_wheel_for_the_platform_is_named_as_such_not_as_a_network_problem(
    monkeypatch, tmp_path
):
    import subprocess

    from infra import build as builder

    refused = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found for psycopg2-binary==9.9\n")
    monkeypatch.setattr(builder.subprocess, "run", lambda *args, **kwargs: refused)
    (tmp_path / "requirements.txt").write_text("psycopg2-binary==9.9\n")
    with pytest.raises(builder.BuildError, match=r"no wheel for Lambda's arm64 platform \(manylinux2014_aarch64"):
        builder._install_requirements(tmp_path / "requirements.txt", tmp_path / "out", "arm64", None)


def test_tail_with_a_request_id_prints_only_that_requests_lines(aws):
    import boto3

    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s")
    now = int(time.time() * 1000)
    lines = [
        "START RequestId: 11111111-aaaa Version: $LATEST",
        '{"level":"INFO","message":"served","correlation_id":"gw-req-1","function_request_id":"11111111-aaaa"}',
        '{"level":"INFO","message":"other","correlation_id":"gw-req-2","function_request_id":"22222222-bbbb"}',
        "REPORT RequestId: 11111111-aaaa Duration: 12.3 ms",
    ]
    logs.put_log_events(
        logGroupName="/aws/lambda/fn",
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )
    by_gateway_id, by_lambda_id = io.StringIO(), io.StringIO()
    aws_ops.tail("/aws/lambda/fn", since_minutes=5, follow=False, out=by_gateway_id, request_id="gw-req-1")
    aws_ops.tail("/aws/lambda/fn", since_minutes=5, follow=False, out=by_lambda_id, request_id="11111111-aaaa")
    assert [line.split(" ", 2)[2] for line in by_gateway_id.getvalue().splitlines()] == [lines[1]]
    assert [line.split(" ", 2)[2] for line in by_lambda_id.getvalue().splitlines()] == [lines[0], lines[1], lines[3]]


def test_a_request_id_becomes_one_quoted_filter_term_and_a_quote_is_refused():
    assert aws_ops.request_filter("0f9d-41b2") == '"0f9d-41b2"'
    with pytest.raises(aws_ops.OpsError, match="REQUEST_ID"):
        aws_ops.request_filter('x" || "')
