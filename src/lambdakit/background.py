"""Background work at run time: a scheduled job, and a batch of SQS messages, as their AWS sources expect.

A job's event is what the stack has EventBridge Scheduler send (`scheduled_event`): it names the job.
Its function runs once; when it raises, the failure is logged with the request's ids (by type, SQLSTATE
and place, never its message: a driver's message may quote SQL or data), counted (`JobFailed`), and
raised again without detail, so that Lambda retries the invocation and then hands the event to the
jobs' dead-letter queue.

A batch is what Lambda's event source mapping hands over from a queue: each record goes to its queue's
consumer as one `Message`, in a call of its own (so in a transaction of its own), and the answer lists
the records that failed (`batchItemFailures`; the mapping reports batch item failures), so only those
return to the queue, and after the consumer's `max_receives` tries move to its dead-letter queue.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lambdakit import metrics
from lambdakit.log import logger
from lambdakit.outbox import MESSAGE_ID_ATTRIBUTE
from lambdakit.records import record
from lambdakit.settings import queue_urls


@record()
class Message:
    """One message as its consumer gets it.

    `id` is the same on every delivery of one `enqueue()` (redeliveries, and a relay's second send): the
    key to make a consumer idempotent. `attempt` counts deliveries, 1 the first time.
    """

    id: str
    queue: str
    body: Any
    attempt: int = 1


class JobFailed(Exception):
    """A job raised; why is in the function's log, never in this error, which leaves the function."""


def scheduled_event(job: str, scheduled_time: str = "", attempt: int | str = 1) -> dict[str, Any]:
    """The event a job's schedule sends (the stack writes Scheduler's context attributes in these places)."""
    return {"job": job, "scheduledTime": scheduled_time, "attempt": attempt}


def run_job(name: Any, endpoint: Any, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Run the job `name` once; JobFailed when it raises, or when no job has that name."""
    if endpoint is None:
        logger.error("no job of that name", extra={"job": str(name)})
        raise JobFailed(f"no job named {name!r}")
    try:
        result = endpoint.target()
    except Exception as exc:
        _log_failure(exc, "job failed", job=name, scheduled_time=event.get("scheduledTime"))
        metrics.job_failed(name)
        raise JobFailed(f"job {name!r} failed") from None
    from lambdakit.jsonio import to_plain

    return {"job": name, "data": to_plain(result)}


def consume_batch(consumers: Mapping[str, Any], event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Hand each SQS record to its queue's consumer; the answer names the failed ones (ReportBatchItemFailures)."""
    failures = []
    records = event.get("Records")
    for item in records if isinstance(records, list) else ():
        if not isinstance(item, dict):
            continue
        message_id = item.get("messageId")
        queue = queue_of(item.get("eventSourceARN"))
        try:
            endpoint = consumers.get(queue) if queue is not None else None
            if endpoint is None:
                raise LookupError(f"no consumer for queue {queue or item.get('eventSourceARN')!r}")
            endpoint.target(message_of(item, queue))
        except Exception as exc:
            _log_failure(exc, "message failed", queue=queue, message_id=message_id)
            metrics.message_failed(queue or "?")
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def message_of(item: Mapping[str, Any], queue: str) -> Message:
    """The Message of one SQS record: the outbox's id when it carries one, its JSON body parsed (else its text)."""
    attribute = (item.get("messageAttributes") or {}).get(MESSAGE_ID_ATTRIBUTE) or {}
    text = item.get("body") or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = text  # sent by something other than enqueue(): its consumer reads the text
    try:
        attempt = int((item.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
    except (TypeError, ValueError):
        attempt = 1
    return Message(str(attribute.get("stringValue") or item.get("messageId") or ""), queue, body, attempt)


def queue_of(arn: Any) -> str | None:
    """The declared queue an event source ARN is: by its URL in QUEUE_URLS, else by its own name."""
    if not isinstance(arn, str) or ":" not in arn:
        return None
    physical = arn.rsplit(":", 1)[1]
    return _names().get(physical, physical)


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Physical queue name (the last part of its URL) -> the name its consumer declares."""
    return {url.rstrip("/").rsplit("/", 1)[-1]: name for name, url in queue_urls().items()}


def _log_failure(exc: BaseException, message: str, **where: Any) -> None:
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    logger.error(
        message,
        extra={
            **{k: v for k, v in where.items() if v is not None},
            "error_type": type(cause).__name__,
            "pgcode": getattr(cause, "pgcode", None),
            "where": f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else None,
        },
    )
