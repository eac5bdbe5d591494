"""Authorization in the function: declared on the route, enforced for every event source, the caller in the route.

No database: the routes here are plain functions. The identities are the shapes API Gateway (REST v1,
HTTP v2), AppSync and a direct invoker put in the event (local/auth.py writes them for the local server).
"""

from __future__ import annotations

import json

import pytest

from lambdakit import Caller, Request
from lambdakit.authorization import default_auth
from lambdakit.router import Router
from local.auth import Identity, attach_rest, http_iam_authorizer
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from local.sigv4 import Signer
from tests.support.identities import as_user


def _router() -> Router:
    router = Router()

    @router.rest("GET", "/health", auth="none")
    @router.graphql("Query", "health", auth="none")
    def health() -> dict:
        return {"ok": True}

    @router.rest("GET", "/things")
    @router.graphql("Query", "things")
    @router.direct("things")
    def things() -> list:
        return []

    @router.rest("DELETE", "/things/{thingId}", groups=["admin"])
    @router.graphql("Mutation", "deleteThing", groups=["admin"])
    @router.direct("delete_thing", groups=["admin"])
    def delete_thing(thing_id: int) -> dict:
        return {"deleted": thing_id}

    @router.rest("GET", "/reports", scopes=["reports/read"])
    def reports() -> list:
        return []

    @router.rest("GET", "/whoami")
    @router.graphql("Query", "whoami")
    @router.direct("whoami")
    def whoami(caller: Caller, request: Request) -> dict:
        return {
            "kind": caller.kind,
            "subject": caller.subject,
            "username": caller.username,
            "groups": list(caller.groups),
            "trace": request.header("X-Trace"),
            "cookies": dict(request.cookies),
        }

    return router


@pytest.fixture
def router(monkeypatch):
    monkeypatch.setenv("AUTH", "cognito")
    default_auth.cache_clear()
    yield _router()
    default_auth.cache_clear()


def _status(answer) -> int:
    """The status of any source's answer: proxy response, direct envelope, or a raised GraphQL error."""
    if "statusCode" in answer:
        return answer["statusCode"]
    return answer.get("error", {}).get("status", 200)


# (source, event builder) for REST v1, HTTP v2 and direct; AppSync raises, so it has its own tests.
SOURCES = {
    "rest": lambda method, path, name, args: rest_v1_event(method, path, "", [], b""),
    "http": lambda method, path, name, args: http_v2_event(method, path),
    "direct": lambda method, path, name, args: direct_event(name, **args),
}


@pytest.mark.parametrize("source", SOURCES)
def test_a_route_needing_a_group_is_401_anonymous_403_without_the_group_and_200_with_it(router, source):
    def event():
        return SOURCES[source]("DELETE", "/things/7", "delete_thing", {"thingId": 7})

    anonymous = router.handle(event())
    assert _status(anonymous) == 401
    if source != "direct":
        assert json.loads(anonymous["body"]) == {"message": "Unauthorized"}
    member = router.handle(as_user(event(), groups=("staff",)))
    assert _status(member) == 403
    message = json.loads(member["body"])["message"] if source != "direct" else member["error"]["message"]
    assert message == "requires group admin"
    assert _status(router.handle(as_user(event(), groups=("admin",)))) == 200


@pytest.mark.parametrize("source", ["rest", "http"])
def test_with_auth_on_a_default_route_refuses_anonymous_and_a_public_one_does_not(router, source):
    assert _status(router.handle(SOURCES[source]("GET", "/things", "things", {}))) == 401
    assert _status(router.handle(as_user(SOURCES[source]("GET", "/things", "things", {})))) == 200
    assert _status(router.handle(SOURCES[source]("GET", "/health", "health", {}))) == 200


def test_a_direct_invoke_is_trusted_as_iam_and_only_declared_groups_are_checked(router):
    assert router.handle(direct_event("things")) == {"data": []}
    assert router.handle(direct_event("delete_thing", thingId=1))["error"] == {"status": 401, "message": "Unauthorized"}


def test_without_auth_only_declared_groups_and_scopes_are_enforced(monkeypatch):
    monkeypatch.delenv("AUTH", raising=False)
    default_auth.cache_clear()
    router = _router()
    assert _status(router.handle(rest_v1_event("GET", "/things", "", [], b""))) == 200
    assert _status(router.handle(rest_v1_event("DELETE", "/things/1", "", [], b""))) == 401
    default_auth.cache_clear()


def test_scopes_are_checked_against_the_token_and_iam_callers_pass_default_routes_only(router):
    with_scope = rest_v1_event("GET", "/reports", "", [], b"")
    attach_rest(with_scope, Identity(claims={"sub": "s", "scope": "reports/read other"}))
    assert _status(router.handle(with_scope)) == 200
    assert _status(router.handle(as_user(rest_v1_event("GET", "/reports", "", [], b"")))) == 403
    signed = rest_v1_event("GET", "/things", "", [], b"")
    attach_rest(signed, Identity(signer=Signer("AKIALOCAL")))
    assert _status(router.handle(signed)) == 200
    signed_v2 = http_v2_event("DELETE", "/things/1")
    signed_v2["requestContext"]["authorizer"] = http_iam_authorizer(Signer("AKIALOCAL"))
    assert _status(router.handle(signed_v2)) == 403  # IAM carries no groups


def test_graphql_refuses_like_rest_with_the_error_type_appsync_shows(router):
    with pytest.raises(Exception) as anonymous:
        router.handle(appsync_event("Mutation", "deleteThing", {"thingId": 1}))
    assert type(anonymous.value).__name__ == "Unauthorized"
    with pytest.raises(Exception) as member:
        router.handle(as_user(appsync_event("Mutation", "deleteThing", {"thingId": 1}), groups=("staff",)))
    assert type(member.value).__name__ == "Forbidden" and str(member.value) == "requires group admin"
    assert router.handle(as_user(appsync_event("Mutation", "deleteThing", {"thingId": 1}), groups=("admin",))) == {
        "deleted": 1
    }
    assert router.handle(appsync_event("Query", "health", {})) == {"ok": True}


def test_the_same_identity_and_headers_reach_the_route_alike_from_every_source(router):
    headers = {"X-Trace": "abc", "Cookie": "theme=dark; lang=en"}
    rest = rest_v1_event("GET", "/whoami", "", list(headers.items()), b"")
    http = http_v2_event("GET", "/whoami")
    http["headers"] = {k.lower(): v for k, v in headers.items() if k != "Cookie"}
    http["cookies"] = ["theme=dark", "lang=en"]  # HTTP APIs pass cookies apart from the headers
    graphql = appsync_event("Query", "whoami", {}, headers={k.lower(): v for k, v in headers.items()})
    direct = {**direct_event("whoami"), "request": {"headers": headers}}
    answers = [
        json.loads(router.handle(as_user(rest, user="ada"))["body"]),
        json.loads(router.handle(as_user(http, user="ada"))["body"]),
        router.handle(as_user(graphql, user="ada")),
        router.handle(as_user(direct, user="ada"))["data"],
    ]
    expected = {
        "subject": answers[0]["subject"],
        "username": "ada",
        "groups": ["staff", "admin"],
        "trace": "abc",
        "cookies": {"theme": "dark", "lang": "en"},
    }
    assert answers[0]["subject"]
    for answer in answers:
        assert {k: v for k, v in answer.items() if k != "kind"} == expected, answer
    assert [a["kind"] for a in answers] == ["cognito", "jwt", "cognito", "direct"]


def test_a_function_without_caller_or_request_parameters_gets_neither():
    router = Router()
    seen = []

    @router.rest("GET", "/plain")
    def plain(**kwargs) -> dict:
        seen.append(kwargs)
        return {}

    router.handle(rest_v1_event("GET", "/plain", "", [], b""))
    assert seen == [{}]
