"""Local credentials: tokens only this checkout's key signed, and SigV4 signatures made with the local key pair."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from local.auth import LocalGate, Refusal, bearer_token
from local.sigv4 import LOCAL_PRINCIPAL, SignatureRefused, local_credentials, verify
from local.tokens import InvalidToken, claims_for, issue_token, verify_token


@pytest.fixture(autouse=True)
def _own_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_AUTH_DIR", str(tmp_path / "auth"))


def test_a_local_token_carries_the_cognito_claims_the_function_reads():
    claims = verify_token(issue_token("alice", ("staff",)))
    assert claims["cognito:username"] == "alice" and claims["cognito:groups"] == ["staff"]
    assert claims["sub"] == verify_token(issue_token("alice"))["sub"]  # stable per user, like Cognito's
    assert "cognito:groups" not in verify_token(issue_token("bob"))


def test_the_key_is_created_once_and_readable_by_its_owner_only(tmp_path):
    issue_token("alice")
    key = tmp_path / "auth" / "token-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    issue_token("bob")
    assert key.read_bytes() == before


def test_a_forged_token_is_refused():
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims_for("mallory", ("admin",)), other_key, algorithm="RS256")
    with pytest.raises(InvalidToken):
        verify_token(forged)


def test_a_token_with_its_claims_edited_is_refused():
    header, payload, signature = issue_token("alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cognito:groups"] = ["admin"]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        verify_token(f"{header}.{edited}.{signature}")


def test_an_unsigned_token_is_refused():
    unsigned = jwt.encode(claims_for("mallory", ("admin",)), key=None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify_token(unsigned)


def test_an_expired_token_is_refused():
    expired = issue_token("alice", now=time.time() - 7200, ttl=3600)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(expired)


def test_the_gateway_answers_401_for_every_bad_token_and_takes_bearer_or_bare_tokens():
    gate = LocalGate(mode="cognito")

    def decide(headers):
        return gate.rest("cognito", (), method="GET", raw_path="/x", query="", headers=headers, body=b"")

    assert decide({}) == Refusal(401, "Unauthorized")
    assert decide({"authorization": "Bearer not-a-jwt"}) == Refusal(401, "Unauthorized")
    expired = issue_token("alice", now=time.time() - 7200)
    assert decide({"authorization": f"Bearer {expired}"}) == Refusal(401, "Unauthorized")
    token = issue_token("alice")
    assert decide({"authorization": f"Bearer {token}"}).claims["cognito:username"] == "alice"
    assert decide({"authorization": token}).claims["cognito:username"] == "alice"
    assert bearer_token({"authorization": "bearer  abc "}) == "abc"


def _signed(url: str, body: bytes = b"", *, service: str = "execute-api", secret: str | None = None) -> dict:
    credentials = local_credentials()
    request = AWSRequest(method="POST", url=url, data=body, headers={"content-type": "application/json"})
    key = Credentials(credentials["aws_access_key_id"], secret or credentials["aws_secret_access_key"])
    SigV4Auth(key, service, "eu-west-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:3000"
    return headers


def test_a_request_signed_with_the_local_credentials_is_verified_with_botocore():
    body = b'{"firstName": "Ada"}'
    headers = _signed("http://127.0.0.1:3000/students/a%20b?limit=2&cursor=x%2Fy", body)
    signer = verify("POST", "/students/a%20b", "limit=2&cursor=x%2Fy", headers, body, service="execute-api")
    assert signer.principal == LOCAL_PRINCIPAL


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"query": "limit=3&cursor=x%2Fy"}, "signature we calculated does not match"),
        ({"body": b'{"firstName": "Eve"}'}, "signature we calculated does not match"),
        ({"path": "/students/other"}, "signature we calculated does not match"),
        ({"service": "appsync"}, "scoped to correct service"),
        ({"secret": "not-the-secret"}, "signature we calculated does not match"),
        ({"seconds_later": 600}, "Signature expired"),
    ],
)
def test_a_signature_that_does_not_cover_the_request_is_refused(change, message):
    body = b'{"firstName": "Ada"}'
    headers = _signed("http://127.0.0.1:3000/students/1?limit=2&cursor=x%2Fy", body, secret=change.get("secret"))
    with pytest.raises(SignatureRefused, match=message):
        verify(
            "POST",
            change.get("path", "/students/1"),
            change.get("query", "limit=2&cursor=x%2Fy"),
            headers,
            change.get("body", body),
            service=change.get("service", "execute-api"),
            # Checked this many seconds after signing (taken now, not when the module was collected).
            now=time.time() + change["seconds_later"] if "seconds_later" in change else None,
        )


def test_an_unknown_access_key_is_refused_like_api_gateway_does():
    headers = _signed("http://127.0.0.1:3000/x")
    headers["authorization"] = headers["authorization"].replace(local_credentials()["aws_access_key_id"], "AKIAOTHER")
    with pytest.raises(SignatureRefused, match="security token included in the request is invalid"):
        verify("POST", "/x", "", headers, b"", service="execute-api")


def test_a_token_lives_at_most_a_day_as_cognitos_longest():
    with pytest.raises(ValueError, match="Cognito's longest is one day"):
        issue_token("alice", ttl=86_401)
    assert verify_token(issue_token("alice", ttl=86_400))["token_use"] == "id"
    access = verify_token(issue_token("alice", scopes=("reports/read",)))
    assert access["token_use"] == "access" and access["scope"] == "reports/read" and "aud" not in access
    with pytest.raises(InvalidToken, match="token_use 'access'"):
        verify_token(issue_token("alice", scopes=("reports/read",)), ("id",))
