"""The handler through the fixture app and a real PostgreSQL: the JSON contract, validation, errors and event sources.

What the router and `@transaction` promise any route module, shown on the fixture app's widgets
(tests/support/app), so it holds whatever the project's own routes are.
"""

from __future__ import annotations

import json
import uuid

import pytest

from lambdakit import Router
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support import app
from tests.support.identities import as_user


def handle(event: dict, context: object = None):
    """The fixture app's answer to `event` from a user in every group (authorization has its own tests)."""
    return app.handler(as_user(event), context)


def rest(method: str, path: str, body: object = None, *, query: str = "", raw: str | None = None, headers=None):
    text = raw if raw is not None else (json.dumps(body) if body is not None else "")
    hdrs = headers if headers is not None else ([("Content-Type", "application/json")] if text else [])
    response = handle(rest_v1_event(method, path, query, hdrs, text.encode()))
    payload = json.loads(response["body"]) if response["body"] else None
    return response["statusCode"], payload


def new_widget(**fields) -> dict:
    """Create a widget through the API and return it."""
    status, created = rest("POST", "/widgets", {"name": "Cog", "maker": "Tests", **fields})
    assert status == 201, created
    return created


@pytest.fixture(autouse=True)
def _env(lambda_env):
    return lambda_env


def test_a_row_is_camel_case_json_with_iso_dates_uuids_and_decimals_as_text():
    status, widget = rest("GET", "/widgets/1")
    assert status == 200
    assert {k: widget[k] for k in app.FIRST_ROW} == app.FIRST_ROW
    assert widget["price"] == "4.50"  # a numeric column: exact text, never a float or a repr
    assert "T" in widget["createdAt"] and widget["createdAt"].endswith("+00:00")
    assert set(widget) == {
        "widgetId", "widgetUuid", "name", "maker", "status", "batchId", "stock", "price", "active", "createdAt",
        "updatedAt",
    }  # fmt: skip


def test_a_listing_pages_by_cursor_until_the_end():
    seen: list[int] = []
    cursor = ""
    for _ in range(1000):
        status, page = rest("GET", "/widgets", query=f"limit=2&cursor={cursor}" if cursor else "limit=2")
        assert status == 200 and len(page["items"]) <= 2
        seen += [w["widgetId"] for w in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(app.SEEDED_IDS) <= set(seen)


def test_create_answers_201_with_location_then_update_merges_then_delete_removes(admin):
    status, created = rest("POST", "/widgets", {"name": "Mainspring", "maker": "Tests"})
    assert status == 201
    assert created["status"] == "draft" and created["active"] is True and created["stock"] == 0
    wid = created["widgetId"]

    status, updated = rest("PUT", f"/widgets/{wid}", {"status": "listed", "batchId": None})
    assert status == 200
    assert updated["status"] == "listed" and updated["name"] == "Mainspring"  # the fields not given are kept

    status, deleted = rest("DELETE", f"/widgets/{wid}")
    assert status == 200 and deleted["widgetId"] == wid
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_widgets WHERE widget_id = %s", (wid,))
        assert cur.fetchone()[0] == 0
    assert rest("GET", f"/widgets/{wid}") == (404, {"message": f"widget {wid} not found"})


def test_a_given_uuid_is_kept_and_a_duplicate_is_a_409_naming_the_constraint(admin):
    body = {"name": "Twin", "maker": "Tests", "widgetUuid": str(uuid.uuid4())}
    status, created = rest("POST", "/widgets", body)
    try:
        assert status == 201 and created["widgetUuid"] == body["widgetUuid"]
        status, error = rest("POST", "/widgets", body)
        assert status == 409
        assert error == {"message": "conflict: already exists (fixture_widgets_widget_uuid_key)"}
    finally:
        with admin.cursor() as cur:
            cur.execute("DELETE FROM fixture_widgets WHERE widget_uuid = %s", (body["widgetUuid"],))


def test_a_value_only_the_database_refuses_is_a_400_naming_its_check_and_writes_nothing(admin):
    marker = f"check-{uuid.uuid4()}"
    status, error = rest("POST", "/widgets", {"name": marker, "maker": "Tests", "stock": -1})
    assert status == 400
    assert error == {"message": "invalid value: violates fixture_widgets_stock_check"}
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_widgets WHERE name = %s", (marker,))
        assert cur.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "body: malformed JSON"),
        ("[1, 2]", "body: must be a JSON object"),
        ('{"maker": "X"}', "name: is required"),
        ('{"name": 3, "maker": "X"}', "name: must be a string"),
        ('{"name": "A", "maker": "X", "status": "lost"}', "status: must be one of"),
        ('{"name": "A", "maker": "X", "batchId": "nope"}', "batchId: must be a UUID"),
        ('{"name": "A", "maker": "X", "colour": "red"}', "colour: unknown field"),
        ('{"name": "A\\u0000", "maker": "X"}', "name: must not contain NUL"),
        ("[" * 10_000 + "]" * 10_000, "body"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(raw, expected):
    status, error = rest("POST", "/widgets", raw=raw)
    assert status == 400
    assert error["message"].startswith(expected)


def test_an_unknown_body_field_is_refused_on_create_and_on_update_and_writes_nothing(admin):
    marker = f"unknown-{uuid.uuid4()}"
    status, error = rest("POST", "/widgets", {"name": marker, "maker": "X", "shoeSize": 44})
    assert (status, error) == (400, {"message": "shoeSize: unknown field"})
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM fixture_widgets WHERE name = %s", (marker,))
        assert cur.fetchone()[0] == 0
    widget = new_widget()
    status, error = rest("PUT", f"/widgets/{widget['widgetId']}", {"stock": 5, "shoeSize": 44})
    assert (status, error) == (400, {"message": "shoeSize: unknown field"})
    assert rest("GET", f"/widgets/{widget['widgetId']}") == (200, widget)


def test_a_missing_body_a_wrong_content_type_and_bytes_that_are_not_utf8_are_4xx():
    assert rest("POST", "/widgets") == (400, {"message": "request body: is required"})
    status, error = rest("POST", "/widgets", raw="a=1", headers=[("Content-Type", "text/plain")])
    assert status == 415 and "application/json" in error["message"]
    event = rest_v1_event("POST", "/widgets", "", [("Content-Type", "application/octet-stream")], b"\xff\xfe")
    assert handle(event)["statusCode"] == 415


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/widgets/abc", "", "widgetId: must be an integer"),
        ("/widgets/99999999999999999999", "", "widgetId: integer out of range"),
        ("/widgets", "limit=0", "limit: must be at least 1"),
        ("/widgets", "limit=101", "limit: must be at most 100"),
        ("/widgets", "limit=ten", "limit: must be an integer"),
        ("/widgets", "cursor=bogus", "cursor: invalid"),
        ("/widgets", "colour=red", "colour: unknown parameter"),
    ],
)
def test_a_bad_path_or_query_parameter_is_a_400_naming_it(path, query, expected):
    status, error = rest("GET", path, query=query)
    assert status == 400
    assert error["message"].startswith(expected)


def test_an_unknown_path_is_404_and_a_wrong_method_is_405_with_allow():
    assert rest("GET", "/teachers") == (404, {"message": "no route for GET /teachers"})
    response = handle(rest_v1_event("PATCH", "/widgets/1", "", [], b""))
    assert response["statusCode"] == 405
    assert response["multiValueHeaders"]["Allow"] == ["DELETE, GET, PUT"]
    assert json.loads(response["body"]) == {"message": "method PATCH not allowed on /widgets/1"}


def test_a_trailing_slash_is_matched_alike_for_the_route_and_for_405():
    assert rest("GET", "/widgets/1/")[0] == 200
    assert rest("PATCH", "/widgets/1/")[0] == 405


def test_sql_injection_text_is_stored_literally(admin):
    evil = "Robert'); DROP TABLE fixture_widgets;--"
    created = new_widget(name=evil)
    assert created["name"] == evil
    with admin.cursor() as cur:
        cur.execute("SELECT name FROM fixture_widgets WHERE widget_id = %s", (created["widgetId"],))
        assert cur.fetchone()[0] == evil
        cur.execute("SELECT to_regclass('fixture_widgets') IS NOT NULL")
        assert cur.fetchone()[0] is True


def test_one_function_answers_rest_v1_http_v2_graphql_and_direct_alike():
    _, via_rest = rest("GET", "/widgets/3")
    via_http = json.loads(handle(http_v2_event("GET", "/widgets/3"))["body"])
    via_graphql = handle(appsync_event("Query", "getWidget", {"widgetId": 3}))
    via_direct = handle(direct_event("get_widget", widgetId=3))["data"]
    assert via_rest == via_http == via_graphql == via_direct
    assert via_rest["widgetId"] == 3


def test_graphql_save_creates_and_then_merges_an_update():
    created = handle(appsync_event("Mutation", "saveWidget", {"body": {"name": "Axle", "maker": "Tests"}}))
    updated = handle(
        appsync_event("Mutation", "saveWidget", {"widgetId": created["widgetId"], "body": {"active": False}})
    )
    assert updated["widgetId"] == created["widgetId"]
    assert updated["active"] is False and updated["name"] == "Axle"


def test_graphql_errors_are_raised_with_a_clean_type_and_message():
    with pytest.raises(Exception) as caught:
        handle(appsync_event("Query", "getWidget", {"widgetId": 424242}))
    assert type(caught.value).__name__ == "NotFound"
    assert str(caught.value) == "widget 424242 not found"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(Exception, match=r"no resolver for GraphQL field Query\.getTeacher"):
        handle(appsync_event("Query", "getTeacher", {}))


def test_direct_invokes_answer_data_or_an_error_envelope():
    listed = handle(direct_event("list_widgets", limit=2))
    assert len(listed["data"]["items"]) == 2 and listed["data"]["nextCursor"]
    assert app.handler({"route": "nope"}) == {"error": {"status": 404, "message": "unknown direct route 'nope'"}}
    assert app.handler({"args": {}, "route": None})["error"]["status"] == 400
    assert handle(direct_event("get_widget")) == {"error": {"status": 400, "message": "widgetId: is required"}}
    assert app.handler({"something": "else"})["error"]["status"] == 400


def test_a_path_parameter_repeated_in_the_query_is_a_400_not_silently_ignored():
    status, error = rest("GET", "/widgets/1", query="widgetId=2")
    assert status == 400 and error["message"].startswith("widgetId: given in the path")


@pytest.mark.parametrize(
    "raw",
    ['{"name": "a", "maker": "x", "Name": "b"}', '{"name": "a", "batchId": null, "batch_id": null, "maker": "x"}'],
)
def test_one_field_spelled_two_ways_is_a_400(raw):
    status, error = rest("POST", "/widgets", raw=raw)
    assert status == 400 and "the same field is given twice" in error["message"]


def test_cors_allow_origin_is_sent_on_every_rest_answer_when_configured(monkeypatch):
    from lambdakit import settings as config

    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://app.example")
    config.response_headers.cache_clear()
    try:
        for method, path in (("GET", "/widgets/1"), ("GET", "/nowhere"), ("PATCH", "/widgets/1")):
            response = handle(rest_v1_event(method, path, "", [], b""))
            assert response["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["https://app.example"]
    finally:
        monkeypatch.delenv("CORS_ALLOW_ORIGIN")
        config.response_headers.cache_clear()
    assert (
        "Access-Control-Allow-Origin"
        not in handle(rest_v1_event("GET", "/widgets/1", "", [], b""))["multiValueHeaders"]
    )


def test_a_query_value_with_commas_reaches_the_function_whole_from_v1_and_v2():
    echo = Router()

    @echo.rest("GET", "/echo")
    def echo_name(name: str) -> dict:
        return {"name": name}

    v1 = rest_v1_event("GET", "/echo", "name=Smith,John&name=Doe,Jane", [], b"")
    assert json.loads(echo.handle(v1)["body"]) == {"name": "Doe,Jane"}  # the last value, as API Gateway's single map
    v2 = http_v2_event("GET", "/echo", query="name=Smith,John")
    assert json.loads(echo.handle(v2)["body"]) == {"name": "Smith,John"}
    status, error = rest("GET", "/widgets", query="cursor=a,b")
    assert status == 400 and error["message"].startswith("cursor: invalid")


def test_direct_routes_such_as_migrate_cannot_be_reached_through_an_api_event():
    assert rest("POST", "/migrate")[0] == 404
    status, error = rest("POST", "/widgets", {"route": "migrate", "args": {}})
    assert status == 400 and error["message"] == "name: is required"  # a body, not a direct invoke
    with pytest.raises(Exception, match=r"no resolver for GraphQL field Mutation\.migrate"):
        handle(appsync_event("Mutation", "migrate", {}))
