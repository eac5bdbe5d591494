"""Metrics API Gateway and Lambda cannot see, written as CloudWatch embedded metric format (EMF) lines.

A line is printed when its event happens (a cold start, a new database connection, a self-healing
retry, a credentials refresh, a 503 for lack of connection slots), never per request: a warm request
that opens no connection writes nothing, so the hot path pays nothing. CloudWatch Logs turns each
line into metrics. The line is written here, in the shape Powertools' EphemeralMetrics gives it, rather
than by Powertools: a cold start writes one, and importing Powertools for it would cost the cold start
about 13 ms (lambdakit.log).

Every line carries the dimensions `service` and `stage` in the namespace the settings name
(lambdakit.settings), and the ids of the request it happened in (lambdakit.request_ids) as plain
properties, so a Logs Insights query or `make tail REQUEST_ID=...` finds it with the request's logs.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lambdakit import request_ids
from lambdakit.settings import metrics_settings

# Metric names, the contract with the dashboard (infra/monitoring.py) and docs/operate.md.
COLD_START = "ColdStart"
INIT_IMPORT_TIME = "InitImportTime"
INIT_CREDENTIALS_TIME = "InitCredentialsTime"
INIT_CONNECT_TIME = "InitConnectTime"
DATABASE_CONNECT = "DatabaseConnect"
DATABASE_CONNECT_TIME = "DatabaseConnectTime"
DATABASE_RECONNECT = "DatabaseReconnect"
DATABASE_RETRY = "DatabaseRetry"
CREDENTIALS_REFRESH = "CredentialsRefresh"
TOO_MANY_CONNECTIONS = "TooManyConnections"
JOB_FAILED = "JobFailed"
MESSAGE_FAILED = "MessageFailed"
OUTBOX_UNSENT = "OutboxUnsent"

_connections_opened = 0
_credentials_seconds: float | None = None


def _emit(metrics: dict[str, tuple[str, float]], properties: dict[str, Any] | None = None) -> None:
    """Print one EMF line with `metrics` (name -> (unit, value)) and the request's ids."""
    settings = metrics_settings()
    if settings.disabled:
        return
    dimensions = {"stage": settings.stage}
    if settings.service:
        dimensions["service"] = settings.service
    directive = {
        "Namespace": settings.namespace,
        "Dimensions": [list(dimensions)],
        "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()],
    }
    payload: dict[str, Any] = {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]}}
    payload.update(dimensions)
    for key, value in {**request_ids.current(), **(properties or {})}.items():
        if value is not None:
            payload[key] = value
    # One value per line: a plain number (valid EMF) is a plain field in Logs Insights, not `name.0`.
    payload.update({name: float(value) for name, (_, value) in metrics.items()})
    print(json.dumps(payload, separators=(",", ":")), flush=True)


def _ms(seconds: float) -> tuple[str, float]:
    return ("Milliseconds", round(seconds * 1000, 3))


def cold_start(import_seconds: float | None, initialization_type: str) -> None:
    """The first event of this execution environment; `import_seconds` when it can be measured."""
    metrics = {COLD_START: ("Count", 1)}
    if import_seconds is not None:
        metrics[INIT_IMPORT_TIME] = _ms(import_seconds)
    _emit(metrics, {"initialization_type": initialization_type})


def credentials_fetched(seconds: float) -> None:
    """The secret was read; reported with the connection it was read for (see `connection_opened`)."""
    global _credentials_seconds
    _credentials_seconds = (_credentials_seconds or 0.0) + seconds


def connection_opened(seconds: float) -> None:
    """A new database connection took `seconds` (credentials included); the first one is the cold start's."""
    global _connections_opened, _credentials_seconds
    credentials, _credentials_seconds = _credentials_seconds, None
    connect = max(seconds - (credentials or 0.0), 0.0)
    metrics = {DATABASE_CONNECT: ("Count", 1), DATABASE_CONNECT_TIME: _ms(connect)}
    if _connections_opened == 0:
        metrics[INIT_CONNECT_TIME] = _ms(connect)
        if credentials is not None:
            metrics[INIT_CREDENTIALS_TIME] = _ms(credentials)
    else:
        metrics[DATABASE_RECONNECT] = ("Count", 1)
    _connections_opened += 1
    _emit(metrics)


def connection_retried() -> None:
    """Self-healing: a call is retried on a new connection because the server had closed the cached one."""
    _emit({DATABASE_RETRY: ("Count", 1)})


def credentials_refreshed(rotated: bool) -> None:
    """The database refused the cached password and the secret was read again; `rotated` when it had changed."""
    _emit({CREDENTIALS_REFRESH: ("Count", 1)}, {"rotated": rotated})


def connect_failed(exc: BaseException) -> None:
    """A connection attempt ended in a 503; counted when the server had no connection slot left."""
    message = str(exc).lower()
    if getattr(exc, "pgcode", None) == "53300" or "too many" in message or "connection slots are reserved" in message:
        _emit({TOO_MANY_CONNECTIONS: ("Count", 1)})


def job_failed(job: str) -> None:
    """A scheduled job raised: Lambda retries it, then hands it to the jobs' dead-letter queue."""
    _emit({JOB_FAILED: ("Count", 1)}, {"job": job})


def message_failed(queue: str) -> None:
    """A consumer raised on one message: it returns to its queue (and after its last try, to the dead-letter queue)."""
    _emit({MESSAGE_FAILED: ("Count", 1)}, {"queue": queue})


def outbox_unsent(count: int) -> None:
    """Messages of committed work that could not be sent after the commit; the outbox relay sends them later."""
    _emit({OUTBOX_UNSENT: ("Count", count)})


def reset() -> None:
    """Forget what this environment has seen (tests start each case cold)."""
    global _connections_opened, _credentials_seconds
    _connections_opened = 0
    _credentials_seconds = None
