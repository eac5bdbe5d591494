"""Secrets read through the AWS Parameters and Secrets Lambda Extension's HTTP API on localhost.

The extension (a Lambda layer the stack adds with `paramsAndSecrets`) answers
`GET /secretsmanager/get?secretId=...` on localhost with what GetSecretValue returns, from its own cache,
to a caller that shows the environment's session token. One GET on the loopback needs no boto3
(about 150 ms at a cold start).
"""

from __future__ import annotations

import json

from lambdakit import loopback


class ExtensionUnavailable(RuntimeError):
    """Nothing answered on the extension's port, or the answer was not a secret."""


def secret_string(secret_id: str, port: int, token: str, timeout: float = 5.0) -> str:
    """The secret's SecretString from the extension; ExtensionUnavailable when it cannot give one."""
    # Here, not at the top: urllib.parse (and the ipaddress module it loads) would cost every cold start
    # a millisecond, and a function given DATABASE_URL never reads a secret.
    from urllib.parse import quote

    url = f"http://localhost:{port}/secretsmanager/get?secretId={quote(secret_id, safe='')}"
    try:
        status, body = loopback.get(url, {"X-Aws-Parameters-Secrets-Token": token}, timeout)
    except (OSError, ValueError) as exc:
        raise ExtensionUnavailable(f"no answer from the extension on port {port}") from exc
    if status != 200:
        raise ExtensionUnavailable(f"the extension answered HTTP {status}")
    try:
        value = json.loads(body)["SecretString"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExtensionUnavailable("the extension's answer holds no SecretString") from exc
    if not isinstance(value, str):
        raise ExtensionUnavailable("the extension's answer holds no SecretString")
    return value
