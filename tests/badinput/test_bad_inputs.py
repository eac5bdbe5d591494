"""The hand-written list of bad inputs: each gets a 4xx with a `{"message"}` body, never a 500, over real
HTTP to the local server and through the handler alike. docs/reliability.md lists the same inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import lambda_function
from local.events import appsync_event, http_response, rest_v1_event
from tests.faults.harness import LocalServer
from tests.identities import as_user, signed_in_session

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
    Bad("invalid JSON (trailing comma)", "POST", "/students", b'{"firstName": "Ada",}', message="body: malformed JSON"),
    Bad("JSON that is a string, not an object", "POST", "/students", b'"Ada"', message="body: must be a JSON object"),
    Bad("JSON that is an array", "PUT", "/students/1", b'[{"status": "graduated"}]', message="body: must be a JSON"),
    Bad("wrong content type (text/csv)", "POST", "/students", b"Ada,Lovelace", "text/csv", status=415),
    Bad("form-encoded body", "PUT", "/students/1", b"a=1", "application/x-www-form-urlencoded", status=415),
    Bad("empty body", "POST", "/students", b"", message="request body: is required"),
    Bad("empty JSON object on update", "PUT", "/students/1", b"{}", message="body: must set at least 1 field"),
    Bad("body over 6 MB", "POST", "/students", b'{"firstName": "' + b"x" * (6 * 1024 * 1024) + b'"}', status=413),
    Bad(
        "bytes that are not UTF-8",
        "POST",
        "/students",
        b'{"firstName": "\xff\xfe", "lastName": "x"}',
        message="body: is not valid UTF-8",
    ),
    Bad(
        "UTF-8 byte order mark",
        "POST",
        "/students",
        b'\xef\xbb\xbf{"firstName": "A", "lastName": "B"}',
        message="body: malformed JSON",
    ),
    Bad("JSON nested 10 000 deep (objects)", "POST", "/students", nested(10_000), message="body: JSON is nested"),
    Bad("JSON nested 10 000 deep (arrays)", "POST", "/students", b"[" * 10_000 + b"]" * 10_000, message="body"),
    Bad(
        "a 5 000-digit number",
        "POST",
        "/students",
        b'{"firstName": "A", "lastName": "B", "active": ' + b"9" * 5000 + b"}",
        message="body: malformed JSON",
    ),
    Bad(
        "NUL escaped in a string",
        "POST",
        "/students",
        b'{"firstName": "A\\u0000B", "lastName": "x"}',
        message="firstName: must not contain NUL",
    ),
    Bad(
        "NUL escaped in a key",
        "POST",
        "/students",
        b'{"first\\u0000Name": "A", "lastName": "x"}',
        message="body: keys must not contain NUL",
    ),
    Bad(
        "raw NUL byte in the JSON text",
        "POST",
        "/students",
        b'{"firstName": "A\x00B", "lastName": "x"}',
        message="body: malformed JSON",
    ),
    Bad(
        "NUL in a query parameter",
        "GET",
        "/students",
        content_type=None,
        query="cursor=%00",
        message="cursor: must not contain NUL",
    ),
    Bad(
        "lone UTF-16 surrogate",
        "POST",
        "/students",
        b'{"firstName": "\\ud800", "lastName": "x"}',
        message="firstName: must be valid Unicode",
    ),
    Bad(
        "number where a string belongs",
        "POST",
        "/students",
        b'{"firstName": 1, "lastName": "x"}',
        message="firstName: must be a string",
    ),
    Bad(
        "string over the length limit",
        "POST",
        "/students",
        json.dumps({"firstName": "A" * 101, "lastName": "x"}).encode(),
        message="firstName",
    ),
    Bad("unknown body field", "PUT", "/students/1", b'{"shoeSize": 44}', message="shoeSize: unknown field"),
    Bad(
        "path parameter not an integer",
        "GET",
        "/students/abc",
        content_type=None,
        message="studentId: must be an integer",
    ),
    Bad(
        "path parameter a decimal",
        "DELETE",
        "/students/1.5",
        content_type=None,
        message="studentId: must be an integer",
    ),
    Bad(
        "path parameter in non-ASCII digits",
        "GET",
        "/students/١٢",
        content_type=None,
        message="studentId: must be an integer",
    ),
    Bad(
        "path parameter over bigint",
        "GET",
        "/students/9223372036854775808",
        content_type=None,
        message="studentId: integer out of range",
    ),
    Bad(
        "path parameter under bigint",
        "PUT",
        "/students/-9223372036854775809",
        b'{"active": false}',
        message="studentId: integer out of range",
    ),
    Bad(
        "SQL text as a path parameter",
        "GET",
        "/students/1 OR 1=1",
        content_type=None,
        message="studentId: must be an integer",
    ),
    Bad(
        "SQL text as a cursor",
        "GET",
        "/students",
        content_type=None,
        query="cursor=1%27%20OR%20%271%27%3D%271",
        message="cursor: invalid",
    ),
    Bad(
        "unknown query parameter",
        "GET",
        "/students",
        content_type=None,
        query="colour=red",
        message="colour: unknown parameter",
    ),
    Bad(
        "unknown query parameter on a single row",
        "GET",
        "/students/1",
        content_type=None,
        query="verbose=1",
        message="verbose: unknown parameter",
    ),
    Bad("limit out of range", "GET", "/students", content_type=None, query="limit=101", message="limit: must be"),
    Bad("id with two signs (-+1)", "GET", "/students/-+1", content_type=None, message="studentId: must be an integer"),
    Bad("id with two signs (+-1)", "PUT", "/students/+-1", b'{"active": false}', message="studentId: must be an"),
    Bad("JSON nested 300 deep (objects)", "POST", "/students", nested(300), message="body: JSON is nested more"),
    Bad(
        "JSON nested 300 deep inside a field (arrays)",
        "PUT",
        "/students/1",
        b'{"status": ' + b"[" * 300 + b"]" * 300 + b"}",
        message="body: JSON is nested more",
    ),
    Bad(
        "6 MB of small nested arrays",
        "POST",
        "/students",
        b"[" + b"[]," * 1_900_000 + b"[]]",
        status=413,
        message="body: more than 100000 JSON values",
    ),
    Bad(
        "150 000 unique keys",
        "POST",
        "/students",
        json.dumps({f"key{i}": i for i in range(150_000)}).encode(),
        status=413,
        message="body: more than 100000 JSON values",
    ),
    Bad(
        "UUID with a trailing newline",
        "POST",
        "/students",
        json.dumps(
            {"firstName": "A", "lastName": "B", "studentUuid": "6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1009\n"}
        ).encode(),
        message="studentUuid: must be a UUID",
    ),
    Bad(
        "nullable UUID with a trailing newline",
        "PUT",
        "/students/1",
        json.dumps({"programId": "0b7e3f4c-7a1d-4a43-8d6e-5c2f9a100001\n"}).encode(),
        message="programId: must be a UUID",
    ),
    Bad("unknown path", "GET", "/students/1/grades", content_type=None, status=404, message="no route for GET"),
    Bad(
        "wrong method on a known path",
        "PATCH",
        "/students/1",
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
def server(pg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("badinput") / "server.log"
    with LocalServer({"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0"}, workers=1, log=log) as running:
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
    response = lambda_function.handler(as_user(rest_v1_event(bad.method, bad.path, bad.query, headers, bad.body)), None)
    status, headers_out, body = http_response(response)
    check(bad, status, body, dict((k.lower(), v) for k, v in headers_out).get("content-type", ""))


@pytest.mark.parametrize(
    ("field", "arguments", "error", "message"),
    [
        ("Query.getTeacher", {}, "NotFound", "no resolver for GraphQL field Query.getTeacher"),
        ("Subscription.getStudent", {"studentId": 1}, "NotFound", "no resolver"),
        ("Query.getStudent", {"studentId": 1, "colour": "red"}, "BadRequest", "colour: unknown parameter"),
        ("Query.getStudent", {"studentId": "1; DROP TABLE students"}, "BadRequest", "studentId: must be an"),
        ("Mutation.saveStudent", {"body": {"firstName": "\u0000"}}, "BadRequest", "body.firstName: must not"),
    ],
)
def test_unknown_graphql_fields_and_arguments_are_client_errors(field, arguments, error, message, lambda_env):
    type_name, field_name = field.split(".")
    with pytest.raises(Exception) as raised:
        lambda_function.handler(as_user(appsync_event(type_name, field_name, arguments)), None)
    assert type(raised.value).__name__ == error and raised.value.status < 500
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        ({"args": {"studentId": 1}}, 400, "unrecognised event"),
        ({"route": "drop_students", "args": {}}, 404, "unknown direct route 'drop_students'"),
        ({"route": 7, "args": {}}, 400, "route: must be the name"),
        ({"route": "get_student", "args": [1]}, 400, "args: must be an object"),
        ({"route": "get_student", "args": {"studentId": 1, "extra": True}}, 400, "extra: unknown parameter"),
        ({"route": "create_student", "args": {"body": "Ada"}}, 400, "body: must be a JSON object"),
    ],
)
def test_direct_invokes_with_missing_or_unknown_route_are_client_errors(event, status, message, lambda_env):
    answer = lambda_function.handler(as_user(event), None)
    assert answer["error"]["status"] == status
    assert answer["error"]["message"].startswith(message)


@pytest.mark.slow
def test_sql_injection_text_is_stored_literally_over_http(server, admin):
    evil = {"firstName": "x'); DELETE FROM students; --", "lastName": '"; DROP TABLE students CASCADE; --'}
    created = http.post(f"{server}/students", json=evil, timeout=10)
    assert created.status_code == 201
    student = created.json()
    try:
        assert {k: student[k] for k in evil} == evil
        fetched = http.get(f"{server}/students/{student['studentId']}", timeout=10).json()
        assert {k: fetched[k] for k in evil} == evil
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM students")
            assert cur.fetchone()[0] >= 5  # the seed is still there
    finally:
        http.delete(f"{server}/students/{student['studentId']}", timeout=10)
