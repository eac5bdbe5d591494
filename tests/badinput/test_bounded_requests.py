"""Bounded requests: malformed events, bodies Lambda would refuse, hostile memory use, and the function timeout.

Each class of bound with its example and a variant, through the handler and over HTTP to the local
server, both serving the fixture app; memory is measured on a real worker process (its resident size
in /proc) and, for one request, with tracemalloc around the handler.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.events import appsync_event, http_response, http_v2_event, rest_v1_event
from tests.faults.harness import LocalServer, wait_for
from tests.support.app import handler
from tests.support.identities import as_user, bearer, signed_in_session

# Signed in as a user in every group: what is tested is the input, not who sends it.
http = signed_in_session()

MB = 1024 * 1024


def _rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (what the kernel, and Lambda, count)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def worker(pg, app_src, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One worker, one execution environment, serving the fixture app."""
    log = tmp_path_factory.mktemp("bounded") / "server.log"
    env = {"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    with LocalServer(env, workers=1, log=log) as running:
        yield running


# -- events the handler must answer, whatever arrives --------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        {"httpMethod": "GET", "resource": "/widgets"},  # REST without path
        {"httpMethod": "GET", "path": None},
        {"httpMethod": None, "path": "/widgets"},
        {"httpMethod": "GET", "path": "/widgets", "queryStringParameters": ["limit"]},
        {"httpMethod": "GET", "path": "/widgets", "body": {"name": "not text"}},
        {"version": "2.0", "requestContext": {"http": {"method": "GET"}, "stage": "$default"}},  # v2 without rawPath
        {"version": "2.0", "rawPath": "/widgets", "requestContext": {"stage": "$default"}},
        {"version": "2.0", "rawPath": "/widgets", "requestContext": "nonsense"},
    ],
)
def test_a_malformed_api_gateway_event_is_a_400_naming_what_is_wrong(event, lambda_env):
    response = handler(event, None)
    assert response["statusCode"] == 400
    message = json.loads(response["body"])["message"]
    assert message.startswith("unrecognised event") or ": must be " in message, message


@pytest.mark.parametrize("args", [[], 0, "", "x", [1, 2], True])
def test_direct_args_that_are_not_an_object_are_a_400(args, lambda_env):
    answer = handler({"route": "list_widgets", "args": args}, None)
    assert answer == {"error": {"status": 400, "message": "args: must be an object"}}


@pytest.mark.parametrize("event", [None, [], "route", 7, {"info": "x"}, {"version": "2.0"}, {"route": 5}])
def test_events_of_no_known_shape_get_the_400_envelope(event, lambda_env):
    assert handler(event, None)["error"]["status"] == 400


def test_graphql_arguments_that_are_not_an_object_are_a_client_error(lambda_env):
    event = appsync_event("Query", "getWidget", {})
    event["arguments"] = ["widgetId", 1]
    with pytest.raises(Exception, match="arguments: must be an object"):
        handler(event, None)


@pytest.mark.parametrize(
    ("raw_path", "stage", "status"),
    [
        ("/widgets", "$default", 200),
        ("/dev/widgets", "dev", 200),  # the execute-api URL: the stage prefixes the path
        ("/widgets", "dev", 200),  # a custom domain mapped to stage dev: no prefix
        ("/dev", "dev", 404),  # the stage's root, where no route is
        ("/development/widgets", "dev", 404),  # only a whole segment is the stage
    ],
)
def test_http_api_paths_with_and_without_the_stage_prefix(raw_path, stage, status, lambda_env):
    event = http_v2_event("GET", raw_path)
    event["requestContext"]["stage"] = stage
    assert handler(event, None)["statusCode"] == status


# -- sizes as Lambda counts them -----------------------------------------------------------------------
@pytest.mark.slow
def test_a_body_under_6_mb_whose_event_is_over_it_is_refused_locally_as_lambda_would(worker):
    body = json.dumps({"name": "\\" * 2_500_000, "maker": "x"})  # 5 MB; each \ doubles again in the event
    assert len(body) < 6 * MB
    response = http.post(f"{worker.base}/widgets", data=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413
    assert response.json()["message"].startswith("request too large: its Lambda event is")


@pytest.mark.slow
def test_a_body_just_under_the_limit_reaches_the_function(worker):
    body = json.dumps({"name": "x" * (6 * MB - 100_000), "maker": "x"})
    response = http.post(f"{worker.base}/widgets", data=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 400 and response.json()["message"].startswith("name: must be at most")


# -- GraphQL bodies -----------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ listWidgets { nextCursor } }", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"query": "{ listWidgets { nextCursor } }", "variables": ' + b'{"a":' * 400 + b"1" + b"}" * 400 + b"}",
        b'{"query": "{ listWidgets { nextCursor } }", "variables": {"v": [' + b"0," * 200_000 + b"0]}}",
    ],
    ids=["nested body", "nested variables", "too many values"],
)
def test_a_hostile_graphql_body_is_a_4xx_json_answer_not_a_500(body, worker):
    response = http.post(f"{worker.base}/graphql", data=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code in (400, 413)
    assert response.json()["errors"][0]["message"].startswith("request: ")


def test_graphql_arguments_nested_past_the_budget_are_refused_through_the_handler(lambda_env):
    nested: dict = {"name": "A"}
    for _ in range(100):
        nested = {"inner": nested}
    with pytest.raises(Exception, match="nested more than 64 levels"):
        handler(as_user(appsync_event("Mutation", "saveWidget", {"body": nested})), None)


# -- memory -------------------------------------------------------------------------------------------
def _unique_keys_body(start: int, count: int) -> bytes:
    return json.dumps({f"field{start + i}": i for i in range(count)}).encode()


@pytest.mark.slow
def test_bodies_with_unique_keys_leave_a_warm_worker_where_it_started(worker):
    url = f"{worker.base}/widgets"
    headers = {"Content-Type": "application/json"}
    http.get(f"{url}?limit=1", timeout=30)  # the cold start is behind us
    for n in range(2):  # and the allocator has seen bodies of this size once
        http.post(url, data=_unique_keys_body(10_000_000 * n, 90_000), headers=headers, timeout=60)
    before = _rss_mb(worker.pid)
    for n in range(20):
        over = http.post(url, data=_unique_keys_body(1_000_000 * n, 250_000), headers=headers, timeout=60)
        under = http.post(url, data=_unique_keys_body(50_000_000 + 100_000 * n, 90_000), headers=headers, timeout=60)
        assert over.status_code == 413 and under.status_code == 400  # refused before, and after, parsing
    grown = _rss_mb(worker.pid) - before
    print(f"worker RSS before {before:.1f} MB, after 40 bodies of 1.8 to 5 MB with unique keys: +{grown:.1f} MB")
    assert grown < 20


def test_the_largest_accepted_body_peaks_well_under_a_256_mb_function(lambda_env):
    # Just under every budget: ~5.9 MB of text in 99 990 JSON values, which the parser must build.
    items = ",".join(['"' + "x" * 50 + '"'] * 99_990)
    body = '{"name": "A", "maker": "B", "tags": [' + items + "]}"
    assert 5 * MB < len(body) < 6 * MB
    event = as_user(rest_v1_event("POST", "/widgets", "", [("Content-Type", "application/json")], body.encode()))
    tracemalloc.start()
    try:
        response = handler(event, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak Python allocation for one {len(body) / MB:.1f} MB body: {peak / MB:.1f} MB")
    assert http_response(response)[0] == 400  # `tags` is not a field: refused, after the parse it had to do
    assert peak < 150 * MB


# -- time ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_local_server_ends_an_invocation_at_the_function_timeout_as_lambda_does(pg, tmp_path):
    env = {
        "DATABASE_URL": pg.url,
        "LOCAL_ACCESS_LOG": "0",
        "STACK_TIMEOUT_SECONDS": "1",
        "LOCAL_RESET_ON_TIMEOUT": "1",
    }
    with LocalServer(env, workers=2, module="tests.faults.fault_routes", log=tmp_path / "server.log") as server:
        before = server.worker_pids()
        assert len(before) == 2
        started = time.monotonic()
        response = http.get(f"{server.base}/busy", params={"seconds": 5}, timeout=30)
        elapsed = time.monotonic() - started
        assert response.status_code == 502 and response.json() == {"message": "Internal server error"}
        assert elapsed < 3, f"answered after {elapsed:.1f} s, not at the 1 s timeout"
        assert "function timed out after 1 s" in (tmp_path / "server.log").read_text()
        # The environment that timed out is replaced by a fresh one; the other one goes on serving.
        assert wait_for(lambda: len(server.worker_pids()) == 2 and server.worker_pids() != before, 30)
        after = server.worker_pids()
        assert len(before - after) == 1 and len(after - before) == 1, (before, after)
        answered = {
            requests.get(f"{server.base}/ping", headers=bearer(), timeout=30).json()["worker"] for _ in range(20)
        }
        assert answered <= after and server.alive()
        assert http.get(f"{server.base}/busy", params={"seconds": 0}, timeout=30).status_code == 200
        print(f"workers before the timeout {sorted(before)}, after: {sorted(after)}")
