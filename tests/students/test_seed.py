"""db/seed.sql: the sample's demo rows, in the order written, and applying it again changes nothing."""

from __future__ import annotations

import psycopg2
import pytest

from local.database import SEED_FILE, apply_migrations, apply_seed

DEMO_LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov"]


def _state(url: str) -> tuple:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT last_value, is_called FROM students_student_id_seq")
            sequence = cur.fetchone()
            cur.execute("SELECT last_name FROM students ORDER BY student_id")
            return sequence, [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def seeded(empty_db) -> str:
    """A new database with the migrations and the seed applied once, as `make db-init` leaves it."""
    apply_migrations(empty_db)
    apply_seed(empty_db)
    return empty_db


def test_the_seed_applied_again_adds_no_rows_and_draws_no_ids(seeded):
    before = _state(seeded)
    apply_seed(seeded)
    apply_seed(seeded)
    assert _state(seeded) == before


def test_seed_rows_get_ids_in_the_order_they_are_written(seeded):
    if "Lovelace" not in SEED_FILE.read_text():
        pytest.skip("db/seed.sql does not hold the demo rows")
    assert _state(seeded)[1] == DEMO_LAST_NAMES
