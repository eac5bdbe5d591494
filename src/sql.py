"""Every SQL statement of the students API, in one place. Values are always bound parameters."""

from __future__ import annotations

from psycopg2 import sql

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

UPDATABLE_COLUMNS = ("student_uuid", "first_name", "last_name", "status", "program_id", "active")
_RETURNING = sql.SQL(
    "RETURNING student_id, student_uuid, first_name, last_name, status, program_id, active, created_at, updated_at"
)


def update_student(columns: list[str]) -> sql.Composed:
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
