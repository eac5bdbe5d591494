"""The local server beyond REST: GraphQL as AppSync answers it, /openapi.json and /docs, banner and access log.

The server serves the fixture app (tests/support/app); the README's commands run in this checkout.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from openapi_spec_validator import validate

from lambdakit.routemodel import graphql_route
from local.graphql import LAMBDA_ERROR_TYPE, GraphqlEndpoint
from local.invoke import invoke
from local.server import access_line, use_colour
from tests.local.conftest import ROOT, start_server, stop_server
from tests.support import app
from tests.support.identities import bearer, signed_in_session

pytestmark = pytest.mark.slow
http = signed_in_session()  # a user in every group: authorization has its own tests

WIDGET_FIELDS = "widgetId name maker status active createdAt"


@pytest.fixture(scope="module")
def served(pg, app_src, tmp_path_factory) -> Iterator[tuple[str, Path, int]]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "1", "LOCAL_SRC_DIR": str(app_src)}
    process, base = start_server("--workers", "1", "--no-reload", env=env, log=log)
    yield base, log, process.pid
    stop_server(process)


def logged(log: Path, wanted: Callable[[str], bool], timeout: float = 10) -> str:
    """The first line of the server's log that `wanted` accepts; it is written after the answer is sent, so wait."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in log.read_text().splitlines() if wanted(line)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such line in {log}"
        time.sleep(0.05)


@pytest.fixture
def client(served) -> Iterator[Client]:
    transport = RequestsHTTPTransport(url=f"{served[0]}/graphql", timeout=10, headers=bearer())
    with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


def test_gql_client_lists_and_gets_rows(client):
    page = client.execute(
        GraphQLRequest(
            f"query Page($limit: Int) {{ listWidgets(limit: $limit) {{ items {{ {WIDGET_FIELDS} }} nextCursor }} }}",
            variable_values={"limit": 2},
        )
    )["listWidgets"]
    assert len(page["items"]) == 2 and page["nextCursor"]
    first = page["items"][0]["widgetId"]
    widget = client.execute(GraphQLRequest(f"{{ getWidget(widgetId: {first}) {{ widgetId maker createdAt }} }}"))
    assert widget["getWidget"]["maker"] == page["items"][0]["maker"]
    assert widget["getWidget"]["createdAt"][:4].isdigit() and "T" in widget["getWidget"]["createdAt"]


def test_gql_client_creates_then_updates_a_row_with_one_save_mutation(client, served):
    save = "mutation Save($id: Int, $body: WidgetInput!) { saveWidget(widgetId: $id, body: $body) { widgetId maker } }"
    created = client.execute(GraphQLRequest(save, variable_values={"body": {"name": "Katherine", "maker": "J"}}))
    wid = created["saveWidget"]["widgetId"]
    try:
        updated = client.execute(GraphQLRequest(save, variable_values={"id": wid, "body": {"maker": "Johnson"}}))
        assert updated["saveWidget"] == {"widgetId": wid, "maker": "Johnson"}
        # Committed: the REST route sees it too.
        assert http.get(f"{served[0]}/widgets/{wid}", timeout=5).json()["maker"] == "Johnson"
    finally:
        client.execute(GraphQLRequest(f"mutation {{ deleteWidget(widgetId: {wid}) {{ widgetId }} }}"))


def test_a_failing_resolver_answers_as_appsync_does(client):
    with pytest.raises(TransportQueryError) as failure:
        client.execute(GraphQLRequest("query {\n  getWidget(widgetId: 99999) { widgetId }\n}"))
    (error,) = failure.value.errors
    assert error["errorType"] == LAMBDA_ERROR_TYPE
    assert error["message"] == "widget 99999 not found"
    assert error["path"] == ["getWidget"]
    assert error["locations"] == [{"line": 2, "column": 3, "sourceName": None}]
    assert failure.value.data is None, "getWidget is non-null, so the null reaches the root"


def test_invalid_input_names_the_field_and_writes_nothing(client, admin):
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_widgets")
        before = cur.fetchone()[0]
    with pytest.raises(TransportQueryError) as failure:
        client.execute(GraphQLRequest('mutation { saveWidget(body: {name: "", maker: "X"}) { widgetId } }'))
    assert failure.value.errors[0]["message"].startswith("name:")
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_widgets")
        assert cur.fetchone()[0] == before


def test_a_query_the_schema_rejects_never_reaches_the_function(served):
    answer = http.post(f"{served[0]}/graphql", json={"query": "{ getWidget(widgetId: 1) { nope } }"}, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
    assert "nope" in body["errors"][0]["message"]
    not_json = http.post(f"{served[0]}/graphql", data=b"{oops", timeout=5)
    assert not_json.status_code == 400


def test_each_resolver_gets_the_event_appsync_sends():
    events = []

    def handler(event, _context):
        events.append(event)
        return {"items": [{"widgetId": 7, "name": "A"}], "nextCursor": None}

    endpoint = GraphqlEndpoint(
        app.APP_DIR / "schema.graphql",
        lambda event: invoke(handler, event, 30),
        [graphql_route("Query", "listWidgets", "f")],
    )
    query = json.dumps(
        {
            "query": "query L($n: Int) { listWidgets(limit: $n) { items { ...F } nextCursor } }"
            " fragment F on Widget { widgetId name }",
            "variables": {"n": 3},
        }
    ).encode()
    status, answer, fields = endpoint.answer(query, {"X-Api-Key": "k"})
    assert status == 200 and answer == {
        "data": {"listWidgets": {"items": [{"widgetId": 7, "name": "A"}], "nextCursor": None}}
    }
    assert fields == ["Query.listWidgets"]
    (event,) = events
    assert event["arguments"] == {"limit": 3}
    assert event["identity"] is None and event["source"] is None
    assert event["request"]["headers"] == {"x-api-key": "k"}
    assert event["info"]["fieldName"] == "listWidgets" and event["info"]["parentTypeName"] == "Query"
    assert event["info"]["variables"] == {"n": 3}
    assert event["info"]["selectionSetList"] == ["items", "items/widgetId", "items/name", "nextCursor"]
    assert "...F" in event["info"]["selectionSetGraphQL"]
    assert "fragment F on Widget" in event["info"]["selectionSetGraphQL"]


def test_banner_shows_the_urls_and_the_database_without_its_password(served):
    base, log, _ = served
    text = log.read_text()
    assert f"{base}/graphql" in text and f"{base}/docs" in text and f"{base}/openapi.json" in text
    assert "postgres:***@127.0.0.1" in text and ":postgres@" not in text
    assert 'auth      cognito: -H "Authorization: Bearer $(python run_local.py token' in text


def test_each_request_logs_one_line_with_its_route_function_and_no_colour_off_a_terminal(served):
    base, log, _ = served
    http.get(f"{base}/widgets/2", timeout=5)
    http.post(f"{base}/graphql", json={"query": "{ getWidget(widgetId: 2) { widgetId } }"}, timeout=5)
    http.get(f"{base}/nowhere", timeout=5)
    assert logged(log, lambda line: line.startswith("GET /widgets/2 200 ") and " get_widget " in line and "ms" in line)
    assert logged(log, lambda line: line.startswith("POST /graphql 200 ") and "graphql get_widget" in line)
    assert logged(log, lambda line: line.startswith("GET /nowhere 404 "))
    assert "\x1b[" not in log.read_text()


def test_colours_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Terminal()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Terminal())
    assert "\x1b[31m500" in access_line("GET", "/x", 500, 1.0, "f", colour=True)


def test_openapi_json_is_valid_and_lists_every_rest_route(served):
    response = http.get(f"{served[0]}/openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    validate(document)
    served_operations = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops if m != "parameters"}
    routes = {(r.method, r.path.text) for r in app.router().routes.rest}
    assert routes and served_operations == routes


def test_docs_page_loads_swagger_ui_on_the_served_document(served):
    response = http.get(f"{served[0]}/docs", timeout=5)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in response.text and 'url: "/openapi.json"' in response.text
    assert "https://" not in response.text and "http://" not in response.text, "nothing from a CDN: /docs works offline"
    for asset, kind in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        served_asset = http.get(f"{served[0]}/docs/{asset}", timeout=10)
        assert served_asset.status_code == 200 and served_asset.headers["content-type"].startswith(kind)
        assert len(served_asset.content) > 10_000


def test_a_busy_port_is_one_line_saying_what_to_do_not_a_traceback():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "run_local.py", "serve", "--port", str(port), "--no-reload"],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stdout.strip()
        == f"error: port {port} is already in use (another `make serve`?); try `make serve PORT={port + 1}`"
    )
    assert "Traceback" not in done.stderr


def test_run_local_runs_under_the_project_venv_whatever_python_starts_it(tmp_path):
    import shutil

    system_python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
    out = tmp_path / "openapi.json"
    done = subprocess.run(
        [system_python, "run_local.py", "openapi", "--out", str(out)],  # imports the Lambda's packages
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["openapi"] == "3.1.0"


def test_make_openapi_writes_the_document_the_server_serves(served, tmp_path):
    # In a project whose code is the fixture app, the one the server serves.
    project = app.write_project(tmp_path / "project")
    out = tmp_path / "openapi.json"
    done = subprocess.run(
        [sys.executable, "run_local.py", "openapi", "--out", str(out)],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == http.get(f"{served[0]}/openapi.json", timeout=10).json()


def test_one_worker_without_reload_runs_routes_in_the_launched_process_so_breakpoints_hit(served):
    base, log, pid = served
    http.get(f"{base}/widgets/3", timeout=5)
    assert logged(log, lambda line: line.startswith("GET /widgets/3 ")).endswith(f"pid={pid}")


def test_vscode_launch_configurations_use_flags_and_events_that_exist():
    text = (ROOT / ".vscode" / "launch.json").read_text()
    launch = json.loads("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")))
    default_event = next(i["default"] for i in launch["inputs"] if i["id"] == "eventName")
    assert (ROOT / "events" / f"{default_event}.json").is_file()
    usage = subprocess.run(
        [sys.executable, "run_local.py", "--help"], check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout
    flags = {a for c in launch["configurations"] for a in c.get("args", []) if a.startswith("--")}
    assert flags and all(flag in usage for flag in flags)
    assert any(c.get("module") == "pytest" for c in launch["configurations"])


def test_the_local_server_echoes_the_request_id_and_logs_the_same_ids_as_lambda(served):
    base, log, _ = served
    response = http.get(f"{base}/widgets/2", timeout=5)
    request_id = response.headers["x-request-id"]
    line = logged(log, lambda line: f" correlation_id={request_id} " in line)
    assert line.startswith("GET /widgets/2 200 ") and " function_request_id=" in line
    missing = http.get(f"{base}/widgets/999999", timeout=5)
    assert missing.status_code == 404 and missing.headers["x-request-id"] != request_id
