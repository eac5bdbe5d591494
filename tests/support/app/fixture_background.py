"""The fixture app's background work, for the tests of the machinery's: restocks sent by committed POSTs to a
queue whose consumer fails on request, and a job on the shortest timetable EventBridge allows.

Not included by the fixture app's handler: a test that wants it writes it into its src/ folder
(`app.write_src(folder, app.BACKGROUND)`), so the other tests' servers run no background work.
"""

from __future__ import annotations

from db_utils import transaction
from lambdakit import Conflict, Message, Router, enqueue

router = Router()

RESTOCK = {
    "type": "object",
    "properties": {
        "widget_id": {"type": "integer", "minimum": 1},
        "amount": {"type": "integer", "minimum": 1, "maximum": 1000},
        # The consumer fails this message's first `fail_times` deliveries.
        "fail_times": {"type": "integer", "minimum": 0, "maximum": 10},
        # Raise after the enqueue, so the transaction (and the message) rolls back.
        "roll_back": {"type": "boolean"},
    },
    "required": ["widget_id", "amount"],
    "additionalProperties": False,
}
RESTOCKS = {
    "type": "object",
    "properties": {"restocks": {"type": "array", "items": RESTOCK, "minItems": 1, "maxItems": 10}},
    "required": ["restocks"],
    "additionalProperties": False,
}
INSERT_RESTOCK = """
INSERT INTO fixture_restocks (widget_id, amount) VALUES (%(widget_id)s, %(amount)s) RETURNING restock_id
"""
RECORD_DELIVERY = """
INSERT INTO fixture_deliveries (message_id, restock_id, attempt) VALUES (%(message_id)s, %(restock_id)s, %(attempt)s)
"""


def _restock(conn, restock: dict) -> dict:
    with conn.cursor() as cur:
        cur.execute(INSERT_RESTOCK, restock)
        restock_id = cur.fetchone()["restock_id"]
    message_id = enqueue("restocks", {"restock_id": restock_id, "fail_times": restock.get("fail_times", 0)})
    if restock.get("roll_back"):
        raise Conflict("rolled back on request")
    return {"restock_id": restock_id, "message_id": message_id}


@router.rest("POST", "/restocks", status=202, body=RESTOCK, auth="none")
@transaction
def request_restock(conn, body: dict) -> dict:
    """Note a restock and send it to the queue `restocks`, in one transaction."""
    return _restock(conn, body)


@router.rest("POST", "/restock-batches", status=202, body=RESTOCKS, auth="none")
@transaction
def request_restocks(conn, body: dict) -> list:
    """Several restocks in one transaction: their messages are sent together, and arrive in one batch."""
    return [_restock(conn, restock) for restock in body["restocks"]]


@router.queue("restocks", batch_size=5, max_receives=3)
@transaction
def apply_restock(conn, message: Message) -> None:
    """Record the delivery of a restock, failing its first `fail_times` deliveries (each rolls back)."""
    if message.attempt <= message.body["fail_times"]:
        raise RuntimeError("failing on request")
    with conn.cursor() as cur:
        values = {"message_id": message.id, "restock_id": message.body["restock_id"], "attempt": message.attempt}
        cur.execute(RECORD_DELIVERY, values)


@router.schedule("rate(1 minute)")
@transaction
def tick(conn) -> None:
    """Note that the job ran; the test of the local timetable counts these."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO fixture_ticks DEFAULT VALUES")
