"""The hand-written list of bad inputs: each gets a 4xx with a `{"message"}` body, never a 500, over real
HTTP to the local server and through the handler alike. docs/reliability.md lists the same inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from local.events import appsync_event, http_response, rest_v1_event
from tests.faults.harness import LocalServer
from tests.support.app import SEEDED_IDS, handler
from tests.support.identities import as_user, signed_in_session

# Signed in as a user in every group, over HTTP and through the handler: the inputs are what is tested.
http = signed_in_session()

JSON = "application/json"


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer it must get."""

    name: str
    method: str
    path: str
    body: bytes = b""
    content_type: str | None = JSON
    query: str = ""
    status: int = 400
    message: str = ""


def nested(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


BAD_INPUTS = [
    Bad("invalid JSON (trailing comma)", "POST", "/widgets", b'{"name": "Ada",}', message="body: malformed JSON"),
    Bad("JSON that is a string, not an object", "POST", "/widgets", b'"Ada"', message="body: must be a JSON object"),
    Bad("JSON that is an array", "PUT", "/widgets/1", b'[{"status": "sold"}]', message="body: must be a JSON"),
    Bad("wrong content type (text/csv)", "POST", "/widgets", b"Ada,Lovelace", "text/csv", status=415),
    Bad("form-encoded body", "PUT", "/widgets/1", b"a=1", "application/x-www-form-urlencoded", status=415),
    Bad("empty body", "POST", "/widgets", b"", message="request body: is required"),
    Bad("empty JSON object on update", "PUT", "/widgets/1", b"{}", message="body: must set at least 1 field"),
    Bad("body over 6 MB", "POST", "/widgets", b'{"name": "' + b"x" * (6 * 1024 * 1024) + b'"}', status=413),
    Bad(
        "bytes that are not UTF-8",
        "POST",
        "/widgets",
        b'{"name": "\xff\xfe", "maker": "x"}',
        message="body: is not valid UTF-8",
    ),
    Bad(
        "UTF-8 byte order mark",
        "POST",
        "/widgets",
        b'\xef\xbb\xbf{"name": "A", "maker": "B"}',
        message="body: malformed JSON",
    ),
    Bad("JSON nested 10 000 deep (objects)", "POST", "/widgets", nested(10_000), message="body: JSON is nested"),
    Bad("JSON nested 10 000 deep (arrays)", "POST", "/widgets", b"[" * 10_000 + b"]" * 10_000, message="body"),
    Bad(
        "a 5 000-digit number",
        "POST",
        "/widgets",
        b'{"name": "A", "maker": "B", "active": ' + b"9" * 5000 + b"}",
        message="body: malformed JSON",
    ),
    Bad(
        "NUL escaped in a string",
        "POST",
        "/widgets",
        b'{"name": "A\\u0000B", "maker": "x"}',
        message="name: must not contain NUL",
    ),
    Bad(
        "NUL escaped in a key",
        "POST",
        "/widgets",
        b'{"na\\u0000me": "A", "maker": "x"}',
        message="body: keys must not contain NUL",
    ),
    Bad(
        "raw NUL byte in the JSON text",
        "POST",
        "/widgets",
        b'{"name": "A\x00B", "maker": "x"}',
        message="body: malformed JSON",
    ),
    Bad(
        "NUL in a query parameter",
        "GET",
        "/widgets",
        content_type=None,
        query="cursor=%00",
        message="cursor: must not contain NUL",
    ),
    Bad(
        "lone UTF-16 surrogate",
        "POST",
        "/widgets",
        b'{"name": "\\ud800", "maker": "x"}',
        message="name: must be valid Unicode",
    ),
    Bad(
        "number where a string belongs",
        "POST",
        "/widgets",
        b'{"name": 1, "maker": "x"}',
        message="name: must be a string",
    ),
    Bad(
        "string over the length limit",
        "POST",
        "/widgets",
        json.dumps({"name": "A" * 101, "maker": "x"}).encode(),
        message="name",
    ),
    Bad("unknown body field", "PUT", "/widgets/1", b'{"shoeSize": 44}', message="shoeSize: unknown field"),
    Bad(
        "path parameter not an integer",
        "GET",
        "/widgets/abc",
        content_type=None,
        message="widgetId: must be an integer",
    ),
    Bad(
        "path parameter a decimal",
        "DELETE",
        "/widgets/1.5",
        content_type=None,
        message="widgetId: must be an integer",
    ),
    Bad(
        "path parameter in non-ASCII digits",
        "GET",
        "/widgets/١٢",
        content_type=None,
        message="widgetId: must be an integer",
    ),
    Bad(
        "path parameter over bigint",
        "GET",
        "/widgets/9223372036854775808",
        content_type=None,
        message="widgetId: integer out of range",
    ),
    Bad(
        "path parameter under bigint",
        "PUT",
        "/widgets/-9223372036854775809",
        b'{"active": false}',
        message="widgetId: integer out of range",
    ),
    Bad(
        "SQL text as a path parameter",
        "GET",
        "/widgets/1 OR 1=1",
        content_type=None,
        message="widgetId: must be an integer",
    ),
    Bad(
        "SQL text as a cursor",
        "GET",
        "/widgets",
        content_type=None,
        query="cursor=1%27%20OR%20%271%27%3D%271",
        message="cursor: invalid",
    ),
    Bad(
        "unknown query parameter",
        "GET",
        "/widgets",
        content_type=None,
        query="colour=red",
        message="colour: unknown parameter",
    ),
    Bad(
        "unknown query parameter on a single row",
        "GET",
        "/widgets/1",
        content_type=None,
        query="verbose=1",
        message="verbose: unknown parameter",
    ),
    Bad("limit out of range", "GET", "/widgets", content_type=None, query="limit=101", message="limit: must be"),
    Bad("id with two signs (-+1)", "GET", "/widgets/-+1", content_type=None, message="widgetId: must be an integer"),
    Bad("id with two signs (+-1)", "PUT", "/widgets/+-1", b'{"active": false}', message="widgetId: must be an"),
    Bad("JSON nested 300 deep (objects)", "POST", "/widgets", nested(300), message="body: JSON is nested more"),
    Bad(
        "JSON nested 300 deep inside a field (arrays)",
        "PUT",
        "/widgets/1",
        b'{"status": ' + b"[" * 300 + b"]" * 300 + b"}",
        message="body: JSON is nested more",
    ),
    Bad(
        "6 MB of small nested arrays",
        "POST",
        "/widgets",
        b"[" + b"[]," * 1_900_000 + b"[]]",
        status=413,
        message="body: more than 100000 JSON values",
    ),
    Bad(
        "150 000 unique keys",
        "POST",
        "/widgets",
        json.dumps({f"key{i}": i for i in range(150_000)}).encode(),
        status=413,
        message="body: more than 100000 JSON values",
    ),
    Bad(
        "UUID with a trailing newline",
        "POST",
        "/widgets",
        json.dumps({"name": "A", "maker": "B", "widgetUuid": "6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1009\n"}).encode(),
        message="widgetUuid: must be a UUID",
    ),
    Bad(
        "nullable UUID with a trailing newline",
        "PUT",
        "/widgets/1",
        json.dumps({"batchId": "0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001\n"}).encode(),
        message="batchId: must be a UUID",
    ),
    Bad("unknown path", "GET", "/widgets/1/grades", content_type=None, status=404, message="no route for GET"),
    Bad(
        "wrong method on a known path",
        "PATCH",
        "/widgets/1",
        b'{"active": true}',
        status=405,
        message="method PATCH not allowed",
    ),
]
IDS = [bad.name for bad in BAD_INPUTS]


def check(bad: Bad, status: int, body: bytes, content_type: str) -> None:
    assert 400 <= status < 500 and status == bad.status, body[:300]
    assert content_type.startswith(JSON)
    answer = json.loads(body)
    assert set(answer) == {"message"} and isinstance(answer["message"], str)
    assert answer["message"].startswith(bad.message), answer


@pytest.fixture(scope="module")
def server(pg, app_src, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One worker serving the fixture app."""
    log = tmp_path_factory.mktemp("badinput") / "server.log"
    env = {"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    with LocalServer(env, workers=1, log=log) as running:
        yield running.base


@pytest.mark.slow
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=IDS)
def test_bad_input_over_http_is_a_4xx_with_a_message(bad, server):
    headers = {"Content-Type": bad.content_type} if bad.content_type else {}
    url = f"{server}{bad.path}" + (f"?{bad.query}" if bad.query else "")
    response = http.request(bad.method, url, data=bad.body or None, headers=headers, timeout=30)
    check(bad, response.status_code, response.content, response.headers.get("content-type", ""))


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=IDS)
def test_bad_input_through_the_handler_is_a_4xx_with_a_message(bad, lambda_env):
    headers = [("Content-Type", bad.content_type)] if bad.content_type else []
    response = handler(as_user(rest_v1_event(bad.method, bad.path, bad.query, headers, bad.body)), None)
    status, headers_out, body = http_response(response)
    check(bad, status, body, dict((k.lower(), v) for k, v in headers_out).get("content-type", ""))


@pytest.mark.parametrize(
    ("field", "arguments", "error", "message"),
    [
        ("Query.getTeacher", {}, "NotFound", "no resolver for GraphQL field Query.getTeacher"),
        ("Subscription.getWidget", {"widgetId": 1}, "NotFound", "no resolver"),
        ("Query.getWidget", {"widgetId": 1, "colour": "red"}, "BadRequest", "colour: unknown parameter"),
        ("Query.getWidget", {"widgetId": "1; DROP TABLE fixture_widgets"}, "BadRequest", "widgetId: must be an"),
        ("Mutation.saveWidget", {"body": {"name": "\u0000"}}, "BadRequest", "body.name: must not"),
    ],
)
def test_unknown_graphql_fields_and_arguments_are_client_errors(field, arguments, error, message, lambda_env):
    type_name, field_name = field.split(".")
    with pytest.raises(Exception) as raised:
        handler(as_user(appsync_event(type_name, field_name, arguments)), None)
    assert type(raised.value).__name__ == error and raised.value.status < 500
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        ({"args": {"widgetId": 1}}, 400, "unrecognised event"),
        ({"route": "drop_widgets", "args": {}}, 404, "unknown direct route 'drop_widgets'"),
        ({"route": 7, "args": {}}, 400, "route: must be the name"),
        ({"route": "get_widget", "args": [1]}, 400, "args: must be an object"),
        ({"route": "get_widget", "args": {"widgetId": 1, "extra": True}}, 400, "extra: unknown parameter"),
        ({"route": "create_widget", "args": {"body": "Ada"}}, 400, "body: must be a JSON object"),
    ],
)
def test_direct_invokes_with_missing_or_unknown_route_are_client_errors(event, status, message, lambda_env):
    answer = handler(as_user(event), None)
    assert answer["error"]["status"] == status
    assert answer["error"]["message"].startswith(message)


@pytest.mark.slow
def test_sql_injection_text_is_stored_literally_over_http(server, admin):
    evil = {"name": "x'); DELETE FROM fixture_widgets; --", "maker": '"; DROP TABLE fixture_widgets CASCADE; --'}
    created = http.post(f"{server}/widgets", json=evil, timeout=10)
    assert created.status_code == 201
    widget = created.json()
    try:
        assert {k: widget[k] for k in evil} == evil
        fetched = http.get(f"{server}/widgets/{widget['widgetId']}", timeout=10).json()
        assert {k: fetched[k] for k in evil} == evil
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM fixture_widgets")
            assert cur.fetchone()[0] >= len(SEEDED_IDS)  # the fixture's rows are still there
    finally:
        http.delete(f"{server}/widgets/{widget['widgetId']}", timeout=10)
