"""Malformed events: a field the router reads, holding the wrong type, is a 400 naming it, from every source.

API Gateway, AppSync and Lambda never send such events; a hand-made one can (a test, `make invoke`, a
direct invoke from another service). Each field the router reads for the fixture app's routes is replaced
by values of every other JSON type, and the answer must be the source's 400: a proxy answer with status 400
(REST v1, HTTP API v2), a raised `BadRequest` (AppSync shows its type), or `{"error": {"status": 400}}`
(a direct invoke). Never a 500, and never an exception of another kind.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support.app import handler
from tests.support.identities import as_user

WRONG = {"object": {"a": "b"}, "list": ["a"], "number": 5, "text": "x", "true": True}
JSON = [("Content-Type", "application/json")]


def _rest_list() -> dict:
    return as_user(rest_v1_event("GET", "/widgets", "limit=2", [], b"", resource="/widgets"))


def _rest_update() -> dict:
    event = rest_v1_event(
        "PUT",
        "/widgets/999999",
        "",
        JSON,
        b'{"status": "sold"}',
        resource="/widgets/{widgetId}",
        path_parameters={"widgetId": "999999"},
    )
    return as_user(event, groups=("staff", "reviewer"))  # two groups: read from the token the event carries


def _http_update() -> dict:
    event = http_v2_event("PUT", "/widgets/999999", body='{"status": "sold"}')
    event["routeKey"] = "PUT /widgets/{widgetId}"
    event["pathParameters"] = {"widgetId": "999999"}
    return as_user(event, groups=("staff", "reviewer"))


def _http_list() -> dict:
    event = http_v2_event("GET", "/widgets", query="limit=2")
    event["routeKey"] = "GET /widgets"
    return as_user(event)


def _appsync_delete() -> dict:
    return as_user(appsync_event("Mutation", "deleteWidget", {"widgetId": 999999}))


def _direct_delete() -> dict:
    event = as_user(direct_event("delete_widget", widgetId=999999))
    event["caller"]["claims"] = {"email": "tester@example.com"}
    return event


# (base event, the path of each field the router reads in it, and the type that field holds)
CASES: dict[str, tuple[Callable[[], dict], list[tuple[tuple[str, ...], str]]]] = {
    "rest list": (
        _rest_list,
        [
            (("httpMethod",), "text"),
            (("path",), "text"),
            (("resource",), "text"),
            (("queryStringParameters",), "object"),
            (("queryStringParameters", "limit"), "text"),
            (("multiValueQueryStringParameters",), "object"),
            (("multiValueQueryStringParameters", "limit"), "list"),
            (("requestContext",), "object"),
            (("requestContext", "requestId"), "text"),
        ],
    ),
    "rest update": (
        _rest_update,
        [
            (("headers",), "object"),
            (("headers", "Content-Type"), "text"),
            (("headers", "Authorization"), "text"),
            (("pathParameters",), "object"),
            (("pathParameters", "widgetId"), "text"),
            (("body",), "text"),
            (("isBase64Encoded",), "true"),
            (("requestContext", "identity"), "object"),
            (("requestContext", "authorizer"), "object"),
            (("requestContext", "authorizer", "claims"), "object"),
            (("requestContext", "authorizer", "claims", "cognito:groups"), "text"),
        ],
    ),
    "http list": (
        _http_list,
        [
            (("rawPath",), "text"),
            (("routeKey",), "text"),
            (("queryStringParameters",), "object"),
            (("queryStringParameters", "limit"), "text"),
            (("requestContext",), "object"),
            (("requestContext", "http"), "object"),
            (("requestContext", "http", "method"), "text"),
        ],
    ),
    "http update": (
        _http_update,
        [
            (("headers",), "object"),
            (("headers", "content-type"), "text"),
            (("headers", "Authorization"), "text"),
            (("pathParameters",), "object"),
            (("pathParameters", "widgetId"), "text"),
            (("body",), "text"),
            (("isBase64Encoded",), "true"),
            (("requestContext", "authorizer"), "object"),
            (("requestContext", "authorizer", "jwt"), "object"),
            (("requestContext", "authorizer", "jwt", "claims"), "object"),
            (("requestContext", "authorizer", "jwt", "claims", "cognito:groups"), "text"),
        ],
    ),
    "appsync": (
        _appsync_delete,
        [
            (("arguments",), "object"),
            (("info", "fieldName"), "text"),
            (("info", "parentTypeName"), "text"),
            (("identity",), "object"),
            (("identity", "claims"), "object"),
            (("identity", "groups"), "list"),
            (("identity", "username"), "text"),
        ],
    ),
    "direct": (
        _direct_delete,
        [
            (("route",), "text"),
            (("args",), "object"),
            (("caller",), "object"),
            (("caller", "groups"), "list"),
            (("caller", "subject"), "text"),
            (("caller", "claims"), "object"),
        ],
    ),
}


def _replaced(event: dict, path: tuple[str, ...], value: Any) -> dict:
    changed = copy.deepcopy(event)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _status_and_message(event: dict) -> tuple[int, str]:
    """The source's answer as (status, message); AppSync's raised error as its type's status."""
    try:
        answer = handler(event, None)
    except Exception as exc:  # AppSync: the function raises, and AppSync shows the type and message
        return getattr(exc, "status", 500), f"{type(exc).__name__}: {exc}"
    if "statusCode" in answer:
        return answer["statusCode"], json.loads(answer["body"] or "{}").get("message", "")
    if "error" in answer:
        return answer["error"]["status"], answer["error"]["message"]
    return 200, ""


MUTATIONS = [
    pytest.param(case, path, wrong, id=f"{case}:{'.'.join(path)}={wrong}")
    for case, (_, fields) in CASES.items()
    for path, kind in fields
    for wrong in WRONG
    if wrong != kind
]


@pytest.mark.parametrize(("case", "path", "wrong"), MUTATIONS)
def test_a_field_of_the_wrong_type_is_a_400(case, path, wrong, lambda_env):
    base = CASES[case][0]()
    status, message = _status_and_message(base)
    assert status != 400 and status < 500, f"the base event must be well formed: {status} {message}"
    status, message = _status_and_message(_replaced(base, path, WRONG[wrong]))
    assert status == 400, f"{'.'.join(path)} = {WRONG[wrong]!r}: {status} {message}"


def test_a_query_value_that_is_not_a_list_in_multi_value_parameters_is_a_400_naming_it(lambda_env):
    event = as_user(rest_v1_event("GET", "/widgets", "", [], b"", resource="/widgets"))
    event["multiValueQueryStringParameters"] = {"limit": 5}  # the example found by hand: was a 500
    assert _status_and_message(event) == (400, "multiValueQueryStringParameters.limit: must be a list of strings")
    event["multiValueQueryStringParameters"] = {"limit": ["5", 6]}  # a variant: one item of another type
    assert _status_and_message(event)[0] == 400


def test_an_appsync_field_name_that_is_a_list_is_a_bad_request_not_a_type_error(lambda_env):
    event = as_user(appsync_event("Query", "getWidget", {"widgetId": 1}))
    event["info"]["fieldName"] = ["getWidget"]  # the example found by hand: TypeError (unhashable list)
    with pytest.raises(Exception) as raised:
        handler(event, None)
    assert type(raised.value).__name__ == "BadRequest"
    assert str(raised.value) == "info.parentTypeName, info.fieldName: must be text"
    event["info"]["fieldName"], event["info"]["parentTypeName"] = "getWidget", {"name": "Query"}  # a variant
    with pytest.raises(Exception, match="must be text"):
        handler(event, None)


def test_every_case_lists_only_fields_its_base_event_holds():
    for case, (build, fields) in CASES.items():
        event = build()
        for path, _ in fields:
            target = event
            for key in path[:-1]:
                target = target[key]
            assert path[-1] in target, f"{case}: {'.'.join(path)} is not in the base event"
