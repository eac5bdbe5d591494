"""The sample: students, served over REST, GraphQL and direct invokes alike. Yours to change or delete.

Inputs arrive as keyword arguments named like the API's fields in snake_case (`studentId` ->
`student_id`): path and query parameters, GraphQL arguments and direct `args`; a JSON body arrives
as `body`, already checked against the route's `body=` schema. Return plain data (rows are dicts),
or a Response for a status, headers or a body that is not JSON; raise NotFound & co. for a 4xx.
Every SQL value is a bound parameter.

Who may call: any signed-in user reads (the stack's `auth`), group `staff` writes, `admin` deletes.
The gateway and AppSync check the sign-in (and, for GraphQL, src/schema.graphql's directives); the
function checks the groups again whatever the source.

Background work: creating a student sends a message to the queue `welcome` (only once the student is
committed), whose consumer welcomes each student once however often the message comes; a nightly job
forgets the messages sent over a week ago.
"""

from __future__ import annotations

from psycopg2 import sql

from db_utils import transaction
from lambdakit import (
    DEFAULT_LIMIT,
    PAGE_PARAMS,
    Message,
    NotFound,
    Response,
    Router,
    decode_cursor,
    encode_cursor,
    enqueue,
    purge_outbox,
    validate,
)

router = Router()

# -- schemas (Python names; clients see them camelCased) ---------------------------------------------
STATUSES = ["enrolled", "graduated", "suspended", "withdrawn"]
_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_UUID = {"type": "string", "format": "uuid"}
_FIELDS = {
    "student_uuid": _UUID,
    "first_name": _NAME,
    "last_name": _NAME,
    "status": {"type": "string", "enum": STATUSES},
    "program_id": {"type": ["string", "null"], "format": "uuid"},
    "active": {"type": "boolean"},
}
NEW_STUDENT = {
    "type": "object",
    "properties": _FIELDS,
    "required": ["first_name", "last_name"],
    "additionalProperties": False,
}
STUDENT_CHANGES = {"type": "object", "properties": _FIELDS, "minProperties": 1, "additionalProperties": False}
STUDENT = {
    "type": "object",
    "properties": {
        "student_id": {"type": "integer"},
        **_FIELDS,
        "status": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "required": ["student_id", *_FIELDS, "created_at", "updated_at"],
    "additionalProperties": False,
}
STUDENT_PAGE = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": STUDENT}, "next_cursor": {"type": ["string", "null"]}},
    "required": ["items", "next_cursor"],
    "additionalProperties": False,
}

# -- SQL ---------------------------------------------------------------------------------------------
# Keyset pagination: the cost of a page does not grow with the table (an OFFSET would).
LIST_STUDENTS = """
SELECT student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at
FROM students WHERE student_id > %(after)s ORDER BY student_id LIMIT %(limit)s
"""
GET_STUDENT = """
SELECT student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at
FROM students WHERE student_id = %(student_id)s
"""
INSERT_STUDENT = """
INSERT INTO students (student_uuid, first_name, last_name, status, program_id, active)
VALUES (COALESCE(%(student_uuid)s, gen_random_uuid()), %(first_name)s, %(last_name)s,
        COALESCE(%(status)s, 'enrolled'), %(program_id)s, COALESCE(%(active)s, true))
RETURNING student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at
"""
DELETE_STUDENT = """
DELETE FROM students WHERE student_id = %(student_id)s
RETURNING student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at
"""
# Idempotent: a second delivery of a welcome (or a second message for the same student) changes nothing,
# and a student deleted before the welcome arrived is not welcomed.
RECORD_WELCOME = """
INSERT INTO student_welcomes (student_id, message_id)
SELECT student_id, %(message_id)s FROM students WHERE student_id = %(student_id)s
ON CONFLICT (student_id) DO NOTHING
"""
UPDATABLE_COLUMNS = ("student_uuid", "first_name", "last_name", "status", "program_id", "active")
_RETURNING = sql.SQL(
    "RETURNING student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at"
)


def update_student_sql(columns: list[str]) -> sql.Composed:
    """UPDATE for a merge: sets only `columns` (each checked against UPDATABLE_COLUMNS) and bumps updated_at."""
    unknown = set(columns) - set(UPDATABLE_COLUMNS)
    if unknown or not columns:
        raise ValueError(f"cannot update columns {sorted(unknown) or columns}")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in columns
    )
    return sql.SQL("UPDATE students SET {}, updated_at = now() WHERE student_id = %(student_id)s {}").format(
        assignments, _RETURNING
    )


# -- routes ------------------------------------------------------------------------------------------
@router.rest("GET", "/students", params=PAGE_PARAMS, response=STUDENT_PAGE)
@router.graphql("Query", "listStudents")
@router.direct("list_students")
@transaction(read_only=True)
def list_students(conn, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> dict:
    """One page of students in id order; pass `nextCursor` back as `cursor` for the next page."""
    with conn.cursor() as cur:
        cur.execute(LIST_STUDENTS, {"after": decode_cursor(cursor), "limit": limit + 1})
        rows = cur.fetchall()
    page = rows[:limit]
    return {
        "items": page,
        "next_cursor": encode_cursor(page[-1]["student_id"]) if len(rows) > limit else None,
    }


@router.rest("GET", "/students/{studentId}", response=STUDENT)
@router.graphql("Query", "getStudent")
@router.direct("get_student")
@transaction(read_only=True)
def get_student(conn, student_id: int) -> dict:
    """One student by id."""
    with conn.cursor() as cur:
        cur.execute(GET_STUDENT, {"student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


STAFF = ["staff"]
ADMIN = ["admin"]


@router.rest("POST", "/students", status=201, body=NEW_STUDENT, response=STUDENT, groups=STAFF)
@router.direct("create_student")
@transaction
def create_student(conn, body: dict) -> Response:
    """Add a student; `studentUuid` is generated when absent. Answers 201 with the new row's Location."""
    student = {column: None for column in UPDATABLE_COLUMNS} | body
    with conn.cursor() as cur:
        cur.execute(INSERT_STUDENT, student)
        row = cur.fetchone()
    enqueue("welcome", {"student_id": row["student_id"]})  # sent once this transaction commits
    return Response(row, status=201, headers={"Location": f"/students/{row['student_id']}"})


@router.rest("PUT", "/students/{studentId}", body=STUDENT_CHANGES, response=STUDENT, groups=STAFF)
@router.direct("update_student")
@transaction
def update_student(conn, student_id: int, body: dict) -> dict:
    """Change the given fields of a student and keep the others (a merge update)."""
    with conn.cursor() as cur:
        cur.execute(update_student_sql(sorted(body)), {**body, "student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


@router.graphql("Mutation", "saveStudent", body=STUDENT_CHANGES, groups=STAFF)
@router.direct("save_student")
@transaction
def save_student(conn, body: dict, student_id: int | None = None) -> dict:
    """Create a student, or update one when `studentId` is given (GraphQL's single write field)."""
    if student_id is None:
        return create_student(body=validate(body, NEW_STUDENT)).body
    return update_student(student_id=student_id, body=body)


@router.rest("DELETE", "/students/{studentId}", response=STUDENT, groups=ADMIN)
@router.graphql("Mutation", "deleteStudent")
@router.direct("delete_student")
@transaction
def delete_student(conn, student_id: int) -> dict:
    """Remove a student and return the row as it was."""
    with conn.cursor() as cur:
        cur.execute(DELETE_STUDENT, {"student_id": student_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"student {student_id} not found")
    return row


# -- background work ---------------------------------------------------------------------------------
@router.queue("welcome", batch_size=10, max_receives=5)
@transaction
def welcome_student(conn, message: Message) -> None:
    """Welcome a new student (here: note it; a real one would also send an e-mail), once per student."""
    with conn.cursor() as cur:
        cur.execute(RECORD_WELCOME, {"student_id": message.body["student_id"], "message_id": message.id})


@router.schedule("cron(0 3 * * ? *)", timezone="Europe/Paris")
@transaction
def purge_sent_messages(conn) -> dict:
    """Nightly at 03:00 Paris time: forget the outbox's messages sent more than a week ago."""
    return {"purged": purge_outbox(conn, older_than_days=7)}
