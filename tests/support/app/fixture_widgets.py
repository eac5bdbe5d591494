"""The fixture app's routes: widgets over REST, GraphQL and direct invokes, as a user's module would serve them.

The template's tests drive the machinery through these routes (never through the sample), so they
pass whatever the project's own src/ holds. Reads are open to any signed-in caller, group `staff`
writes, `admin` deletes. Every SQL value is a bound parameter.
"""

from __future__ import annotations

from psycopg2 import sql

from db_utils import transaction
from lambdakit import (
    DEFAULT_LIMIT,
    PAGE_PARAMS,
    NotFound,
    Response,
    Router,
    decode_cursor,
    encode_cursor,
    validate,
)

router = Router()

STATUSES = ["draft", "listed", "sold", "retired"]
_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_FIELDS = {
    "widget_uuid": {"type": "string", "format": "uuid"},
    "name": _NAME,
    "maker": _NAME,
    "status": {"type": "string", "enum": STATUSES},
    "batch_id": {"type": ["string", "null"], "format": "uuid"},
    # No minimum on purpose: `stock >= 0` is the database's rule (a check constraint), so a client can break it.
    "stock": {"type": "integer"},
    "price": {"type": ["number", "null"]},
    "active": {"type": "boolean"},
}
NEW_WIDGET = {
    "type": "object",
    "properties": _FIELDS,
    "required": ["name", "maker"],
    "additionalProperties": False,
}
WIDGET_CHANGES = {"type": "object", "properties": _FIELDS, "minProperties": 1, "additionalProperties": False}
WIDGET = {
    "type": "object",
    "properties": {
        "widget_id": {"type": "integer"},
        **_FIELDS,
        "status": {"type": "string"},
        "price": {"type": ["string", "null"]},  # numeric leaves as a Decimal, which the API writes as exact text
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "required": ["widget_id", *_FIELDS, "created_at", "updated_at"],
    "additionalProperties": False,
}
WIDGET_PAGE = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": WIDGET}, "next_cursor": {"type": ["string", "null"]}},
    "required": ["items", "next_cursor"],
    "additionalProperties": False,
}

COLUMNS = "widget_id, widget_uuid, name, maker, status, batch_id, stock, price, active, created_at, updated_at"
LIST_WIDGETS = f"SELECT {COLUMNS} FROM fixture_widgets WHERE widget_id > %(after)s ORDER BY widget_id LIMIT %(limit)s"
GET_WIDGET = f"SELECT {COLUMNS} FROM fixture_widgets WHERE widget_id = %(widget_id)s"
INSERT_WIDGET = f"""
INSERT INTO fixture_widgets (widget_uuid, name, maker, status, batch_id, stock, price, active)
VALUES (COALESCE(%(widget_uuid)s, gen_random_uuid()), %(name)s, %(maker)s, COALESCE(%(status)s, 'draft'),
        %(batch_id)s, COALESCE(%(stock)s, 0), %(price)s, COALESCE(%(active)s, true))
RETURNING {COLUMNS}
"""
DELETE_WIDGET = f"DELETE FROM fixture_widgets WHERE widget_id = %(widget_id)s RETURNING {COLUMNS}"
UPDATABLE_COLUMNS = tuple(_FIELDS)


def update_widget_sql(columns: list[str]) -> sql.Composed:
    """UPDATE that sets only `columns` (each one of UPDATABLE_COLUMNS) and bumps updated_at."""
    if not columns or set(columns) - set(UPDATABLE_COLUMNS):
        raise ValueError(f"cannot update columns {columns}")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in columns
    )
    return sql.SQL("UPDATE fixture_widgets SET {}, updated_at = now() WHERE widget_id = %(widget_id)s {}").format(
        assignments, sql.SQL(f"RETURNING {COLUMNS}")
    )


@router.rest("GET", "/widgets", params=PAGE_PARAMS, response=WIDGET_PAGE)
@router.graphql("Query", "listWidgets")
@router.direct("list_widgets")
@transaction(read_only=True)
def list_widgets(conn, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> dict:
    """One page of widgets in id order; `nextCursor` continues it."""
    with conn.cursor() as cur:
        cur.execute(LIST_WIDGETS, {"after": decode_cursor(cursor), "limit": limit + 1})
        rows = cur.fetchall()
    page = rows[:limit]
    return {"items": page, "next_cursor": encode_cursor(page[-1]["widget_id"]) if len(rows) > limit else None}


@router.rest("GET", "/widgets/{widgetId}", response=WIDGET)
@router.graphql("Query", "getWidget")
@router.direct("get_widget")
@transaction(read_only=True)
def get_widget(conn, widget_id: int) -> dict:
    """One widget by id."""
    with conn.cursor() as cur:
        cur.execute(GET_WIDGET, {"widget_id": widget_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"widget {widget_id} not found")
    return row


@router.rest("POST", "/widgets", status=201, body=NEW_WIDGET, response=WIDGET, groups=["staff"])
@router.direct("create_widget")
@transaction
def create_widget(conn, body: dict) -> Response:
    """Add a widget; answers 201 with the new row's Location."""
    with conn.cursor() as cur:
        cur.execute(INSERT_WIDGET, dict.fromkeys(UPDATABLE_COLUMNS) | body)
        row = cur.fetchone()
    return Response(row, status=201, headers={"Location": f"/widgets/{row['widget_id']}"})


@router.rest("PUT", "/widgets/{widgetId}", body=WIDGET_CHANGES, response=WIDGET, groups=["staff"])
@router.direct("update_widget")
@transaction
def update_widget(conn, widget_id: int, body: dict) -> dict:
    """Change the given fields and keep the others (a merge update)."""
    with conn.cursor() as cur:
        cur.execute(update_widget_sql(sorted(body)), {**body, "widget_id": widget_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"widget {widget_id} not found")
    return row


@router.graphql("Mutation", "saveWidget", body=WIDGET_CHANGES, groups=["staff"])
@router.direct("save_widget")
@transaction
def save_widget(conn, body: dict, widget_id: int | None = None) -> dict:
    """Create a widget, or update one when `widgetId` is given (one GraphQL write field for both)."""
    if widget_id is None:
        return create_widget(body=validate(body, NEW_WIDGET)).body
    return update_widget(widget_id=widget_id, body=body)


@router.rest("DELETE", "/widgets/{widgetId}", response=WIDGET, groups=["admin"])
@router.graphql("Mutation", "deleteWidget")
@router.direct("delete_widget")
@transaction
def delete_widget(conn, widget_id: int) -> dict:
    """Remove a widget and return the row as it was."""
    with conn.cursor() as cur:
        cur.execute(DELETE_WIDGET, {"widget_id": widget_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"widget {widget_id} not found")
    return row
