"""The sample's named events (events/*.json) run through `python run_local.py NAME` with the answer each must get.

They name students 1 and 2 and a missing 999999, so they run against a database of their own holding
those rows, whatever db/seed.sql holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from local.database import apply_migrations, apply_seed

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted(p.stem for p in (ROOT / "events").glob("*.json"))
# REST events: the status; direct invokes: the envelope's key; GraphQL: the field's value (a student); a job's
# event: its answer's `job`; an SQS batch: the partial batch response.
EXPECTED: dict[str, int | str] = {
    "create_student": 201,
    "delete_student": 404,  # student 999999: deleting a real one would change the rows the others read
    "get_student": 200,
    "get_student_http_api": 200,
    "list_students": 200,
    "update_student": 200,
    "direct_get_student": "data",
    "direct_list_students": "data",
    "graphql_get_student": "studentId",
    "graphql_save_student": "studentId",
    "scheduled_relay_outbox": "job",
    "sqs_welcome_student": "batchItemFailures",
}


@pytest.fixture(scope="module")
def events_db(pg) -> Iterator[str]:
    """A database with the schema, the seed and students 1 and 2, which the events read and change."""
    url = pg.url.rsplit("/", 1)[0] + "/sample_events"
    conn = psycopg2.connect(pg.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS sample_events WITH (FORCE)")
        cur.execute("CREATE DATABASE sample_events")
    conn.close()
    apply_migrations(url)
    apply_seed(url)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO students (student_id, first_name, last_name)"
            " VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing') ON CONFLICT (student_id) DO NOTHING"
        )
        cur.execute("SELECT setval('students_student_id_seq', (SELECT max(student_id) FROM students))")
    conn.close()
    yield url
    conn = psycopg2.connect(pg.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE sample_events WITH (FORCE)")
    conn.close()


def test_every_shipped_event_has_its_expected_answer():
    assert sorted(EXPECTED) == EVENTS


@pytest.mark.parametrize("name", EVENTS)
def test_each_shipped_event_runs_and_gets_its_answer(events_db, name):
    out = subprocess.run(
        [sys.executable, "run_local.py", name],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": events_db},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.split("--- result\n", 1)[1])
    expected = EXPECTED[name]
    if isinstance(expected, int):
        assert result["statusCode"] == expected, result
    else:
        assert expected in result, result
