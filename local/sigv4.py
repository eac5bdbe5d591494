"""IAM locally: check an AWS Signature Version 4 the way API Gateway (execute-api) and AppSync would.

Verified: the signature itself, recomputed with botocore's signer over the method, path, query, the
headers the client signed and the body's SHA-256 (computed from the body, never taken from the client:
a request signed with `UNSIGNED-PAYLOAD`, which only S3 and a few data-plane services honour, fails);
the credential scope's service; the date (within API Gateway's 5 minutes); and that the access key is
the local one (`python run_local.py credentials`, kept under `.local/auth/`). Not verified: IAM
policies (any request signed with the local key is allowed, as if its principal had
`execute-api:Invoke` on everything), session tokens (accepted as sent), and canonical forms other SDKs
may compute differently from botocore's.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

from local.tokens import auth_dir

LOCAL_ACCOUNT = "000000000000"
LOCAL_PRINCIPAL = f"arn:aws:iam::{LOCAL_ACCOUNT}:user/local-developer"
MAX_SKEW_SECONDS = 300
_CREDENTIALS_FILE = "iam-credentials.json"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[^/\s]+)/(?P<service>[^/\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*\Z"
)


class SignatureRefused(Exception):
    """A request the local gateway refuses with 403, and API Gateway's message for it."""


@dataclass(frozen=True)
class Signer:
    """Who signed a verified request: the access key and the principal it stands for."""

    access_key: str
    principal: str = LOCAL_PRINCIPAL
    account: str = LOCAL_ACCOUNT


def local_credentials() -> dict[str, str]:
    """The local access key and secret, generated once (they open nothing but this local server)."""
    path = auth_dir() / _CREDENTIALS_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = {
            "aws_access_key_id": "AKIALOCAL" + secrets.token_hex(6).upper(),
            "aws_secret_access_key": secrets.token_urlsafe(30),
        }
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            json.dump(made, handle)
        os.chmod(handle.name, 0o600)
        try:
            os.link(handle.name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(handle.name)
    return json.loads(path.read_text())


def has_signature(headers: Mapping[str, str]) -> bool:
    """Whether the request carries a SigV4 Authorization header at all."""
    return headers.get("authorization", "").startswith("AWS4-HMAC-SHA256")


def verify(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: str,
    now: float | None = None,
) -> Signer:
    """The signer of a request whose SigV4 signature checks out; SignatureRefused (403) otherwise.

    `headers` has lower-case names; `raw_path` and `query` are as they arrived (still percent-encoded).
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.compat import HTTPHeaders
    from botocore.credentials import Credentials

    parts = _AUTHORIZATION.match(headers.get("authorization", ""))
    if parts is None:
        raise SignatureRefused("Missing Authentication Token")
    credentials = local_credentials()
    if not hmac.compare_digest(parts["key"], credentials["aws_access_key_id"]):
        raise SignatureRefused("The security token included in the request is invalid.")
    if parts["service"] != service:
        raise SignatureRefused(f"Credential should be scoped to correct service: '{service}'.")
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise SignatureRefused("Authorization header requires existence of a valid 'X-Amz-Date' header.") from None
    if abs((time.time() if now is None else now) - signed_at) > MAX_SKEW_SECONDS or stamp[:8] != parts["date"]:
        raise SignatureRefused("Signature expired: the request was signed more than 5 minutes ago (or ahead).")
    signed = parts["signed"].split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        raise SignatureRefused("The request signature we calculated does not match the signature you provided.")
    # The body's own hash, always: `UNSIGNED-PAYLOAD` is Amazon S3's option (and a few data-plane services'),
    # not execute-api's or appsync's, which sign the body. A client that signed it gets the mismatch they answer.
    body_hash = hashlib.sha256(body).hexdigest()
    content_hash = headers.get("x-amz-content-sha256")
    if content_hash is not None and content_hash not in (body_hash, "UNSIGNED-PAYLOAD"):
        raise SignatureRefused("The provided 'x-amz-content-sha256' header does not match what was computed.")

    class Verifier(SigV4Auth):
        # The client chose which headers to sign; botocore's own choice would differ for some of them.
        def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
            chosen = HTTPHeaders()
            for name in signed:
                chosen[name] = headers[name]
            return chosen

    url = f"http://{headers['host']}{raw_path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers={k: v for k, v in headers.items() if k in signed})
    # The canonical request's payload line (botocore takes it from this header; setting a header adds one).
    del request.headers["X-Amz-Content-SHA256"]
    request.headers["X-Amz-Content-SHA256"] = body_hash
    request.context["timestamp"] = stamp
    verifier = Verifier(
        Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"]), service, parts["region"]
    )
    expected = verifier.signature(verifier.string_to_sign(request, verifier.canonical_request(request)), request)
    if not hmac.compare_digest(expected, parts["signature"]):
        raise SignatureRefused("The request signature we calculated does not match the signature you provided.")
    return Signer(parts["key"])
