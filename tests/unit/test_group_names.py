"""Group names read exactly as each source presents them (lambdakit.claims), and refused where they cannot be.

A REST API's Cognito authorizer writes `cognito:groups` as "a,b", an HTTP API's JWT authorizer as "[a b]":
one group `x,admin` (or `x admin`) and two groups `x` and `admin` can be the same string. The function reads
the exact list from the token the request carries (what the gateway verified), or refuses the caller; a
route cannot name a group those formats cannot tell apart, at import and at synth alike.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from infra.routes import RouteError as ScanError
from infra.routes import scan_routes
from lambdakit.authorization import default_auth
from lambdakit.routemodel import RouteError
from lambdakit.router import Router
from local.auth import Identity, appsync_identity, attach_http, attach_rest
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from local.tokens import claims_for, sign_claims


@pytest.fixture
def router(monkeypatch):
    monkeypatch.setenv("AUTH", "cognito")
    default_auth.cache_clear()
    router = Router()

    @router.rest("DELETE", "/things/{thingId}", groups=["admin"])
    @router.graphql("Mutation", "deleteThing", groups=["admin"])
    @router.direct("delete_thing", groups=["admin"])
    def delete_thing(thing_id: int) -> dict:
        return {"deleted": thing_id}

    yield router
    default_auth.cache_clear()


def _rest(groups: tuple[str, ...], *, token: bool = True, token_groups: tuple[str, ...] | None = None) -> dict:
    """DELETE /things/7 as a REST API passes it: the claims as strings, and the token in its header."""
    claims = claims_for("mallory", groups)
    signed = claims_for("mallory", groups if token_groups is None else token_groups) | {"sub": claims["sub"]}
    event = rest_v1_event("DELETE", "/things/7", "", [], b"", resource="/things/{thingId}")
    event["pathParameters"] = {"thingId": "7"}
    return attach_rest(event, Identity(claims=claims, token=sign_claims(signed) if token else None))


def _http(groups: tuple[str, ...], *, token: bool = True) -> dict:
    claims = claims_for("mallory", groups)
    event = http_v2_event("DELETE", "/things/7")
    return attach_http(event, Identity(claims=claims, token=sign_claims(claims) if token else None))


def _answer(router: Router, event: dict) -> tuple[int, str]:
    answer = router.handle(event)
    return answer["statusCode"], json.loads(answer["body"] or "{}").get("message", "")


@pytest.mark.parametrize("group", ["x,admin", "x admin", "[admin]", "admin,", ",admin"])
def test_one_group_whose_name_holds_a_separator_is_not_admin_over_rest(router, group):
    assert _answer(router, _rest((group,))) == (403, "requires group admin")


@pytest.mark.parametrize("group", ["x admin", "x,admin", "[admin]", "admin]"])
def test_one_group_whose_name_holds_a_separator_is_not_admin_over_an_http_api(router, group):
    assert _answer(router, _http((group,))) == (403, "requires group admin")


def test_two_groups_are_read_from_the_token_the_request_carries(router):
    assert _answer(router, _rest(("x", "admin")))[0] == 200
    assert _answer(router, _http(("x", "admin")))[0] == 200


def test_without_the_token_an_ambiguous_group_string_is_refused_not_guessed(router):
    ambiguous = (403, "requires group admin; the caller's groups are ambiguous")
    assert _answer(router, _rest(("x", "admin"), token=False)) == ambiguous
    assert _answer(router, _rest(("x,admin",), token=False)) == ambiguous
    assert _answer(router, _http(("x", "admin"), token=False)) == ambiguous


def test_a_token_that_does_not_render_to_the_gateways_string_is_not_believed(router):
    # The claims say "x,admin" but the token in the header lists other groups: neither is trusted.
    event = _rest(("x", "admin"), token_groups=("x", "admin", "more"))
    assert _answer(router, event) == (403, "requires group admin; the caller's groups are ambiguous")


def test_one_plain_group_needs_no_token(router):
    assert _answer(router, _rest(("admin",), token=False))[0] == 200
    assert _answer(router, _http(("admin",), token=False))[0] == 200
    assert _answer(router, _rest(("staff",), token=False)) == (403, "requires group admin")


def test_appsync_and_direct_callers_carry_lists_which_are_read_as_they_are(router):
    tricky = appsync_event("Mutation", "deleteThing", {"thingId": 1})
    tricky["identity"] = appsync_identity(Identity(claims=claims_for("mallory", ("x,admin",))))
    with pytest.raises(Exception, match="requires group admin"):
        router.handle(tricky)
    member = appsync_event("Mutation", "deleteThing", {"thingId": 1})
    member["identity"] = appsync_identity(Identity(claims=claims_for("ada", ("x", "admin"))))
    assert router.handle(member) == {"deleted": 1}
    listed = direct_event("delete_thing", thingId=1) | {"caller": {"groups": ["x,admin"]}}
    assert router.handle(listed)["error"] == {"status": 403, "message": "requires group admin"}
    text = direct_event("delete_thing", thingId=1) | {"caller": {"groups": "x,admin"}}
    assert router.handle(text)["error"] == {"status": 400, "message": "caller.groups: must be a list of strings"}


@pytest.mark.parametrize("name", ["x,admin", "x admin", "[admin]", "admin]"])
def test_a_route_naming_a_group_the_gateways_cannot_tell_apart_fails_at_import(name):
    router = Router()
    with pytest.raises(RouteError, match="cannot be told apart from other groups"):

        @router.rest("DELETE", "/things/{thingId}", groups=[name])
        def delete_thing(thing_id: int) -> None: ...


def test_the_same_route_fails_at_synth(tmp_path):
    (tmp_path / "lambda_function.py").write_text(
        textwrap.dedent(
            """
            from lambdakit import Router

            router = Router()


            @router.rest("DELETE", "/things/{thingId}", groups=["ops team"])
            def delete_thing(thing_id: int) -> None: ...
            """
        )
    )
    with pytest.raises(ScanError, match="'ops team' cannot be told apart from other groups"):
        scan_routes(tmp_path / "lambda_function.py")
