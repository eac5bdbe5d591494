"""How a SQL statement is named in a trace: its `-- name:` comment, else operation and table, never its text."""

from __future__ import annotations

import pytest

from lambdakit.tracing import statement_name


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT student_id FROM students WHERE student_id = %(id)s", "SELECT students"),
        ("\n  select * from public.students s where s.x = 'from secrets'", "SELECT public.students"),
        ("INSERT INTO students (first_name) VALUES (%s) RETURNING *", "INSERT students"),
        ('UPDATE "Students" SET first_name = %s WHERE student_id = %s', "UPDATE Students"),
        ("DELETE FROM ONLY students WHERE student_id = %s", "DELETE students"),
        ("-- name: get_student\nSELECT * FROM students WHERE student_id = %s", "get_student"),
        ("/* a note */ -- why\nSELECT 1", "SELECT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("SELECT pg_backend_pid() AS pid", "SELECT"),
        ("   ", "SQL"),
        ("(SELECT 1)", "SQL"),
    ],
)
def test_a_statement_is_named_by_its_name_comment_or_its_operation_and_table(sql, name):
    assert statement_name(sql) == name


def test_the_name_never_carries_a_literal_or_a_value():
    name = statement_name("SELECT * FROM students WHERE last_name = 'Secret' AND token = 'x'")
    assert name == "SELECT students"
