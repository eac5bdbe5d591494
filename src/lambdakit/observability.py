"""One request id end to end: the ids every log line of a request carries, and the cold start.

`start_request` runs once per event, before anything is logged: it puts the gateway's request id
(API Gateway REST/HTTP `requestContext.requestId`, AppSync's request id header) in Powertools
Logger's `correlation_id` and Lambda's own in `function_request_id`, which every Logger instance of
the function shares. The router echoes the correlation id in the `X-Request-Id` response header, so
a client can quote it and `make tail REQUEST_ID=...` finds every line of that request.

The warm path is a dictionary lookup and one `append_keys`; the first event of an execution
environment also writes the ColdStart metric line (lambdakit.metrics).
"""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools import Logger

from lambdakit import metrics

REQUEST_ID_HEADER = "X-Request-Id"
# AppSync passes its request id, and X-Ray's trace id, as request headers of a direct Lambda resolver.
_APPSYNC_ID_HEADERS = ("x-amzn-requestid", "x-amzn-trace-id")
# Lambda stops an on-demand init after 10 s; a longer gap to the first event is idle time (proactive
# initialisation, a local server waiting for its first request), not import time.
_MAX_INIT_SECONDS = 10.0

logger = Logger()
_cold = True
_request_id: str | None = None


def start_request(event: Any, context: Any) -> str | None:
    """Tag this request's log lines with its ids and return the id to echo to the client."""
    global _request_id, _cold
    lambda_id = getattr(context, "aws_request_id", None)
    request_id = _gateway_request_id(event) or lambda_id
    logger.append_keys(correlation_id=request_id, function_request_id=lambda_id)
    _request_id = request_id
    metrics.request_ids["correlation_id"] = request_id
    metrics.request_ids["function_request_id"] = lambda_id
    if _cold:
        _cold = False
        kind = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "local")
        metrics.cold_start(_init_seconds() if kind == "on-demand" else None, kind)
    return request_id


def current_request_id() -> str | None:
    """The id `start_request` chose for the request being served (for the response header)."""
    return _request_id


def with_request_id(headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus `X-Request-Id` for the request being served (a new dict; `headers` unchanged)."""
    if _request_id is None:
        return headers
    return {**headers, REQUEST_ID_HEADER: _request_id}


def _gateway_request_id(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext")
    if isinstance(context, dict) and context.get("requestId"):
        return str(context["requestId"])
    request = event.get("request")
    headers = request.get("headers") if isinstance(request, dict) else None
    if isinstance(headers, dict):
        for name in _APPSYNC_ID_HEADERS:
            if headers.get(name):
                return str(headers[name])
    return None


def _init_seconds() -> float | None:
    """Wall time from the process start to now (its first event): the interpreter, the runtime and the imports."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            # Field 22, counted after the command name in parentheses (which may contain spaces).
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None  # not Linux: no /proc, no CLOCK_BOOTTIME
    return age if 0 <= age <= _MAX_INIT_SECONDS else None


def reset() -> None:
    """The next event is a cold start again (tests)."""
    global _cold, _request_id
    _cold = True
    _request_id = None
    metrics.reset()
