"""One request id end to end: the ids every log line of a request carries, and the cold start.

`start_request` runs once per event, before anything is logged: it notes the gateway's request id
(API Gateway REST/HTTP `requestContext.requestId`, AppSync's request id header) and Lambda's own, in
lambdakit.request_ids. A filter on Powertools Logger's handler, which every Logger instance of the
function shares, writes them into each line as `correlation_id` and `function_request_id`. The answer
echoes the correlation id in the `X-Request-Id` header (lambdakit.proxy), so a client can quote it and
`make tail REQUEST_ID=...` finds every line of that request.

Why a filter rather than `Logger.append_keys` per request: the ids are read when a line is written,
so a request that logs nothing pays two assignments (append_keys cost 2 us of a 40 us warm read).
The first event of an execution environment also writes the ColdStart metric line (lambdakit.metrics).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from lambdakit import metrics, request_ids
from lambdakit.settings import initialization_type

# AppSync passes its request id, and X-Ray's trace id, as request headers of a direct Lambda resolver.
_APPSYNC_ID_HEADERS = ("x-amzn-requestid", "x-amzn-trace-id")
# Lambda stops an on-demand init after 10 s; a longer gap to the first event is idle time (proactive
# initialisation, a local server waiting for its first request), not import time.
_MAX_INIT_SECONDS = 10.0

_cold = True
_filtered = False


class _RequestIds(logging.Filter):
    """Adds the current request's ids to each record; Powertools writes record attributes as JSON keys."""

    def filter(self, record: logging.LogRecord) -> bool:
        if request_ids.correlation_id is not None and not hasattr(record, "correlation_id"):
            record.correlation_id = request_ids.correlation_id
            record.function_request_id = request_ids.function_request_id
        return True


def install_log_filter() -> None:
    """Put the filter on the handler Powertools Logger instances of this service share (once)."""
    global _filtered
    from aws_lambda_powertools import Logger

    handler = Logger().registered_handler
    if not any(isinstance(f, _RequestIds) for f in handler.filters):
        handler.addFilter(_RequestIds())
    _filtered = True


def start_request(event: Any, context: Any) -> str | None:
    """Note this request's ids for its log lines, metric lines and answer; return the id to echo to the client."""
    lambda_id = getattr(context, "aws_request_id", None)
    try:
        request_id = event["requestContext"]["requestId"]  # API Gateway REST and HTTP APIs
    except (KeyError, TypeError, IndexError):
        request_id = _appsync_request_id(event)
    if not isinstance(request_id, str):
        request_id = None  # a hand-made event's id of another type: never echoed into a header
    request_id = request_id or lambda_id
    request_ids.set_ids(request_id, lambda_id)
    if _cold:
        _first_event()
    if not _filtered and "aws_lambda_powertools.logging" in sys.modules:
        install_log_filter()  # someone made a Logger (route code, an error line): its lines get the ids too
    return request_id


def _first_event() -> None:
    global _cold
    _cold = False
    kind = initialization_type()
    metrics.cold_start(_init_seconds() if kind == "on-demand" else None, kind)


def _appsync_request_id(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
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
    global _cold
    _cold = True
    request_ids.set_ids(None, None)
    metrics.reset()
