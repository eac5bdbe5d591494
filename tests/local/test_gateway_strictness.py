"""The local server's checks are as strict as the services they stand in for, over real HTTP.

SigV4 as API Gateway and AppSync verify it: the body's SHA-256 always (`UNSIGNED-PAYLOAD` is Amazon S3's
option, not execute-api's or appsync's). Tokens as Cognito issues them: an ID token where a REST API's
Cognito authorizer takes one, an access token where the method has scopes, whole-second times, a life of
at most a day. API Gateway's 10240 bytes of request line and headers. HTTP API (payload 2.0) events when
the stack's `apiType` is `http`. Group names read exactly. Each class: the example found by hand, and
variants.
"""

from __future__ import annotations

import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.sigv4 import local_credentials
from local.tokens import claims_for, issue_token, sign_claims
from tests.support.identities import bearer

pytestmark = pytest.mark.slow


# -- SigV4 ---------------------------------------------------------------------------------------------
def _signed_headers(method: str, url: str, body: bytes, service: str, *, unsigned_payload: bool) -> dict:
    """Headers of a request signed with the local keys; with `unsigned_payload`, as S3 clients sign."""
    credentials = local_credentials()
    headers = {"Content-Type": "application/json"}
    if unsigned_payload:
        headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"  # botocore then signs that string, not the body
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    key = Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"])
    SigV4Auth(key, service, "eu-west-1").add_auth(request)
    return dict(request.headers)


def test_a_graphql_request_signed_with_unsigned_payload_cannot_carry_another_body(iam_server):
    url = f"{iam_server}/graphql"
    signed_for = b'{"query": "{ listWidgets(limit: 1) { nextCursor } }"}'
    swapped = b'{"query": "mutation { deleteWidget(widgetId: 987654) { widgetId } }"}'
    headers = _signed_headers("POST", url, signed_for, "appsync", unsigned_payload=True)
    answer = requests.post(url, data=swapped, headers=headers, timeout=10)  # the example found by hand: a 200
    assert answer.status_code == 401 and answer.json()["errors"][0]["errorType"] == "UnauthorizedException"
    # A variant: the very body it was signed with is refused too, since AppSync signs the body itself.
    assert requests.post(url, data=signed_for, headers=headers, timeout=10).status_code == 401
    honest = _signed_headers("POST", url, signed_for, "appsync", unsigned_payload=False)
    assert requests.post(url, data=signed_for, headers=honest, timeout=10).status_code == 200


def test_a_rest_request_signed_with_unsigned_payload_is_api_gateways_403(iam_server):
    url = f"{iam_server}/widgets"
    body = b'{"name": "Cog", "maker": "Acme"}'
    headers = _signed_headers("POST", url, body, "execute-api", unsigned_payload=True)
    for sent in (b'{"name": "Other", "maker": "Evil"}', body):
        answer = requests.post(url, data=sent, headers=headers, timeout=10)
        assert answer.status_code == 403
        assert "signature we calculated does not match" in answer.json()["message"]


# -- tokens as Cognito issues them ---------------------------------------------------------------------
def _token(**changes: object) -> str:
    claims = claims_for("mallory", ("staff",))
    claims.update(changes)
    return sign_claims({k: v for k, v in claims.items() if v is not None})


@pytest.mark.parametrize(
    "token",
    [
        _token(token_use="access", client_id="local-client"),  # an access token where an ID token is taken
        _token(token_use="foo"),
        _token(token_use=None),  # no token_use at all
        _token(exp=str(int(time.time()) + 3600)),  # exp as a string
        _token(exp=1e308),  # exp as a float, ever after
        _token(iat=float(int(time.time()))),
        _token(exp=int(time.time()) + 2 * 86_400),  # longer than Cognito's longest life, a day
        _token(aud="someone-else"),
    ],
    ids=["access-token", "token_use-foo", "no-token_use", "exp-string", "exp-1e308", "iat-float", "two-days", "aud"],
)
def test_a_token_cognito_would_not_issue_is_a_401(cognito_server, token):
    answer = requests.get(f"{cognito_server}/widgets", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 401 and answer.json() == {"message": "Unauthorized"}


def test_a_route_with_scopes_takes_an_access_token_only(cognito_server):
    access = issue_token("ada", scopes=("reports/read",))
    answer = requests.get(f"{cognito_server}/answers/reports", headers={"Authorization": access}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"scopes": ["reports/read"], "username": "ada"}
    id_token = _token(scope="reports/read")  # an ID token with a scope claim: still an ID token
    refused = requests.get(f"{cognito_server}/answers/reports", headers={"Authorization": id_token}, timeout=10)
    assert refused.status_code == 401
    other = issue_token("ada", scopes=("reports/write",))
    assert (
        requests.get(f"{cognito_server}/answers/reports", headers={"Authorization": other}, timeout=10).status_code
        == 403
    )


def test_request_line_and_headers_past_10240_bytes_are_refused_before_anything_else(cognito_server):
    huge = _token(padding="x" * 200_000)  # the example found by hand: a 200 KB token, accepted
    answer = requests.get(f"{cognito_server}/widgets", headers={"Authorization": f"Bearer {huge}"}, timeout=10)
    assert answer.status_code == 431
    assert answer.json() == {"message": "request line and headers are larger than API Gateway's 10240 bytes"}
    # Variants: many small headers past the limit; a long query string; and just under it, accepted.
    many = {f"X-Pad-{i}": "y" * 100 for i in range(110)}
    assert requests.get(f"{cognito_server}/widgets", headers={**bearer(), **many}, timeout=10).status_code == 431
    long_query = f"{cognito_server}/widgets?cursor={'z' * 10_300}"
    assert requests.get(long_query, headers=bearer(), timeout=10).status_code == 431
    some = {f"X-Pad-{i}": "y" * 100 for i in range(60)}
    assert (
        requests.get(f"{cognito_server}/widgets?limit=1", headers={**bearer(), **some}, timeout=10).status_code == 200
    )
    assert (
        requests.post(
            f"{cognito_server}/graphql", json={"query": "{ whoami { kind } }"}, headers=many, timeout=10
        ).status_code
        == 431
    )


# -- HTTP API events -----------------------------------------------------------------------------------
def test_with_api_type_http_the_route_gets_payload_2_0_events_and_a_jwt_caller(http_api_server):
    headers = {**bearer(groups=("staff", "admin"), user="ada"), "X-Trace": "t-2"}
    who = requests.get(f"{http_api_server}/answers/whoami", headers=headers, timeout=10).json()
    # The example found by hand: "cognito" and groups "a,b", where the deployed HTTP API gives jwt and "[a b]".
    assert who == {
        "kind": "jwt",
        "username": "ada",
        "groups": ["staff", "admin"],
        "principal": None,
        "trace": "t-2",
        "source": "http",
    }
    # Variants: two cookies come back apart (an HTTP API's `cookies`), and a path parameter is routed.
    session = requests.post(f"{http_api_server}/answers/session", timeout=10)
    assert session.status_code == 201
    assert sorted(session.raw.headers.getlist("set-cookie")) == sorted(
        ["sid=abc; HttpOnly; Secure; Path=/", "theme=dark; Path=/"]
    )
    assert requests.get(f"{http_api_server}/widgets/1", headers=headers, timeout=10).json()["widgetId"] == 1


def test_one_group_named_with_a_separator_is_not_admin_over_either_api_type(cognito_server, http_api_server):
    for base in (cognito_server, http_api_server):
        for group in ("x,admin", "x admin", "[admin]"):  # the examples found by hand: a 404 from the delete
            token = issue_token("mallory", (group,))
            answer = requests.delete(f"{base}/widgets/987654", headers={"Authorization": token}, timeout=10)
            assert answer.status_code == 403 and answer.json() == {"message": "requires group admin"}, (base, group)
        member = issue_token("ada", ("x", "admin"))
        answer = requests.delete(f"{base}/widgets/987654", headers={"Authorization": member}, timeout=10)
        assert answer.status_code == 404  # two groups, one of them admin: past the check, no such widget


def test_the_source_ip_is_the_peers_and_the_answer_names_no_server(cognito_server):
    # API Gateway reports the caller's own address whatever X-Forwarded-For claims, and adds no `server`.
    answer = requests.get(f"{cognito_server}/answers/source-ip", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"sourceIp": "127.0.0.1"}
    assert "server" not in answer.headers


def test_an_answer_carries_its_length_as_api_gateways_do(cognito_server):
    # Not chunked: a client reading Content-Length (a progress bar, a cache) sees what API Gateway sends.
    for url in (f"{cognito_server}/answers/source-ip", f"{cognito_server}/answers/pixel.png", f"{cognito_server}/nope"):
        answer = requests.get(url, timeout=10)
        assert "transfer-encoding" not in answer.headers
        assert int(answer.headers["content-length"]) == len(answer.content) > 0
