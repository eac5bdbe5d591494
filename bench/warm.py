"""Warm in-process cost of the handler against raw psycopg2 doing the same statements on the same database."""

from __future__ import annotations

import json
from typing import Any

import psycopg2

from bench.common import interleaved_medians, lambda_module
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
        medians = interleaved_medians(
            {
                "handler_read": lambda: module.handler(read, context),
                "raw_select": raw_select,
                "lesson_select": lesson_select,
            },
            iterations,
        )
        medians |= interleaved_medians(
            {"handler_write": lambda: module.handler(write, context), "raw_insert": raw_insert},
            iterations,
        )
    finally:
        for conn in (raw, raw_tx, lesson):
            conn.close()
    return {
        "warm_read_ratio": medians["handler_read"] / medians["raw_select"],
        "warm_write_ratio": medians["handler_write"] / medians["raw_insert"],
        "lesson_ratio": medians["handler_read"] / medians["lesson_select"],
        "_us": {name: round(value * 1e6, 1) for name, value in medians.items()},
    }
