"""The machinery's smoke test: the handler dispatches every event source, `@transaction` commits and rolls back,
the local server answers, and the stack synthesizes from the routes.

It runs on the fixture app (tests/support/app: its own routes, migration and rows), never on the
project's own code, so it passes whatever src/ holds; run it alone with `pytest tests/smoke`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from db_utils import transaction
from lambdakit import NotFound, Router
from local.embedded_pg import free_port
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support import app
from tests.support.identities import as_user, bearer
from tests.support.process import stop_process, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
# The function's own settings: a shell that sets one for a deployed stage must not change what is tested.
_RUNTIME_VARIABLES = ("DATABASE_URL", "DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_IAM_AUTH")


def answer(event: dict) -> object:
    """The fixture app's answer to `event` from a signed-in user in every group."""
    return app.handler(as_user(event))


def test_one_route_answers_rest_v1_http_v2_graphql_and_direct_alike(lambda_env):
    via_rest = answer(rest_v1_event("GET", "/widgets/1", "", [], b""))
    via_http = answer(http_v2_event("GET", "/widgets/1"))
    assert via_rest["statusCode"] == via_http["statusCode"] == 200
    row = json.loads(via_rest["body"])
    assert {key: row[key] for key in app.FIRST_ROW} == app.FIRST_ROW
    assert json.loads(via_http["body"]) == row
    assert answer(appsync_event("Query", "getWidget", {"widgetId": 1})) == row
    assert answer(direct_event("get_widget", widgetId=1)) == {"data": row}


def test_errors_are_json_with_the_status_the_api_promises(lambda_env):
    missing = answer(rest_v1_event("GET", "/nowhere", "", [], b""))
    assert (missing["statusCode"], json.loads(missing["body"])) == (404, {"message": "no route for GET /nowhere"})
    bad = answer(rest_v1_event("POST", "/widgets", "", [("Content-Type", "application/json")], b'{"maker": "x"}'))
    assert (bad["statusCode"], json.loads(bad["body"])) == (400, {"message": "name: is required"})
    wrong = answer(rest_v1_event("PATCH", "/widgets/1", "", [], b""))
    assert wrong["statusCode"] == 405


class Refused(NotFound):
    """Raised after the write, so the transaction must roll it back."""


def test_transaction_commits_what_returns_and_rolls_back_what_raises(lambda_env, admin):
    router = Router()

    @router.direct("write")
    @transaction
    def write(conn, name: str, fail: bool = False) -> dict:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO fixture_widgets (name, maker) VALUES (%s, 'smoke') RETURNING widget_id", (name,))
            row = cur.fetchone()
        if fail:
            raise Refused("refused after the insert")
        return row

    kept, dropped = f"kept-{uuid.uuid4()}", f"dropped-{uuid.uuid4()}"
    assert "data" in router.handle(direct_event("write", name=kept))
    assert router.handle(direct_event("write", name=dropped, fail=True)) == {
        "error": {"status": 404, "message": "refused after the insert"}
    }
    with admin.cursor() as cur:
        cur.execute("SELECT name FROM fixture_widgets WHERE name IN (%s, %s)", (kept, dropped))
        assert cur.fetchall() == [(kept,)]
        cur.execute("DELETE FROM fixture_widgets WHERE name = %s", (kept,))


def test_the_local_server_answers_over_http(pg, app_src, tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in _RUNTIME_VARIABLES}
    # As `make serve` runs, but on the fixture app and with the sign-in these requests use.
    env.update(DATABASE_URL=pg.url, LOCAL_SRC_DIR=str(app_src), AUTH="cognito", LOCAL_ACCESS_LOG="0")
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", "1", "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(process, f"{base}/openapi.json")
        got = requests.get(f"{base}/widgets/1", headers=bearer(), timeout=10)
        assert got.status_code == 200 and got.json()["widgetId"] == 1
        assert requests.get(f"{base}/widgets/1", timeout=10).status_code == 401  # no token: the gateway refuses
        missing = requests.get(f"{base}/nowhere", headers=bearer(), timeout=10)
        assert missing.status_code == 404 and missing.json() == {"message": "no route for GET /nowhere"}
    finally:
        stop_process(process)


def test_the_stack_synthesizes_an_operation_per_rest_route_and_a_resolver_per_graphql_field(app_src, tmp_path):
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(
        lambdaFile=str(app_src / "lambda_function.py"),
        schemaFile=str(app_src / "schema.graphql"),
        srcDir=str(app_src),
        buildDir=str(tmp_path / "no-build"),
        synthWithoutBuild=True,  # the template is what is tested, not the package
    )
    env = {name: value for name, value in os.environ.items() if name not in _RUNTIME_VARIABLES}
    # What `cdk synth` hands the app: the output folder and cdk.json's context with the overrides above.
    env.update(CDK_OUTDIR=str(tmp_path / "cdk.out"), CDK_CONTEXT_JSON=json.dumps(context))
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (template_file,) = (tmp_path / "cdk.out").glob("*.template.json")
    resources = json.loads(template_file.read_text())["Resources"].values()
    operations = set()
    for resource in resources:
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            paths = (resource["Properties"].get("Body") or {}).get("paths") or {}
            operations |= {(method.upper(), path) for path, methods in paths.items() for method in methods}
        elif resource["Type"] == "AWS::ApiGatewayV2::Route":
            operations.add(tuple(resource["Properties"]["RouteKey"].split(" ", 1)))
    assert {(route.method, route.path.text) for route in app.router().routes.rest} <= operations
    resolvers = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"])
        for r in resources
        if r["Type"] == "AWS::AppSync::Resolver"
    }
    if any(r["Type"] == "AWS::AppSync::GraphQLApi" for r in resources):  # a project may turn GraphQL off
        assert {route.key for route in app.router().routes.graphql} <= resolvers
