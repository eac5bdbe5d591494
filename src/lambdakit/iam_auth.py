"""IAM database authentication tokens, signed with the standard library instead of boto3.

The token RDS and RDS Proxy accept as the password is a SigV4-presigned `rds-db:connect` request. The
Lambda runtime puts the function role's temporary credentials in the environment (or, for a SnapStart
function, behind a local credentials endpoint), so signing needs only hmac and hashlib, microseconds,
instead of boto3's import and client (about 150 ms at a cold start).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from urllib.parse import quote

from lambdakit import loopback

# RDS accepts a token for 15 minutes; it is only checked when a connection is opened.
EXPIRES_SECONDS = 900
_SERVICE = "rds-db"
# The request is a GET without a body; the canonical request carries the hash of that empty body.
_EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


class MissingCredentials(RuntimeError):
    """The environment holds no AWS credentials or region to sign with."""


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _credentials(env: Mapping[str, str]) -> tuple[str, str, str | None]:
    """(access key, secret key, session token) from the environment, or from the container endpoint."""
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN")
    url = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not url:
        raise MissingCredentials("IAM database authentication needs the function's AWS credentials; none are set")
    try:
        status, body = loopback.get(url, {"Authorization": env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")})
        answer = json.loads(body) if status == 200 else {}
        return answer["AccessKeyId"], answer["SecretAccessKey"], answer.get("Token")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MissingCredentials("the container credentials endpoint gave no credentials") from exc


def auth_token(
    host: str,
    port: int,
    user: str,
    environ: Mapping[str, str] | None = None,
    now: datetime.datetime | None = None,
) -> str:
    """The password for `user` at `host:port`: what boto3's `generate_db_auth_token` returns, without boto3."""
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise MissingCredentials("IAM database authentication needs AWS_REGION")
    access_key, secret_key, session_token = _credentials(env)
    moment = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    day = moment[:8]
    scope = f"{day}/{region}/{_SERVICE}/aws4_request"
    params = {
        "Action": "connect",
        "DBUser": user,
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": moment,
        "X-Amz-Expires": str(EXPIRES_SECONDS),
        "X-Amz-SignedHeaders": "host",
    }
    if session_token:
        params["X-Amz-Security-Token"] = session_token
    encoded = [(_encode(k), _encode(v)) for k, v in params.items()]
    query = "&".join(f"{k}={v}" for k, v in encoded)
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(encoded))
    netloc = f"{host}:{port}"
    canonical_request = f"GET\n/\n{canonical_query}\nhost:{netloc}\n\nhost\n{_EMPTY_BODY_SHA256}"
    string_to_sign = f"AWS4-HMAC-SHA256\n{moment}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, _SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{netloc}/?{query}&X-Amz-Signature={signature}"
