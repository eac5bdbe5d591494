"""The local server's per-request shortcuts keep the rules they stand in for.

A verified token is kept as API Gateway keeps a Cognito authorizer's result (300 s, never past the
token's `exp`, refusals never kept); each event gets its own copy of what is kept; request ids stay
unique and shaped like Lambda's; the function's timeout still ends an invocation after the signal
handler was installed once.
"""

from __future__ import annotations

import time
import uuid

import pytest

import local.auth
from local.auth import LocalGate, Refusal, attach_rest
from local.authorizer_cache import RESULT_TTL_SECONDS, AuthorizerCache
from local.events import rest_v1_event
from local.invoke import invoke, new_request_id
from local.tokens import claims_for, issue_token, sign_claims


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_result_ends_at_the_ttl_or_at_the_tokens_expiry_whichever_is_first():
    clock = Clock()
    cache = AuthorizerCache(clock=clock)
    cache.put("long-lived", "a", expires_at=clock.now + 3600)
    cache.put("expiring", "b", expires_at=clock.now + 10)
    clock.now += 9
    assert (cache.get("long-lived"), cache.get("expiring")) == ("a", "b")
    clock.now += 1  # the token's exp: expired from this second on, as PyJWT judges it
    assert cache.get("expiring") is None
    clock.now += RESULT_TTL_SECONDS
    assert cache.get("long-lived") is None


def test_a_full_cache_lets_its_oldest_entries_go():
    cache = AuthorizerCache(size=8)
    for number in range(20):
        cache.put(f"token-{number}", number, expires_at=time.time() + 60)
    assert cache.get("token-19") == 19
    assert cache.get("token-0") is None
    assert len(cache._entries) <= 8


def _request(gate: LocalGate, token: str) -> object:
    headers = [("authorization", f"Bearer {token}")]
    scope = {"method": "GET", "path": "/widgets/1", "query_string": b""}
    return gate.request(None, scope, headers, b"")


def test_a_token_is_verified_once_while_its_result_is_kept(monkeypatch):
    calls = []
    verify = local.auth.verify_token
    monkeypatch.setattr(local.auth, "verify_token", lambda token, uses: calls.append(token) or verify(token, uses))
    gate = LocalGate(mode="cognito")
    token = issue_token("alice", ("staff",))
    first, second = _request(gate, token), _request(gate, token)
    assert first is second and not isinstance(first, Refusal)
    assert calls == [token]


def test_a_refused_token_is_refused_again_and_never_kept(monkeypatch):
    gate = LocalGate(mode="cognito")
    forged = issue_token("mallory")[:-4] + "AAAA"
    assert _request(gate, forged) == Refusal(401, "Unauthorized")
    assert _request(gate, forged) == Refusal(401, "Unauthorized")
    assert not gate.verified._entries


def test_a_kept_result_answers_only_the_check_it_was_made_for():
    gate = LocalGate(mode="cognito")
    token = issue_token("dave", ("staff",))  # an ID token: a method with scopes wants an access token
    assert not isinstance(_request(gate, token), Refusal)
    headers = {"authorization": f"Bearer {token}"}
    scoped = gate.rest("cognito", ("reports/read",), method="GET", raw_path="/w", query="", headers=headers, body=b"")
    assert scoped == Refusal(401, "Unauthorized")


def test_an_expired_token_is_refused_even_when_its_result_was_kept():
    gate = LocalGate(mode="cognito")
    # Times are whole seconds, so a token of ttl=1 may have almost no life left when it is first used:
    # with the signing key made beforehand, one of ttl=2 lives one to two seconds, then is waited out.
    issue_token("alice")
    claims = claims_for("bob", ttl=2)
    token = sign_claims(claims)
    assert not isinstance(_request(gate, token), Refusal)
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.1)
    assert _request(gate, token) == Refusal(401, "Unauthorized")


def test_each_event_gets_its_own_copy_of_the_kept_claims():
    gate = LocalGate(mode="cognito")
    identity = _request(gate, issue_token("carol", ("staff",)))
    first = attach_rest(rest_v1_event("GET", "/widgets/1", "", [], b""), identity)
    first["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "admin"
    second = attach_rest(rest_v1_event("GET", "/widgets/1", "", [], b""), identity)
    assert second["requestContext"]["authorizer"]["claims"]["cognito:groups"] == "staff"


def test_request_ids_are_unique_and_shaped_like_lambdas():
    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_the_timeout_still_ends_an_invocation_after_the_handler_was_installed():
    assert invoke(lambda event, context: "done", {}, 5).result == "done"
    outcome = invoke(lambda event, context: time.sleep(2), {}, 0.2)
    assert outcome.timed_out and outcome.result is None
    assert invoke(lambda event, context: context.aws_request_id, {}, 5).result


@pytest.mark.parametrize("body", ["", "x" * 1000])
def test_a_small_event_is_not_written_out_to_be_measured(body):
    from local.invoke import event_bytes

    event = rest_v1_event("POST", "/widgets", "", [("content-type", "application/json")], body.encode())
    assert event_bytes(event) == 0


class CountingStream:
    """A stderr that notes each write it is given."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_access_lines_of_one_moment_are_written_together_and_before_the_servers_own(monkeypatch):
    import asyncio

    from local.server import LambdaApp

    stream = CountingStream()
    monkeypatch.setattr("sys.stderr", stream)
    app = LambdaApp()

    async def requests() -> None:
        for i in range(100):
            app._access(f"GET /widgets/{i} 200 0.2ms get_widget")
        assert stream.writes == []  # under load, one write serves the lines of 50 ms
        await asyncio.sleep(0.1)
        app._access("GET /widgets/100 200 0.2ms get_widget")
        app._say("handler raised RuntimeError")  # a line of the server's own comes after those waiting

    asyncio.run(requests())
    assert stream.writes[0].splitlines() == [f"GET /widgets/{i} 200 0.2ms get_widget" for i in range(100)]
    assert stream.writes[1] == "GET /widgets/100 200 0.2ms get_widget\n"
    assert "".join(stream.writes[2:]) == "handler raised RuntimeError\n"
