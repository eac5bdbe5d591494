"""The ids of the request being served: set once per event (lambdakit.observability), read by every log
line, metric line and answer of that request.

A module of its own so that the readers (the log filter, the metric lines, the response headers) and
the writer depend on it, and never on each other.
"""

from __future__ import annotations

# The gateway's id of the request (or Lambda's, when no gateway sent one) and Lambda's own invocation id.
correlation_id: str | None = None
function_request_id: str | None = None


def set_ids(correlation: str | None, function: str | None) -> None:
    """The ids of the request that starts now."""
    global correlation_id, function_request_id
    correlation_id, function_request_id = correlation, function


def current() -> dict[str, str | None]:
    """The ids of the request being served, named as log lines name them."""
    return {"correlation_id": correlation_id, "function_request_id": function_request_id}
