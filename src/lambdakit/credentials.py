"""Database credentials from Secrets Manager, cached for the life of the execution environment.

Deployed, the secret is read through the Parameters and Secrets Lambda Extension on localhost (the
stack adds its layer), so a cold start imports no boto3. boto3 is the fallback, imported on first use
only: when the extension is not configured or does not answer, and to re-read the secret after the
database refused the password, since the extension may still hold the rotated-away value in its cache.
With DATABASE_URL (local runs) neither is used.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from lambdakit import metrics, secrets_extension
from lambdakit.errors import ServiceUnavailable
from lambdakit.settings import extension_port

_client: Any = None
_cached: dict[str, Any] | None = None


class CredentialsError(ServiceUnavailable):
    """The secret could not be read or does not hold usable credentials (message names no secret value)."""


def _secrets_client() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("secretsmanager")
    return _client


def _from_extension(secret_id: str) -> str | None:
    """The SecretString through the extension, or None when it is not configured or does not answer."""
    port = extension_port()
    if port is None:
        return None
    try:
        # The token is the environment's own, set by Lambda and read at the moment it is shown.
        return secrets_extension.secret_string(secret_id, port, os.environ.get("AWS_SESSION_TOKEN", ""))
    except secrets_extension.ExtensionUnavailable as exc:
        from aws_lambda_powertools import Logger

        Logger().warning("secrets extension did not answer; reading the secret with boto3", extra={"reason": str(exc)})
        return None


def _from_secrets_manager(secret_id: str) -> str:
    try:
        response = _secrets_client().get_secret_value(SecretId=secret_id)
    except Exception as exc:  # botocore's errors are many; all mean "cannot read it now"
        raise CredentialsError("database credentials are unavailable") from exc
    return response.get("SecretString") or ""


def _fetch(secret_id: str, *, bypass_cache: bool = False) -> dict[str, Any]:
    text = None if bypass_cache else _from_extension(secret_id)
    if text is None:
        text = _from_secrets_manager(secret_id)
    try:
        secret = json.loads(text)
    except ValueError:
        raise CredentialsError("database secret is not JSON") from None
    if not isinstance(secret, dict) or not secret.get("username") or not secret.get("password"):
        raise CredentialsError("database secret must hold username and password") from None
    return secret


def database_credentials(secret_id: str) -> dict[str, Any]:
    """The secret's JSON (username, password, optional host/port/dbname), fetched once and then cached."""
    global _cached
    if _cached is None:
        started = time.perf_counter()
        _cached = _fetch(secret_id)
        metrics.credentials_fetched(time.perf_counter() - started)
    return _cached


def refresh_credentials(secret_id: str) -> bool:
    """Fetch the secret again, past every cache, after the database refused the password; True when it changed."""
    global _cached
    previous = _cached
    _cached = _fetch(secret_id, bypass_cache=True)
    metrics.credentials_refreshed(rotated=_cached != previous)
    return _cached != previous


def forget_credentials() -> None:
    """Drop the cached secret and client (tests, a new region, or a SnapStart restore)."""
    global _cached, _client
    _cached = None
    _client = None
