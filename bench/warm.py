"""Warm in-process cost of the handler against raw psycopg2 doing the same statements on the same database.

Beside them, in the same process and the same interleaved rounds, AWS Lambda Powertools' REST resolver
(`APIGatewayRestResolver`) serves the same event with a route doing the same SELECT on a cached
connection: `overhead_vs_powertools` is what our handler adds to the raw SELECT over what theirs adds.
Hand-written handlers giving the same answers with nothing else (`floor_handler`, `floor_write_handler`)
show how low a Python handler on this driver can go: `warm_floor_ratio` and `warm_floor_write_ratio`.
"""

from __future__ import annotations

import datetime
import functools
import json
import statistics
from typing import Any

import psycopg2

from bench.common import calls_per_subject, interleaved_medians, lambda_module
from local.auth import Identity, attach_rest
from local.events import LambdaContext, rest_v1_event
from local.tokens import claims_for

_JSON = [("content-type", "application/json")]
_NEW_WIDGET = {"name": "Bench", "maker": "Mark", "status": "listed"}


# What a Cognito authorizer hands the function: a signed-in user of group staff (may read and write).
_CALLER = Identity(claims=claims_for("bench", ("staff",)))


def get_event(widget_id: int) -> dict[str, Any]:
    """REST v1 event for GET /widgets/{id}, as API Gateway sends it."""
    event = rest_v1_event(
        "GET",
        f"/widgets/{widget_id}",
        "",
        [],
        b"",
        resource="/widgets/{widgetId}",
        path_parameters={"widgetId": str(widget_id)},
    )
    return attach_rest(event, _CALLER)


def post_event() -> dict[str, Any]:
    """REST v1 event for POST /widgets with a JSON body."""
    event = rest_v1_event("POST", "/widgets", "", _JSON, json.dumps(_NEW_WIDGET).encode(), resource="/widgets")
    return attach_rest(event, _CALLER)


def list_event(limit: int = 50) -> dict[str, Any]:
    """REST v1 event for GET /widgets?limit=N (the first page)."""
    return attach_rest(rest_v1_event("GET", "/widgets", f"limit={limit}", [], b"", resource="/widgets"), _CALLER)


def powertools_handler(connection: Any, query: str) -> Any:
    """A Powertools REST resolver app for GET /widgets/<widgetId>: the SELECT on `connection`, the row as JSON."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    # Its default serializer takes no dates; a user passes one that does, as Powertools' docs show.
    resolver = APIGatewayRestResolver(serializer=functools.partial(json.dumps, separators=(",", ":"), default=str))

    @resolver.get("/widgets/<widget_id>")
    def get_widget(widget_id: str) -> dict:
        with connection.cursor() as cur:
            cur.execute(query, {"widget_id": int(widget_id)})
            row = cur.fetchone()
            names = [column.name for column in cur.description]
        return dict(zip(names, row, strict=True))

    return resolver.resolve


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)


# The hand-written handlers' JSON: ISO dates, exact decimals and UUIDs as text, through the encoder's default.
_floor_encode = json.JSONEncoder(default=_plain, separators=(",", ":")).encode


def floor_handler(connection: Any, query: str) -> Any:
    """The least a handler written by hand does for the same answer: the floor under any framework.

    The path parameter as an int, the caller's group from the authorizer's claims, the SELECT on a cached
    autocommit connection, the row as a dict under camelCase keys, JSON with ISO dates and exact decimals,
    the REST answer. No routing, validation, error mapping, request ids, logging context or deadline.
    """
    from lambdakit.names import CAMEL, camel_case

    encode = _floor_encode

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        widget_id = int(event["pathParameters"]["widgetId"])
        if "staff" not in event["requestContext"]["authorizer"]["claims"]["cognito:groups"]:
            return {"statusCode": 403, "body": '{"message":"Forbidden"}'}
        with connection.cursor() as cur:
            cur.execute(query, {"widget_id": widget_id})
            row = cur.fetchone()
            names = [CAMEL.get(c.name) or camel_case(c.name) for c in cur.description]
        return {
            "statusCode": 200,
            "body": encode(dict(zip(names, row, strict=True))),
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
        }

    return handler


def floor_write_handler(connection: Any, query: str, columns: tuple[str, ...]) -> Any:
    """The least a handler written by hand does for the POST's answer: the write's floor under any framework.

    The caller's group, the JSON body as an object with its two required names and no unknown field,
    BEGIN, the INSERT ... RETURNING and COMMIT on a cached connection, the row as camelCase JSON, 201
    with its Location. No schema validation beyond that, no routing, error mapping, request ids or deadline.
    """
    from lambdakit.names import CAMEL, camel_case, snake_case

    encode = _floor_encode
    known = frozenset(columns)
    empty = dict.fromkeys(columns)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if "staff" not in event["requestContext"]["authorizer"]["claims"]["cognito:groups"]:
            return {"statusCode": 403, "body": '{"message":"Forbidden"}'}
        body = {snake_case(key): value for key, value in json.loads(event["body"]).items()}
        if (
            not known.issuperset(body)
            or not isinstance(body.get("name"), str)
            or not isinstance(body.get("maker"), str)
        ):
            return {"statusCode": 400, "body": '{"message":"Bad Request"}'}
        with connection.cursor() as cur:
            cur.execute(query, empty | body)
            row = cur.fetchone()
            names = [CAMEL.get(c.name) or camel_case(c.name) for c in cur.description]
        connection.commit()
        return {
            "statusCode": 201,
            "body": encode(dict(zip(names, row, strict=True))),
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"], "Location": [f"/widgets/{row[0]}"]},
        }

    return handler


def fresh_contexts(calls: int) -> Any:
    """A function handing out a new context per call, as Lambda gives each invocation its own.

    Made ahead so that making them is not timed; each allows Lambda's longest timeout, so one made
    early still has its time when it is used. A handler's per-invocation work (its deadline, its ids)
    is then paid on every call, as in Lambda, rather than once for a context kept across calls.
    """
    return iter([LambdaContext(timeout_ms=900_000) for _ in range(calls)]).__next__


def _same_answers(handler: Any, floor: Any, read: dict, floor_write: Any, write: dict) -> None:
    """The hand-written handlers give the handler's answers: the same row read, a new row of the same shape."""
    context = LambdaContext()
    if json.loads(floor(read, context)["body"]) != json.loads(handler(read, context)["body"]):
        raise RuntimeError("the hand-written handler's answer differs from the handler's")
    ours, theirs = handler(write, context), floor_write(write, context)
    _expect(201, theirs)
    if json.loads(ours["body"]).keys() != json.loads(theirs["body"]).keys():
        raise RuntimeError("the hand-written write's answer differs in shape from the handler's")


def _expect(status: int, result: dict[str, Any]) -> None:
    if result.get("statusCode") != status:
        raise RuntimeError(f"handler answered {result.get('statusCode')}: {result.get('body')}")


def measure(database_url: str, iterations: int) -> dict[str, float]:
    """warm_read_ratio, warm_write_ratio and lesson_ratio, each against its baseline in the same run."""
    module = lambda_module(database_url)
    import fixture_widgets as sql  # the route module's own SQL: the baseline sends the same statements

    context = LambdaContext()
    read, write = get_event(1), post_event()
    _expect(200, module.handler(read, context))
    _expect(201, module.handler(write, context))

    raw = psycopg2.connect(database_url)
    raw.autocommit = True
    raw_tx = psycopg2.connect(database_url)
    lesson = psycopg2.connect(database_url)
    theirs = psycopg2.connect(database_url)
    theirs.autocommit = True
    powertools = powertools_handler(theirs, sql.GET_WIDGET)
    _expect(200, powertools(read, context))
    by_hand = psycopg2.connect(database_url)
    by_hand.autocommit = True
    floor = floor_handler(by_hand, sql.GET_WIDGET)
    by_hand_tx = psycopg2.connect(database_url)
    floor_write = floor_write_handler(by_hand_tx, sql.INSERT_WIDGET, sql.UPDATABLE_COLUMNS)
    _same_answers(module.handler, floor, read, floor_write, write)
    insert_args = dict.fromkeys(sql.UPDATABLE_COLUMNS) | {"name": "Bench", "maker": "Mark", "status": "listed"}

    def raw_select() -> None:
        with raw.cursor() as cur:
            cur.execute(sql.GET_WIDGET, {"widget_id": 1})
            cur.fetchone()

    def raw_insert() -> None:
        # psycopg2 opens the transaction itself: BEGIN, INSERT ... RETURNING, COMMIT.
        with raw_tx.cursor() as cur:
            cur.execute(sql.INSERT_WIDGET, insert_args)
            cur.fetchone()
        raw_tx.commit()

    def lesson_select() -> None:
        # The pattern this project grew from: cached connection, commit, then reset() (DISCARD ALL).
        # Tuple rows, so the baseline is only the protocol's cost and no Python of ours.
        try:
            with lesson.cursor() as cur:
                cur.execute(sql.GET_WIDGET, {"widget_id": 1})
                cur.fetchone()
            lesson.commit()
        finally:
            lesson.reset()

    try:
        # A new context for each call of each subject that takes one.
        calls = calls_per_subject(iterations)
        for_read, for_powertools, for_floor, for_write, for_floor_write = (fresh_contexts(calls) for _ in range(5))
        medians = interleaved_medians(
            {
                "handler_read": lambda: module.handler(read, for_read()),
                "raw_select": raw_select,
                "lesson_select": lesson_select,
                "powertools_read": lambda: powertools(read, for_powertools()),
                "floor_read": lambda: floor(read, for_floor()),
            },
            iterations,
        )
        medians |= interleaved_medians(
            {
                "handler_write": lambda: module.handler(write, for_write()),
                "raw_insert": raw_insert,
                "floor_write": lambda: floor_write(write, for_floor_write()),
            },
            iterations,
        )
    finally:
        for conn in (raw, raw_tx, lesson, theirs, by_hand, by_hand_tx):
            conn.close()
    ours_over_raw = medians["handler_read"] - medians["raw_select"]
    theirs_over_raw = medians["powertools_read"] - medians["raw_select"]
    return {
        "warm_read_ratio": medians["handler_read"] / medians["raw_select"],
        "warm_write_ratio": medians["handler_write"] / medians["raw_insert"],
        "lesson_ratio": medians["handler_read"] / medians["lesson_select"],
        "overhead_vs_powertools": ours_over_raw / theirs_over_raw if theirs_over_raw > 0 else None,
        "warm_floor_ratio": medians["floor_read"] / medians["raw_select"],
        "warm_floor_write_ratio": medians["floor_write"] / medians["raw_insert"],
        "_us": {name: round(value * 1e6, 1) for name, value in medians.items()},
    }


KEYS = (
    "warm_read_ratio",
    "warm_write_ratio",
    "lesson_ratio",
    "overhead_vs_powertools",
    "warm_floor_ratio",
    "warm_floor_write_ratio",
)


def measure_until_stable(
    database_url: str, iterations: int, tolerance: float = 0.04, max_runs: int = 5
) -> dict[str, Any]:
    """`measure` run again until every key's runs agree within `tolerance` (half their range over the median).

    At least two runs; the keys are the medians of the runs, `_noise` each key's half-range, `_runs` how many.
    """
    runs: list[dict[str, Any]] = []
    while True:
        runs.append(measure(database_url, iterations))
        spreads = {key: _spread([run[key] for run in runs if run[key] is not None]) for key in KEYS}
        if len(runs) >= max_runs or (len(runs) >= 2 and all(spread <= tolerance for spread in spreads.values())):
            break
    result: dict[str, Any] = {}
    for key in KEYS:
        values = [run[key] for run in runs if run[key] is not None]
        result[key] = statistics.median(values) if values else None
    result["_noise"] = {key: round(spread, 3) for key, spread in spreads.items()}
    result["_runs"] = len(runs)
    result["_us"] = {name: statistics.median(run["_us"][name] for run in runs) for name in runs[0]["_us"]}
    return result


def _spread(values: list[float]) -> float:
    if not values:
        return 0.0
    middle = statistics.median(values)
    return (max(values) - min(values)) / 2 / middle if middle else 0.0
