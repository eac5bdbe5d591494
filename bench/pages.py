"""First-page cost of GET /widgets?limit=50 on a large table against a small one (keyset pagination)."""

from __future__ import annotations

import statistics

import psycopg2

from bench.common import lambda_module, time_calls
from bench.warm import list_event
from local.database import apply_migrations
from local.embedded_pg import EmbeddedPostgres
from tests.support import app

_FILL = """
INSERT INTO fixture_widgets (name, maker, status, active)
SELECT 'Name' || n, 'Maker' || n, 'listed', true FROM generate_series(1, %s) AS n
"""


def _database(server: EmbeddedPostgres, name: str, rows: int) -> str:
    """A database `name` in the bench server holding `rows` widgets; returns its unix-socket URL."""
    admin = psycopg2.connect(server.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = server.url.rsplit("/", 1)[0] + f"/{name}"
    apply_migrations(url, app.MIGRATIONS_DIR)
    # The migrations gave the role the runtime's 10 s statement timeout; filling a million rows may take longer.
    conn = psycopg2.connect(url, options="-c statement_timeout=0")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(_FILL, (rows,))
        cur.execute("VACUUM ANALYZE fixture_widgets")
    conn.close()
    return server.socket_url.replace("/postgres?", f"/{name}?")


def measure(server: EmbeddedPostgres, small: int, large: int, iterations: int, rounds: int = 10) -> dict[str, object]:
    """list_page_ratio_1m_vs_1k: median handler time of the first page, `large` rows / `small` rows."""
    urls = {"small": _database(server, "pages_small", small), "large": _database(server, "pages_large", large)}
    event = list_event(50)
    samples: dict[str, list[float]] = {"small": [], "large": []}
    per_round = max(1, iterations // rounds)
    for _ in range(rounds):
        for size, url in urls.items():
            # One cached connection per database: switching is a cold start, kept out of the timing.
            module = lambda_module(url)
            result = module.handler(event, None)
            if result["statusCode"] != 200:
                raise RuntimeError(f"list answered {result['statusCode']}: {result['body']}")
            time_calls(lambda m=module: m.handler(event, None), 5)
            samples[size] += time_calls(lambda m=module: m.handler(event, None), per_round)
    small_us, large_us = (statistics.median(samples[k]) * 1e6 for k in ("small", "large"))
    return {"list_page_ratio_1m_vs_1k": large_us / small_us, "_us": {"small": small_us, "large": large_us}}
