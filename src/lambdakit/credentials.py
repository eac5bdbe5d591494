"""Database credentials from Secrets Manager, cached for the life of the execution environment.

boto3 is imported here, on first use only: with DATABASE_URL (local runs) it is never loaded, and a
deployed function pays for it once per cold start, not on import.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lambdakit import metrics
from lambdakit.errors import ServiceUnavailable

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


def _fetch(secret_id: str) -> dict[str, Any]:
    try:
        response = _secrets_client().get_secret_value(SecretId=secret_id)
    except Exception as exc:  # botocore's errors are many; all mean "cannot read it now"
        raise CredentialsError("database credentials are unavailable") from exc
    try:
        secret = json.loads(response.get("SecretString") or "")
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
    """Fetch the secret again after the database refused the password; True when it changed (rotation)."""
    global _cached
    previous = _cached
    _cached = _fetch(secret_id)
    metrics.credentials_refreshed(rotated=_cached != previous)
    return _cached != previous


def forget_credentials() -> None:
    """Drop the cached secret and client (tests, or a new region)."""
    global _cached, _client
    _cached = None
    _client = None
