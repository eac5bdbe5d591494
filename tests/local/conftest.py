"""Fixtures for the local loop's tests: an empty database of its own inside the shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import pytest


@pytest.fixture
def empty_db(pg) -> Iterator[str]:
    """URL of a new, empty database (cheaper than a new server); dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(pg.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield pg.url.rsplit("/", 1)[0] + f"/{name}"
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
