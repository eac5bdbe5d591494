"""db/seed.sql: the sample's demo rows, in the order written, and applying it again changes nothing."""

from __future__ import annotations

from local.database import apply_seed


def _state(conn) -> tuple:
    with conn.cursor() as cur:
        cur.execute("SELECT last_value FROM students_student_id_seq")
        (last_value,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM students")
        (rows,) = cur.fetchone()
    return last_value, rows


def test_the_seed_applied_again_adds_no_rows_and_draws_no_ids(pg, admin):
    before = _state(admin)
    apply_seed(pg.url)
    apply_seed(pg.url)
    assert _state(admin) == before


def test_seed_rows_get_ids_in_the_order_they_are_written(admin):
    with admin.cursor() as cur:
        cur.execute("SELECT last_name FROM students WHERE student_uuid::text LIKE '6f1c1a8e-%' ORDER BY student_id")
        assert [r[0] for r in cur.fetchall()][:2] == ["Lovelace", "Turing"]
