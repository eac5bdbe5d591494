"""The students API. Each function is one route, served over REST, GraphQL and direct invokes alike.

Inputs arrive as keyword arguments named like the API's fields in snake_case (`studentId` ->
`student_id`): path and query parameters, GraphQL arguments and direct `args`; a JSON body arrives
as `body`. Return plain data (rows are dicts); raise errors.NotFound & co. for a 4xx.
"""

from __future__ import annotations

import sql
from db_utils import transaction
from lambdakit.errors import NotFound
from lambdakit.migrator import apply_migrations
from lambdakit.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor, page_limit
from lambdakit.router import Router
from lambdakit.validation import validate
from schemas import NEW_STUDENT, STUDENT_CHANGES

router = Router()


@router.rest("GET", "/students")
@router.graphql("Query", "listStudents")
@router.direct("list_students")
@transaction(read_only=True)
def list_students(conn, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> dict:
    """One page of students in id order; pass `nextCursor` back as `cursor` for the next page."""
    limit = page_limit(limit)
    with conn.cursor() as cur:
        cur.execute(sql.LIST_STUDENTS, {"after": decode_cursor(cursor), "limit": limit + 1})
        rows = cur.fetchall()
    page = rows[:limit]
    return {
        "items": page,
        "next_cursor": encode_cursor(page[-1]["student_id"]) if len(rows) > limit else None,
    }


@router.rest("GET", "/students/{studentId}")
@router.graphql("Query", "getStudent")
@router.direct("get_student")
@transaction(read_only=True)
def get_student(conn, student_id: int) -> dict:
    """One student by id."""
    with conn.cursor() as cur:
        cur.execute(sql.GET_STUDENT, {"student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


@router.rest("POST", "/students", status=201)
@router.direct("create_student")
@transaction
def create_student(conn, body: dict) -> dict:
    """Add a student; `studentUuid` is generated when absent."""
    student = {column: None for column in sql.UPDATABLE_COLUMNS} | validate(body, NEW_STUDENT)
    with conn.cursor() as cur:
        cur.execute(sql.INSERT_STUDENT, student)
        return cur.fetchone()


@router.rest("PUT", "/students/{studentId}")
@router.direct("update_student")
@transaction
def update_student(conn, student_id: int, body: dict) -> dict:
    """Change the given fields of a student and keep the others (a merge update)."""
    changes = validate(body, STUDENT_CHANGES)
    with conn.cursor() as cur:
        cur.execute(sql.update_student(sorted(changes)), {**changes, "student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


@router.graphql("Mutation", "saveStudent")
@router.direct("save_student")
@transaction
def save_student(conn, body: dict, student_id: int | None = None) -> dict:
    """Create a student, or update one when `studentId` is given (GraphQL's single write field)."""
    if student_id is None:
        return create_student(body=body)
    return update_student(student_id=student_id, body=body)


@router.rest("DELETE", "/students/{studentId}")
@router.graphql("Mutation", "deleteStudent")
@router.direct("delete_student")
@transaction
def delete_student(conn, student_id: int) -> dict:
    """Remove a student and return the row as it was."""
    with conn.cursor() as cur:
        cur.execute(sql.DELETE_STUDENT, {"student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


@router.direct("migrate")
@transaction
def migrate(conn) -> dict:
    """Apply pending src/migrations/*.sql (`make migrate STAGE=dev`); direct only, so no API can reach it."""
    return {"applied": apply_migrations(conn)}


def handler(event: dict, context: object) -> dict:
    """Lambda entry point for every event source."""
    return router.handle(event, context)
