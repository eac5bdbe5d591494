"""`make migrate`: locally against the database, and for a stage through the deployed function's direct route."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambdakit.migrator import migration_files
from local.migrations import MIGRATE_EVENT, migrate_stage
from tests.support import app

ROOT = Path(__file__).resolve().parents[2]


def test_make_migrate_applies_to_the_local_database_then_reports_up_to_date(empty_db, tmp_path):
    # In a project whose code is the fixture app, so there is a migration to apply whatever src/ holds.
    project = app.write_project(tmp_path / "project")
    env = {**os.environ, "DATABASE_URL": empty_db}
    command = [sys.executable, "-m", "local.migrations"]
    first = subprocess.run(command, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    files = migration_files(project / "src" / "migrations")
    assert files and f"applied {len(files)} migration(s)" in first.stdout
    assert all(p.name in first.stdout for p in files)
    again = subprocess.run(command, check=False, cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "up to date" in again.stdout


def _stubbed(answer: dict, *, function_error: str | None = None) -> tuple[dict, list[Stubber]]:
    """Real boto3 clients whose CloudFormation and Lambda answers are stubbed at the HTTP boundary."""
    cfn, lam = boto3.client("cloudformation"), boto3.client("lambda")
    cfn_stub, lam_stub = Stubber(cfn), Stubber(lam)
    cfn_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "students-api-dev",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": "FunctionName", "OutputValue": "students-api-dev-Function"}],
                }
            ]
        },
        {"StackName": "students-api-dev"},
    )
    raw = json.dumps(answer).encode()
    response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(raw), len(raw))}
    if function_error:
        response["FunctionError"] = function_error
    lam_stub.add_response(
        "invoke",
        response,
        {"FunctionName": "students-api-dev-Function", "Payload": json.dumps(MIGRATE_EVENT).encode()},
    )
    cfn_stub.activate()
    lam_stub.activate()
    return {"cloudformation": cfn, "lambda": lam}, [cfn_stub, lam_stub]


def test_migrate_for_a_stage_invokes_the_stacks_function_with_the_migrate_route(fake_aws):
    clients, stubs = _stubbed({"data": {"applied": ["0002_add_email.sql"]}})
    out = io.StringIO()
    assert migrate_stage("dev", client=clients.__getitem__, out=out) == 0
    for stub in stubs:
        stub.assert_no_pending_responses()
    assert "stage dev: applied 1 migration(s)" in out.getvalue() and "0002_add_email.sql" in out.getvalue()


def test_migrate_for_a_stage_fails_when_a_migration_failed(fake_aws):
    clients, _ = _stubbed({"error": {"status": 500, "message": "migration 0002_x.sql failed and was rolled back"}})
    out = io.StringIO()
    assert migrate_stage("dev", client=clients.__getitem__, out=out) == 1
    assert "error: migration 0002_x.sql failed" in out.getvalue()


def test_migrate_for_a_stage_fails_when_the_function_crashed(fake_aws):
    clients, _ = _stubbed({"errorMessage": "Task timed out"}, function_error="Unhandled")
    out = io.StringIO()
    assert migrate_stage("dev", client=clients.__getitem__, out=out) == 1
    assert "Unhandled" in out.getvalue()


def test_boto3_clients_honour_aws_endpoint_url(fake_aws, monkeypatch):
    from local.migrations import _boto3_client

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    assert _boto3_client("lambda").meta.endpoint_url == "http://127.0.0.1:5999"
