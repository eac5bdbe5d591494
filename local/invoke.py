"""One invocation as Lambda makes it: the payload limit, the function's timeout, and what a timeout costs.

Lambda refuses an event of 6 MiB or more before the function runs, and ends an invocation that runs
past the function's `timeoutSeconds` (API Gateway then answers 502, AppSync an error). The local
server keeps both rules, so what fails deployed fails here first. The timeout is a SIGALRM raised
in the worker's main thread, where the handler runs: no thread per request, so serving stays as fast
as before; a call blocked inside the database driver ends when the driver returns, which the
statement timeout (always shorter than the function's, checked at synth) and the function's own
deadline on database waits (lambdakit/deadline.py) guarantee.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.events import LambdaContext


def payload_limit() -> int:
    """Lambda's payload limit, as the function being served states it (its src/ is on the path by now)."""
    from lambdakit.limits import MAX_PAYLOAD_BYTES

    return MAX_PAYLOAD_BYTES


class FunctionTimedOut(BaseException):
    """Raised into the handler when the function's time is up (BaseException: no route may catch it)."""


@dataclass(frozen=True)
class Invocation:
    """What one invocation ended with: the handler's answer, or a timeout, or an unhandled exception."""

    result: Any = None
    timed_out: bool = False
    error: str | None = None
    request_id: str = ""


def event_bytes(event: dict[str, Any]) -> int:
    """The size Lambda counts: the event as JSON, in bytes (only measured when it could matter)."""
    body = event.get("body") or ""
    # JSON escapes a character in at most 6 (\u0001): below this a text body cannot make the event too big.
    surely_small = payload_limit() // 6 - 64 * 1024
    if isinstance(body, str) and len(body) < surely_small and len(json.dumps(event.get("headers") or {})) < 65536:
        return 0
    return len(json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def too_large(event: dict[str, Any]) -> bool:
    """Whether Lambda would refuse this event (RequestEntityTooLargeException)."""
    return event_bytes(event) >= payload_limit()


def _unguarded(handler: Callable[[dict, Any], Any], event: Any, context: LambdaContext) -> Invocation:
    try:
        return Invocation(result=handler(event, context), request_id=context.aws_request_id)
    except Exception as exc:
        return Invocation(
            error=type(exc).__name__ + (f": {exc}" if str(exc) else ""), request_id=context.aws_request_id
        )


def _alarm(_signum: int, _frame: Any) -> None:
    raise FunctionTimedOut


def invoke(handler: Callable[[dict, Any], Any], event: Any, timeout_seconds: float) -> Invocation:
    """Call `handler` once within `timeout_seconds`, as Lambda does; never raises."""
    context = LambdaContext(timeout_ms=int(timeout_seconds * 1000))
    if threading.current_thread() is not threading.main_thread():
        return _unguarded(handler, event, context)  # signals reach the main thread only (tests, IDEs)
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout_seconds)
            return Invocation(result=handler(event, context), request_id=context.aws_request_id)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except FunctionTimedOut:
        return Invocation(timed_out=True, request_id=context.aws_request_id)
    except Exception as exc:  # an unhandled error is the invocation's result, as in Lambda
        error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        return Invocation(error=error, request_id=context.aws_request_id)
    finally:
        signal.signal(signal.SIGALRM, previous)
