"""`enqueue()`: messages for the queues, sent only for committed work (a transactional outbox).

Inside a `@transaction`, `enqueue` writes the message into the table `lambdakit_outbox`, in the same
transaction as the work it is about, so a rollback takes it back with the rest. Once the transaction
has committed, the message is sent to its SQS queue and its row marked sent. A message that cannot be
sent then (SQS unreachable or throttled, the function stopped in between) stays in the table, and the
relay (the job `relay_outbox` of db_utils, run by a schedule) sends it later. So the message of a
committed write is sent at least once: twice when a send succeeded and marking its row did not, which
is why a consumer is written to be idempotent, keyed on `Message.id` (the same on every delivery).

Outside any `@transaction` there is no work to wait for: the message is sent at once, and a failed
send raises (nothing was committed, so the caller decides what to do).

The transactions are db_utils' business: it tells this module which connection runs the current one
(`use_transactions`) and when it committed (`committed`) or rolled back (`rolled_back`); the machinery
never imports it. boto3 is imported on the first send, never at a cold start.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from lambdakit.errors import ServiceUnavailable
from lambdakit.records import record
from lambdakit.routemodel import RouteError, check_queue

TABLE = "lambdakit_outbox"
# The machinery's job that sends what could not be sent at once (scheduled only where there are queues).
RELAY_JOB = "relay_outbox"
# SQS's limit on one message; a larger one is refused here, before anything is written.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_DELAY_SECONDS = 900
# The relay leaves younger rows alone: their own transaction's send may still be on its way.
RELAY_AFTER_SECONDS = 60
RELAY_BATCH = 500
# SendMessageBatch takes ten messages of at most this much together.
_BATCH_COUNT = 10

_INSERT = f"INSERT INTO {TABLE} (message_id, queue, body, delay_seconds) VALUES (%s, %s, %s, %s) RETURNING id"  # noqa: S608
_SELECT = f"SELECT id, message_id, queue, body, delay_seconds FROM {TABLE}"  # noqa: S608
_PENDING = _SELECT + " WHERE id = ANY(%s) AND sent_at IS NULL ORDER BY id"
_UNSENT = (
    _SELECT + " WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => %s)"
    " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
_MARK_SENT = f"UPDATE {TABLE} SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(%s)"  # noqa: S608
_MARK_FAILED = f"UPDATE {TABLE} SET attempts = attempts + 1, last_error = %s WHERE id = ANY(%s)"  # noqa: S608
_PURGE = (
    f"DELETE FROM {TABLE} WHERE id IN (SELECT id FROM {TABLE}"  # noqa: S608
    " WHERE sent_at < now() - make_interval(days => %s) ORDER BY id LIMIT %s)"
)

_current: Callable[[], Any] | None = None
# Rows written by the transaction that is running now: sent when it commits, forgotten when it rolls back.
pending: list[int] = []
_client: Any = None


class QueueUnavailable(ServiceUnavailable):
    """A message sent outside any transaction could not be sent; nothing was written."""


@record()
class Outgoing:
    """One message on its way: its outbox row (None outside a transaction), its id, queue, body and delay."""

    row: int | None
    message_id: str
    queue: str
    body: str
    delay_seconds: int = 0


def use_transactions(current: Callable[[], Any]) -> None:
    """Called by db_utils once: `current()` is the connection of the running @transaction, or None."""
    global _current
    _current = current


def enqueue(queue: str, body: Any, *, delay_seconds: int = 0) -> str:
    """Send `body` (JSON data) to the consumer of `queue` once the running transaction commits; return the message id.

    Outside a transaction the message is sent now (QueueUnavailable when it cannot be). Dates, UUIDs and
    Decimals are written as text; `delay_seconds` (up to 900) holds the message back in the queue.
    """
    try:
        check_queue(queue)
    except RouteError as exc:
        raise ValueError(f"enqueue: {exc}") from None
    if not isinstance(delay_seconds, int) or not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
        raise ValueError(f"enqueue: delay_seconds={delay_seconds!r}: 0..{MAX_DELAY_SECONDS}")
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_leaf)
    if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise ValueError(f"enqueue: the message is larger than SQS's {MAX_MESSAGE_BYTES // 1024} KiB")
    message_id = str(uuid.uuid4())
    conn = _current() if _current is not None else None
    if conn is None:
        _, failed = send([Outgoing(None, message_id, queue, text, delay_seconds)])
        if failed:
            raise QueueUnavailable(f"queue {queue} is unavailable, try again shortly")
        return message_id
    if conn.autocommit:
        raise RuntimeError(
            "enqueue() in a @transaction(read_only=True) function: it commits nothing to send the message with;"
            " use @transaction"
        )
    with conn.cursor() as cur:
        cur.execute(_INSERT, (message_id, queue, text, delay_seconds))
        pending.append(_first(cur.fetchone()))
    return message_id


def committed(conn: Any) -> None:
    """After db_utils committed: send what the transaction enqueued. Never raises; what fails stays for the relay."""
    rows, pending[:] = list(pending), []
    if not rows:
        return
    try:
        with conn.cursor() as cur:
            cur.execute(_PENDING, (rows,))
            outgoing = [_outgoing(row) for row in cur.fetchall()]
        sent = _send_and_mark(conn, outgoing)
        conn.commit()
    except Exception as exc:
        _rollback_quietly(conn)
        sent = 0
        _warn("the outbox could not be relayed after the commit", type(exc).__name__)
    if sent < len(rows):
        from lambdakit import metrics

        metrics.outbox_unsent(len(rows) - sent)


def rolled_back() -> None:
    """After db_utils rolled back: what the transaction enqueued was taken back with it."""
    pending.clear()


def relay_unsent(conn: Any, *, older_than_seconds: int = RELAY_AFTER_SECONDS, limit: int = RELAY_BATCH) -> int:
    """Send the unsent messages older than `older_than_seconds` (at most `limit`), in the caller's transaction.

    Rows are locked while they are sent (SKIP LOCKED), so two relays never send one message twice.
    Returns how many were sent.
    """
    with conn.cursor() as cur:
        cur.execute(_UNSENT, (older_than_seconds, limit))
        outgoing = [_outgoing(row) for row in cur.fetchall()]
    return _send_and_mark(conn, outgoing)


def purge_outbox(conn: Any, older_than_days: int = 7, limit: int = 10_000) -> int:
    """Delete up to `limit` messages sent more than `older_than_days` ago; return how many went."""
    with conn.cursor() as cur:
        cur.execute(_PURGE, (older_than_days, limit))
        return cur.rowcount


def _send_and_mark(conn: Any, outgoing: list[Outgoing]) -> int:
    if not outgoing:
        return 0
    sent, failed = send(outgoing)
    with conn.cursor() as cur:
        if sent:
            cur.execute(_MARK_SENT, ([m.row for m in sent],))
        for reason, messages in _by_reason(failed).items():
            cur.execute(_MARK_FAILED, (reason, [m.row for m in messages]))
    if failed:
        _warn(f"{len(failed)} message(s) left in the outbox for the relay", ", ".join(sorted(_by_reason(failed))))
    return len(sent)


def send(messages: Iterable[Outgoing]) -> tuple[list[Outgoing], list[tuple[Outgoing, str]]]:
    """Send each message to its queue's URL (QUEUE_URLS), ten at a time; (sent, [(failed, reason code)])."""
    from lambdakit.settings import queue_urls

    urls = queue_urls()
    sent: list[Outgoing] = []
    failed: list[tuple[Outgoing, str]] = []
    by_queue: dict[str, list[Outgoing]] = {}
    for message in messages:
        by_queue.setdefault(message.queue, []).append(message)
    for queue, batch in by_queue.items():
        url = urls.get(queue)
        if url is None:
            failed += [(m, "NoQueueUrl") for m in batch]
            continue
        for start in range(0, len(batch), _BATCH_COUNT):
            done, refused = _send_batch(url, batch[start : start + _BATCH_COUNT])
            sent += done
            failed += refused
    return sent, failed


def _send_batch(url: str, batch: list[Outgoing]) -> tuple[list[Outgoing], list[tuple[Outgoing, str]]]:
    entries = [
        {
            "Id": str(index),
            "MessageBody": message.body,
            "DelaySeconds": message.delay_seconds,
            "MessageAttributes": {MESSAGE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": message.message_id}},
        }
        for index, message in enumerate(batch)
    ]
    try:
        answer = _sqs().send_message_batch(QueueUrl=url, Entries=entries)
    except Exception as exc:  # botocore's errors are many; each means "not sent now"
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        return [], [(message, code) for message in batch]
    sent = [batch[int(entry["Id"])] for entry in answer.get("Successful", [])]
    refused = [(batch[int(entry["Id"])], entry.get("Code") or "Failed") for entry in answer.get("Failed", [])]
    return sent, refused


# The message attribute that carries the outbox's message id, so every delivery of one enqueue has the same id.
MESSAGE_ID_ATTRIBUTE = "lambdakit-message-id"


def _sqs() -> Any:
    global _client
    if _client is None:
        import boto3  # on the first send only: boto3 costs a cold start about a third of a second
        from botocore.config import Config

        # The send runs after the commit, inside the request: bounded, since the relay sends what it missed.
        bounded = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
        _client = boto3.client("sqs", config=bounded)
    return _client


def forget_client() -> None:
    """Drop the cached SQS client (tests point the next one at another endpoint)."""
    global _client
    _client = None


def _outgoing(row: Any) -> Outgoing:
    if isinstance(row, dict):
        row = (row["id"], row["message_id"], row["queue"], row["body"], row["delay_seconds"])
    return Outgoing(row[0], str(row[1]), row[2], row[3], row[4])


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def _by_reason(failed: list[tuple[Outgoing, str]]) -> dict[str, list[Outgoing]]:
    grouped: dict[str, list[Outgoing]] = {}
    for message, reason in failed:
        grouped.setdefault(reason, []).append(message)
    return grouped


def _json_leaf(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    raise TypeError(f"enqueue: {type(value).__name__} is not JSON data")


def _rollback_quietly(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: S110 - the connection is beyond use; db_utils replaces a closed one
        pass


def _warn(message: str, reason: str) -> None:
    from lambdakit.log import logger

    logger.warning(message, extra={"reason": reason})


def scheduled_jobs(jobs: Iterable[Any], has_queues: bool) -> tuple[Any, ...]:
    """The jobs to run on their timetable: all, but the outbox relay only where there is a queue to relay to."""
    return tuple(job for job in jobs if has_queues or job.name != RELAY_JOB)
