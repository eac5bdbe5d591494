"""One invocation as Lambda makes it: the payload limit, the function's timeout, and what a timeout costs.

Lambda refuses an event of 6 MiB or more before the function runs, and ends an invocation that runs
past the function's `timeoutSeconds` (API Gateway then answers 502, AppSync an error). The local
server keeps both rules, so what fails deployed fails here first. The timeout is a SIGALRM raised
in the worker's main thread, where the handler runs: no thread per request, so serving stays as fast
as before; a call blocked inside the database driver ends when the driver returns, which the
statement timeout (always shorter than the function's, checked at synth) and the function's own
deadline on database waits (lambdakit/deadline.py) guarantee.

What an invocation costs is kept to setting and clearing one timer: the signal handler is installed
once per process, the request ids are counted rather than drawn (`new_request_id`), and the size of
an event is only measured when its text could come near the limit.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import signal
import threading
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from local.events import LambdaContext


@functools.cache
def payload_limit() -> int:
    """Lambda's payload limit, as the function being served states it (its src/ is on the path by now)."""
    from lambdakit.limits import MAX_PAYLOAD_BYTES

    return MAX_PAYLOAD_BYTES


class FunctionTimedOut(BaseException):
    """Raised into the handler when the function's time is up (BaseException: no route may catch it)."""


class Invocation(NamedTuple):
    """What one invocation ended with: the handler's answer, or a timeout, or an unhandled exception."""

    result: Any = None
    timed_out: bool = False
    error: str | None = None
    request_id: str = ""


# Request ids shaped like Lambda's (a UUID): a random prefix per process and a counter, so making one
# costs a formatted integer instead of uuid4's random bytes and UUID object (3 µs, twice a request).
_ids = itertools.count(1)
_id_prefix = ""


def _new_prefix() -> None:
    global _id_prefix, _ids
    _id_prefix, _ids = str(uuid.uuid4())[:24], itertools.count(1)


_new_prefix()
os.register_at_fork(after_in_child=_new_prefix)  # a forked worker never repeats its parent's ids


def new_request_id() -> str:
    """A request id unique to this process's run: 8-4-4-4-12 hexadecimal digits, as Lambda's and API Gateway's are."""
    return f"{_id_prefix}{next(_ids):012x}"


def event_bytes(event: dict[str, Any]) -> int:
    """The size Lambda counts: the event as JSON, in bytes (only measured when it could matter)."""
    body = event.get("body") or ""
    headers = event.get("headers") or {}
    # JSON writes a character in at most 6 (\u0001) and UTF-8 in at most 4 bytes, and an event carries
    # its headers twice (headers, multiValueHeaders): far below the limit, no need to write it out.
    text = sum(map(len, headers)) + sum(map(len, headers.values())) + 8 * len(headers)
    if isinstance(body, str) and 6 * (len(body) + 2 * text) + 64 * 1024 < payload_limit():
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


_alarm_installed = False


def _install_alarm() -> None:
    """Install the timeout's signal handler, once: installing it costs more than the rest of an invocation."""
    global _alarm_installed
    if signal.getsignal(signal.SIGALRM) is not _alarm:
        signal.signal(signal.SIGALRM, _alarm)
    _alarm_installed = True


def invoke(handler: Callable[[dict, Any], Any], event: Any, timeout_seconds: float) -> Invocation:
    """Call `handler` once within `timeout_seconds`, as Lambda does; never raises.

    The first call in a process's main thread installs the SIGALRM handler, which stays (a worker's main
    thread is the handler's): with no timer set it never runs.
    """
    context = LambdaContext(timeout_ms=int(timeout_seconds * 1000), aws_request_id=new_request_id())
    if threading.current_thread() is not threading.main_thread():
        return _unguarded(handler, event, context)  # signals reach the main thread only (tests, IDEs)
    if not _alarm_installed:
        _install_alarm()
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout_seconds)
            return Invocation(handler(event, context), False, None, context.aws_request_id)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except FunctionTimedOut:
        return Invocation(timed_out=True, request_id=context.aws_request_id)
    except Exception as exc:  # an unhandled error is the invocation's result, as in Lambda
        error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        return Invocation(error=error, request_id=context.aws_request_id)
