"""The students sample through the real handler and a real PostgreSQL: its CRUD, its rules, its event sources.

The rows each test reads are written here, so the tests pass with db/seed.sql emptied and run twice
against the same database. What every route module gets from the machinery (the JSON contract, errors,
event shapes) is shown on the fixture app in tests/integration/test_handler.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

import lambda_function
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support.identities import EVERY_GROUP, as_user

# Five students written by the `roster` fixture, in this order.
ROSTER = [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Edsger", "Dijkstra"), ("Barbara", "Liskov")]


def handle(event: dict, groups: tuple[str, ...] = EVERY_GROUP):
    """The handler's answer to `event` from a user in `groups` (by default, every group the sample names)."""
    return lambda_function.handler(as_user(event, groups), None)


def rest(method: str, path: str, body: object = None, *, query: str = "", raw: str | None = None, groups=EVERY_GROUP):
    text = raw if raw is not None else (json.dumps(body) if body is not None else "")
    headers = [("Content-Type", "application/json")] if text else []
    response = handle(rest_v1_event(method, path, query, headers, text.encode()), groups)
    payload = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], payload


@pytest.fixture(autouse=True)
def _env(lambda_env):
    return lambda_env


@pytest.fixture
def roster(admin) -> Iterator[list[int]]:
    """The ids of five students written for the test (removed again afterwards)."""
    with admin.cursor() as cur:
        cur.execute(
            "INSERT INTO students (first_name, last_name) SELECT first_name, last_name"
            " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS r(first_name, last_name, n) ORDER BY n"
            " RETURNING student_id",
            ([first for first, _ in ROSTER], [last for _, last in ROSTER]),
        )
        ids = sorted(row[0] for row in cur.fetchall())
    yield ids
    with admin.cursor() as cur:
        cur.execute("DELETE FROM students WHERE student_id = ANY(%s)", (ids,))


def test_a_student_is_camel_case_json_with_its_defaults(roster):
    status, student = rest("GET", f"/students/{roster[0]}")
    assert status == 200
    assert (student["studentId"], student["firstName"], student["lastName"]) == (roster[0], "Ada", "Lovelace")
    assert student["status"] == "enrolled" and student["active"] is True and student["programId"] is None
    assert uuid.UUID(student["studentUuid"]) and student["createdAt"].endswith("+00:00")
    assert set(student) == {
        "studentId", "studentUuid", "firstName", "lastName", "status", "programId", "active", "createdAt", "updatedAt",
    }  # fmt: skip


def test_the_list_pages_by_cursor_in_id_order_until_the_end(roster):
    seen: list[int] = []
    cursor = ""
    for _ in range(1000):
        status, page = rest("GET", "/students", query=f"limit=2&cursor={cursor}" if cursor else "limit=2")
        assert status == 200 and len(page["items"]) <= 2
        seen += [s["studentId"] for s in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(roster) <= set(seen)


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
    assert rest("GET", f"/students/{sid}") == (404, {"message": f"student {sid} not found"})


def test_create_answers_201_with_the_new_rows_location():
    response = handle(
        rest_v1_event(
            "POST", "/students", "", [("Content-Type", "application/json")], b'{"firstName": "A", "lastName": "B"}'
        )
    )
    created = json.loads(response["body"])
    try:
        assert response["statusCode"] == 201
        assert response["multiValueHeaders"]["Location"] == [f"/students/{created['studentId']}"]
    finally:
        rest("DELETE", f"/students/{created['studentId']}")


def test_create_keeps_a_given_student_uuid_and_a_duplicate_is_a_conflict(admin):
    # A new UUID each run: the file passes when run twice against the same database.
    body = {"firstName": "Ida", "lastName": "Rhodes", "studentUuid": str(uuid.uuid4())}
    try:
        status, created = rest("POST", "/students", body)
        assert status == 201 and created["studentUuid"] == body["studentUuid"]
        status, error = rest("POST", "/students", body)
        assert status == 409 and error == {"message": "conflict: already exists (students_student_uuid_key)"}
    finally:
        with admin.cursor() as cur:
            cur.execute("DELETE FROM students WHERE student_uuid = %s", (body["studentUuid"],))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"lastName": "X"}', "firstName: is required"),
        ('{"firstName": "", "lastName": "X"}', "firstName: must be at least 1 characters"),
        ('{"firstName": "' + "A" * 101 + '", "lastName": "X"}', "firstName: must be at most 100 characters"),
        ('{"firstName": 3, "lastName": "X"}', "firstName: must be a string"),
        ('{"firstName": "A", "lastName": "X", "status": "asleep"}', "status: must be one of"),
        ('{"firstName": "A", "lastName": "X", "programId": "nope"}', "programId: must be a UUID"),
        ('{"firstName": "A", "lastName": "X", "studentUuid": "x"}', "studentUuid: must be a UUID"),
        ('{"firstName": "A", "lastName": "X", "active": "yes"}', "active: must be a boolean"),
        ('{"firstName": "A", "lastName": "X", "shoeSize": 44}', "shoeSize: unknown field"),
    ],
)
def test_a_bad_new_student_is_a_400_naming_the_field(raw, expected):
    status, error = rest("POST", "/students", raw=raw)
    assert status == 400
    assert error["message"].startswith(expected)


def test_an_update_must_change_something_and_only_known_fields(roster):
    assert rest("PUT", f"/students/{roster[0]}", {}) == (400, {"message": "body: must set at least 1 field"})
    assert rest("PUT", f"/students/{roster[0]}", {"nickname": "x"}) == (400, {"message": "nickname: unknown field"})


def test_a_missing_student_is_404_on_read_update_and_delete():
    assert rest("GET", "/students/987654") == (404, {"message": "student 987654 not found"})
    assert rest("PUT", "/students/987654", {"active": False}) == (404, {"message": "student 987654 not found"})
    assert rest("DELETE", "/students/987654") == (404, {"message": "student 987654 not found"})


def test_a_student_path_answers_405_with_the_methods_it_has(roster):
    response = handle(rest_v1_event("PATCH", f"/students/{roster[0]}", "", [], b""))
    assert response["statusCode"] == 405
    assert response["multiValueHeaders"]["Allow"] == ["DELETE, GET, PUT"]


def test_any_signed_in_user_reads_staff_writes_and_only_admin_deletes(roster):
    assert rest("GET", f"/students/{roster[1]}", groups=())[0] == 200
    assert rest("POST", "/students", {"firstName": "A", "lastName": "B"}, groups=()) == (
        403,
        {"message": "requires group staff"},
    )
    assert rest("PUT", f"/students/{roster[1]}", {"active": False}, groups=("admin",)) == (
        403,
        {"message": "requires group staff"},
    )
    assert rest("DELETE", f"/students/{roster[1]}", groups=("staff",)) == (403, {"message": "requires group admin"})
    with pytest.raises(Exception, match="requires group admin"):
        handle(appsync_event("Mutation", "deleteStudent", {"studentId": roster[1]}), ("staff",))


def test_the_same_function_answers_rest_v1_http_v2_graphql_and_direct_alike(roster):
    grace = roster[2]
    _, via_rest = rest("GET", f"/students/{grace}")
    via_http = json.loads(handle(http_v2_event("GET", f"/students/{grace}"))["body"])
    via_graphql = handle(appsync_event("Query", "getStudent", {"studentId": grace}))
    via_direct = handle(direct_event("get_student", studentId=grace))["data"]
    assert via_rest == via_http == via_graphql == via_direct
    assert via_rest["firstName"] == "Grace"


def test_graphql_save_student_creates_and_then_merges_an_update():
    created = handle(appsync_event("Mutation", "saveStudent", {"body": {"firstName": "Annie", "lastName": "Easley"}}))
    try:
        updated = handle(
            appsync_event("Mutation", "saveStudent", {"studentId": created["studentId"], "body": {"active": False}})
        )
        assert updated["studentId"] == created["studentId"]
        assert updated["active"] is False and updated["firstName"] == "Annie"
        with pytest.raises(Exception, match="firstName: is required"):
            handle(appsync_event("Mutation", "saveStudent", {"body": {"lastName": "Only"}}))
    finally:
        handle(appsync_event("Mutation", "deleteStudent", {"studentId": created["studentId"]}))


def test_direct_routes_list_get_and_save(roster):
    listed = handle(direct_event("list_students", limit=2))
    assert len(listed["data"]["items"]) == 2 and listed["data"]["nextCursor"]
    assert handle(direct_event("get_student", studentId=roster[3]))["data"]["lastName"] == "Dijkstra"
    assert handle(direct_event("get_student")) == {"error": {"status": 400, "message": "studentId: is required"}}
    saved = handle(direct_event("save_student", studentId=roster[3], body={"status": "withdrawn"}))
    assert saved["data"]["status"] == "withdrawn"


def test_sql_injection_text_is_stored_literally(admin):
    evil = "Robert'); DROP TABLE students;--"
    status, created = rest("POST", "/students", {"firstName": evil, "lastName": "Tables"})
    try:
        assert status == 201 and created["firstName"] == evil
        with admin.cursor() as cur:
            cur.execute("SELECT first_name FROM students WHERE student_id = %s", (created["studentId"],))
            assert cur.fetchone()[0] == evil
    finally:
        rest("DELETE", f"/students/{created['studentId']}")
