"""A GraphQL request has a cost limit locally as deployed: AppSync's depth and resolver count, and one timeout.

In-process through the endpoint (counting invocations, timing them), and over HTTP to a real worker serving
the fixture app with the stack's defaults, where the worker's memory is measured: its resident size from
/proc/<pid>/status (`VmRSS`) before and after, and its peak (`VmHWM`, reset first through clear_refs).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import requests

from infra.config import Config
from lambdakit.routemodel import graphql_route
from local.graphql import GraphqlEndpoint
from local.graphql_limits import GraphqlLimits, operation_depth
from local.invoke import invoke
from tests.faults.harness import LocalServer, wait_for
from tests.support import app
from tests.support.identities import bearer

ROUTES = [graphql_route("Query", "getWidget", "get_widget"), graphql_route("Query", "listWidgets", "list_widgets")]


def _widget(widget_id: int) -> dict:
    return {"widgetId": widget_id, "name": "A", "maker": "B", "status": "listed", "stock": 1, "active": True}


def _endpoint(limits: GraphqlLimits, calls: list, seconds_per_call: float = 0.0, schema: Path | None = None):
    def handler(event, _context):
        calls.append(event["info"]["fieldName"])
        time.sleep(seconds_per_call)
        if event["info"]["fieldName"] == "listWidgets":
            return {"items": [_widget(1)], "nextCursor": None}
        return _widget(event["arguments"]["widgetId"])

    def run(event, timeout=30):
        return invoke(handler, event, timeout)

    return GraphqlEndpoint(schema or app.APP_DIR / "schema.graphql", run, ROUTES, limits)


def _aliases(count: int, field: str = "getWidget(widgetId: 1) { widgetId }") -> bytes:
    return json.dumps({"query": "{ " + " ".join(f"w{i}: {field}" for i in range(count)) + " }"}).encode()


def test_twenty_thousand_aliases_invoke_the_function_only_up_to_the_resolver_count():
    calls: list = []
    endpoint = _endpoint(GraphqlLimits(resolvers=200), calls)
    body = _aliases(20_000)  # the example found by hand: 850 KB, 20,000 invocations, 16.6 s
    started = time.monotonic()
    status, answer, _ = endpoint.answer(body, {})
    elapsed = time.monotonic() - started
    print(f"20,000 aliases ({len(body) / 1024:.0f} KB): {len(calls)} invocations, answered in {elapsed:.2f} s")
    assert status == 200 and len(calls) == 200
    assert answer["data"] is None  # getWidget is non-null: its error travels up to the root, ending the rest
    (error,) = answer["errors"]
    assert error["errorType"] == "ResolverExecutionLimitReached" and error["path"] == ["w200"]
    assert error["message"] == "Resolver invocation limit reached."


@pytest.fixture
def nullable_schema(tmp_path) -> Path:
    """The fixture app's schema with getWidget nullable: an error stays on its own field."""
    schema = tmp_path / "schema.graphql"
    text = (app.APP_DIR / "schema.graphql").read_text()
    schema.write_text(text.replace("getWidget(widgetId: Int!): Widget!", "getWidget(widgetId: Int!): Widget"))
    return schema


def test_past_the_resolver_count_each_nullable_field_is_an_error_and_the_rest_resolve(nullable_schema):
    calls: list = []
    endpoint = _endpoint(GraphqlLimits(resolvers=50), calls, schema=nullable_schema)
    status, answer, _ = endpoint.answer(_aliases(2_000), {})
    assert status == 200 and len(calls) == 50
    assert sum(value is not None for value in answer["data"].values()) == 50
    assert len(answer["errors"]) == 1_950
    assert {e["errorType"] for e in answer["errors"]} == {"ResolverExecutionLimitReached"}


def test_under_the_resolver_count_every_field_resolves():
    calls: list = []
    status, answer, _ = _endpoint(GraphqlLimits(resolvers=200), calls).answer(_aliases(200), {})
    assert status == 200 and "errors" not in answer and len(answer["data"]) == 200 and len(calls) == 200


DEEP = "{ listWidgets { items { widgetId } } }"  # three levels


def test_fields_past_the_depth_limit_are_errors_that_travel_up_to_a_nullable_field():
    calls: list = []
    status, answer, _ = _endpoint(GraphqlLimits(depth=2), calls).answer(json.dumps({"query": DEEP}).encode(), {})
    assert status == 200 and answer["data"] is None  # items and the page are non-null: up to the root
    (error,) = answer["errors"]
    assert error["errorType"] == "QueryDepthLimitReached" and error["message"] == "Query depth limit of 2 reached."
    assert error["path"] == ["listWidgets", "items", 0, "widgetId"]
    at_limit = _endpoint(GraphqlLimits(depth=3), calls).answer(json.dumps({"query": DEEP}).encode(), {})[1]
    assert "errors" not in at_limit and at_limit["data"]["listWidgets"]["items"][0]["widgetId"] == 1


def test_depth_counts_through_fragments_and_only_the_operation_asked_for():
    from graphql import parse

    document = parse(
        "query A { listWidgets { ...Page } } query B { getWidget(widgetId: 1) { widgetId } }"
        " fragment Page on WidgetPage { items { ...W } } fragment W on Widget { widgetId }"
    )
    assert operation_depth(document, "A") == 3
    assert operation_depth(document, "B") == 2


def test_the_function_timeout_bounds_the_whole_request_not_each_field(nullable_schema):
    calls: list = []
    endpoint = _endpoint(GraphqlLimits(seconds=1.0), calls, seconds_per_call=0.3, schema=nullable_schema)
    started = time.monotonic()
    status, answer, _ = endpoint.answer(_aliases(10), {})
    elapsed = time.monotonic() - started
    print(f"10 fields of 0.3 s each, a 1 s function timeout: {len(calls)} invocations, {elapsed:.2f} s")
    assert status == 200 and elapsed < 1.5  # not 3 s: the fourth field gets what is left of the second
    assert [key for key, value in answer["data"].items() if value is not None] == ["w0", "w1", "w2"]
    errors = {tuple(e["path"]): (e["errorType"], e["message"]) for e in answer["errors"]}
    assert errors[("w3",)] == ("Lambda:Unhandled", "Task timed out")  # cut when the request's time ran out
    assert {errors[(f"w{i}",)] for i in range(4, 10)} == {("ExecutionTimeout", "Execution timed out.")}
    assert len(calls) == 4


def test_the_local_defaults_are_the_stacks():
    limits = GraphqlLimits.from_project()
    assert (limits.depth, limits.resolvers) == (Config.graphql_query_depth_limit, Config.graphql_resolver_count_limit)
    assert limits.seconds == Config.timeout_seconds


# -- over HTTP, on a worker of the local server ---------------------------------------------------------
def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


@pytest.fixture(scope="module")
def hundred_rows(pg) -> Iterator[str]:
    """A database of its own holding 100 widgets, so that each page of 100 is full."""
    admin = psycopg2.connect(pg.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE graphql_limits")
    url = pg.url.rsplit("/", 1)[0] + "/graphql_limits"
    app.prepare_database(url)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO fixture_widgets (name, maker) SELECT 'W' || n, 'M' FROM generate_series(1, 95) n")
    yield url
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE graphql_limits WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="module")
def worker(hundred_rows, app_src, tmp_path_factory) -> Iterator[LocalServer]:
    log = tmp_path_factory.mktemp("graphql-limits") / "server.log"
    env = {"DATABASE_URL": hundred_rows, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    with LocalServer(env, workers=1, log=log) as running:
        yield running


@pytest.mark.slow
def test_over_http_large_and_refused_requests_leave_the_worker_where_it_started(worker):
    url, pid = f"{worker.base}/graphql", worker.pid
    page = "listWidgets(limit: 100) { items { widgetId name maker status stock active createdAt } }"
    requests.post(url, data=_aliases(5, page), headers=bearer(), timeout=60)  # warm: connected, schema built
    before = _status_mb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak from here on
    lines = []
    for count in (2_000, 150, 20_000):  # over the count with large pages; just under it; the hand-made example
        field = page if count <= 2_000 else "getWidget(widgetId: 1) { widgetId }"
        started = time.monotonic()
        answer = requests.post(url, data=_aliases(count, field), headers=bearer(), timeout=120)
        elapsed = time.monotonic() - started
        assert answer.status_code == 200
        errors = [e for e in answer.json().get("errors", []) if e["errorType"] == "ResolverExecutionLimitReached"]
        assert bool(errors) == (count > Config.graphql_resolver_count_limit)
        wait_for(lambda: _status_mb(pid, "VmRSS") - before < 20, 5)  # given back once the answer is sent
        after = _status_mb(pid, "VmRSS")
        lines.append(
            f"{count} aliases: {len(answer.content) / 1e6:.1f} MB answer in {elapsed:.1f} s, {len(errors)} refused,"
            f" RSS {before:.1f} -> {after:.1f} MB"
        )
    peak = _status_mb(pid, "VmHWM")
    print("\n".join([*lines, f"peak RSS {peak:.1f} MB"]))
    assert after - before < 20, lines
    assert peak < Config.memory_size
