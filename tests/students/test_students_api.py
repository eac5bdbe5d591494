"""The students sample through the real handler and a real PostgreSQL: CRUD, validation and the four event sources."""

from __future__ import annotations

import json

import pytest

import lambda_function
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.identities import as_user


def handle(event: dict, context: object = None):
    """The handler's answer to `event` from a user in every group (authorization is tested elsewhere)."""
    return lambda_function.handler(as_user(event), context)


def rest(method: str, path: str, body: object = None, *, query: str = "", raw: str | None = None, headers=None):
    text = raw if raw is not None else (json.dumps(body) if body is not None else "")
    hdrs = headers if headers is not None else ([("Content-Type", "application/json")] if text else [])
    event = rest_v1_event(method, path, query, hdrs, text.encode())
    response = handle(event)
    payload = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], payload


@pytest.fixture(autouse=True)
def _env(lambda_env):
    return lambda_env


def test_get_student_returns_camel_case_json_with_iso_dates_and_uuids():
    status, student = rest("GET", "/students/1")
    assert status == 200
    assert student["studentId"] == 1
    assert student["firstName"] == "Ada"
    assert student["studentUuid"] == "6f1c1a8e-4a7b-4c59-9a57-2f0d5a3c1001"
    assert "T" in student["createdAt"] and student["createdAt"].endswith("+00:00")
    assert set(student) == {
        "studentId", "studentUuid", "firstName", "lastName", "status", "programId", "active", "createdAt", "updatedAt",
    }  # fmt: skip


def test_list_students_pages_by_cursor_until_the_end():
    seen: list[int] = []
    cursor = ""
    for _ in range(100):
        status, page = rest("GET", "/students", query=f"limit=2&cursor={cursor}" if cursor else "limit=2")
        assert status == 200
        seen += [s["studentId"] for s in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 5


def test_create_then_update_then_delete_a_student(admin):
    status, created = rest("POST", "/students", {"firstName": "Mary", "lastName": "Jackson"})
    assert status == 201
    assert created["status"] == "enrolled" and created["active"] is True and created["studentUuid"]
    sid = created["studentId"]

    status, updated = rest("PUT", f"/students/{sid}", {"status": "graduated", "programId": None})
    assert status == 200
    assert updated["status"] == "graduated" and updated["firstName"] == "Mary"  # merge keeps the other fields

    status, deleted = rest("DELETE", f"/students/{sid}")
    assert status == 200 and deleted["studentId"] == sid
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM students WHERE student_id = %s", (sid,))
        assert cur.fetchone()[0] == 0
    assert rest("GET", f"/students/{sid}")[0] == 404


def test_create_keeps_a_given_student_uuid_and_a_duplicate_is_a_conflict():
    body = {"firstName": "Ida", "lastName": "Rhodes", "studentUuid": "11111111-2222-4333-8444-555555555555"}
    status, created = rest("POST", "/students", body)
    assert status == 201 and created["studentUuid"] == body["studentUuid"]
    status, error = rest("POST", "/students", body)
    assert status == 409 and "already exists" in error["message"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "body: malformed JSON"),
        ("[1, 2]", "body: must be a JSON object"),
        ('{"lastName": "X"}', "firstName: is required"),
        ('{"firstName": 3, "lastName": "X"}', "firstName: must be a string"),
        ('{"firstName": "A", "lastName": "X", "status": "asleep"}', "status: must be one of"),
        ('{"firstName": "A", "lastName": "X", "programId": "nope"}', "programId: must be a UUID"),
        ('{"firstName": "A", "lastName": "X", "shoeSize": 44}', "shoeSize: unknown field"),
        ('{"firstName": "A\\u0000", "lastName": "X"}', "firstName: must not contain NUL"),
        ("[" * 10_000 + "]" * 10_000, "body"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(raw, expected):
    status, error = rest("POST", "/students", raw=raw)
    assert status == 400
    assert error["message"].startswith(expected) or expected in error["message"]


def test_missing_body_wrong_content_type_and_bad_utf8_are_4xx():
    assert rest("POST", "/students") == (400, {"message": "request body: is required"})
    status, error = rest("POST", "/students", raw="a=1", headers=[("Content-Type", "text/plain")])
    assert status == 415 and "application/json" in error["message"]
    event = rest_v1_event("POST", "/students", "", [("Content-Type", "application/octet-stream")], b"\xff\xfe")
    response = handle(event)
    assert response["statusCode"] == 415


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/students/abc", "", "studentId: must be an integer"),
        ("/students/99999999999999999999", "", "studentId: integer out of range"),
        ("/students", "limit=0", "limit: must be at least 1"),
        ("/students", "limit=101", "limit: must be at most 100"),
        ("/students", "limit=ten", "limit: must be an integer"),
        ("/students", "cursor=bogus", "cursor: invalid"),
        ("/students", "colour=red", "colour: unknown parameter"),
    ],
)
def test_bad_path_and_query_parameters_are_400_naming_the_parameter(path, query, expected):
    status, error = rest("GET", path, query=query)
    assert status == 400
    assert error["message"].startswith(expected)


def test_unknown_path_is_404_and_wrong_method_is_405_with_allow():
    status, error = rest("GET", "/teachers")
    assert status == 404 and error == {"message": "no route for GET /teachers"}
    event = rest_v1_event("PATCH", "/students/1", "", [], b"")
    response = handle(event)
    assert response["statusCode"] == 405
    assert response["multiValueHeaders"]["Allow"] == ["DELETE, GET, PUT"]
    assert json.loads(response["body"])["message"] == "method PATCH not allowed on /students/1"


def test_missing_student_is_404():
    assert rest("GET", "/students/987654") == (404, {"message": "student 987654 not found"})


def test_sql_injection_text_is_stored_literally(admin):
    evil = "Robert'); DROP TABLE students;--"
    status, created = rest("POST", "/students", {"firstName": evil, "lastName": "Tables"})
    assert status == 201 and created["firstName"] == evil
    with admin.cursor() as cur:
        cur.execute("SELECT first_name FROM students WHERE student_id = %s", (created["studentId"],))
        assert cur.fetchone()[0] == evil
        cur.execute("SELECT to_regclass('students') IS NOT NULL")
        assert cur.fetchone()[0] is True


def test_the_same_function_answers_rest_v1_http_v2_graphql_and_direct_alike():
    _, via_rest = rest("GET", "/students/3")
    via_http = json.loads(handle(http_v2_event("GET", "/students/3"), None)["body"])
    via_graphql = handle(appsync_event("Query", "getStudent", {"studentId": 3}), None)
    via_direct = handle(direct_event("get_student", studentId=3), None)["data"]
    assert via_rest == via_http == via_graphql == via_direct
    assert via_rest["firstName"] == "Grace"


def test_graphql_save_student_creates_and_then_merges_an_update():
    created = handle(
        appsync_event("Mutation", "saveStudent", {"body": {"firstName": "Annie", "lastName": "Easley"}}), None
    )
    updated = handle(
        appsync_event("Mutation", "saveStudent", {"studentId": created["studentId"], "body": {"active": False}}), None
    )
    assert updated["studentId"] == created["studentId"]
    assert updated["active"] is False and updated["firstName"] == "Annie"


def test_graphql_errors_are_raised_with_a_clean_type_and_message():
    with pytest.raises(Exception) as caught:
        handle(appsync_event("Query", "getStudent", {"studentId": 424242}), None)
    assert type(caught.value).__name__ == "NotFound"
    assert str(caught.value) == "student 424242 not found"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(Exception) as unknown:
        handle(appsync_event("Query", "getTeacher", {}), None)
    assert "no resolver for GraphQL field Query.getTeacher" in str(unknown.value)


def test_direct_invokes_answer_data_or_an_error_envelope():
    listed = handle(direct_event("list_students", limit=2), None)
    assert len(listed["data"]["items"]) == 2 and listed["data"]["nextCursor"]
    assert lambda_function.handler({"route": "nope"}, None) == {
        "error": {"status": 404, "message": "unknown direct route 'nope'"}
    }
    assert lambda_function.handler({"args": {}, "route": None}, None)["error"]["status"] == 400
    assert handle(direct_event("get_student"), None) == {"error": {"status": 400, "message": "studentId: is required"}}
    assert lambda_function.handler({"something": "else"}, None)["error"]["status"] == 400


def test_a_path_parameter_repeated_in_the_query_is_a_400_not_silently_ignored():
    status, error = rest("GET", "/students/1", query="studentId=2")
    assert status == 400 and error["message"].startswith("studentId: given in the path")


@pytest.mark.parametrize(
    "raw",
    ['{"firstName": "a", "first_name": "b", "lastName": "x"}', '{"firstName": "a", "FirstName": "b", "lastName": "x"}'],
)
def test_one_field_spelled_two_ways_is_a_400(raw):
    status, error = rest("POST", "/students", raw=raw)
    assert status == 400 and "the same field is given twice" in error["message"]


def test_cors_allow_origin_is_sent_on_every_rest_answer_when_configured(monkeypatch):
    from lambdakit import settings as config

    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example")
    config.response_headers.cache_clear()
    try:
        for method, path in (("GET", "/students/1"), ("GET", "/nowhere"), ("PATCH", "/students/1")):
            response = handle(rest_v1_event(method, path, "", [], b""), None)
            assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["https://app.example"]
    finally:
        monkeypatch.delenv("CORS_ALLOW_ORIGIN")
        config.response_headers.cache_clear()
    assert (
        "Access-Control-Allow-Origin"
        not in handle(rest_v1_event("GET", "/students/1", "", [], b""), None)["multiValueHeaders"]
    )


def test_a_query_value_with_commas_reaches_the_function_whole_from_v1_and_v2():
    from lambdakit.binding import Binding
    from lambdakit.proxy import _query_inputs

    binding = Binding(lambda name=None, tags=None: None)
    v1 = rest_v1_event("GET", "/x", "name=Smith,John&name=Doe,Jane", [], b"")
    assert _query_inputs(v1, False, binding) == {"name": "Doe,Jane"}
    v2 = http_v2_event("GET", "/x", query="name=Smith,John")
    assert _query_inputs(v2, True, binding) == {"name": "Smith,John"}
    status, error = rest("GET", "/students", query="cursor=a,b")
    assert status == 400 and error["message"].startswith("cursor: invalid")


def test_direct_routes_such_as_migrate_cannot_be_reached_through_an_api_event():
    assert rest("POST", "/migrate")[0] == 404
    status, error = rest("POST", "/students", {"route": "migrate", "args": {}})
    assert status == 400 and error["message"] == "firstName: is required"  # a body, not a direct invoke
    with pytest.raises(Exception, match=r"no resolver for GraphQL field Mutation\.migrate"):
        handle(appsync_event("Mutation", "migrate", {}), None)


def test_a_trailing_slash_is_matched_alike_for_the_route_and_for_405():
    assert rest("GET", "/students/1/")[0] == 200
    assert rest("PATCH", "/students/1/")[0] == 405
