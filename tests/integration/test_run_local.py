"""`python run_local.py EVENT` runs every shipped event through the real handler and prints the result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted(p.stem for p in (ROOT / "events").glob("*.json"))


def run_local(pg, *args: str) -> subprocess.CompletedProcess:
    """`python run_local.py ARGS` against the test database, as a developer would run it."""
    return subprocess.run(
        [sys.executable, "run_local.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": pg.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", EVENTS)
def test_each_shipped_event_runs_and_prints_its_result(pg, name):
    out = run_local(pg, name)
    assert out.returncode == 0, out.stderr
    assert f"--- event events/{name}.json" in out.stdout
    result = json.loads(out.stdout.split("--- result\n", 1)[1])
    if "statusCode" in result:
        assert result["statusCode"] < 500
        assert result["statusCode"] != 404 or name.startswith("delete")
    else:
        assert "error" not in result or result["error"]["status"] < 500


def test_an_unknown_event_name_lists_the_known_ones(pg):
    out = run_local(pg, "no_such_event")
    assert out.returncode == 2
    assert "get_student" in out.stdout
