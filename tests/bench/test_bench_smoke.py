"""The benchmark suite runs end to end (quick mode) and writes every key of its table; figures are not judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import KEYS
from tests.support.pgbouncer import pgbouncer_binary

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_quick_bench_writes_every_key_with_a_plausible_value(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    assert tuple(results) == KEYS
    assert results["round_trips_read"] >= 1 and results["round_trips_write"] >= 1
    assert isinstance(results["boto3_loaded_without_secret"], bool)
    for key in ("warm_read_ratio", "warm_write_ratio", "lesson_ratio", "cold_import_ratio", "list_page_ratio_1m_vs_1k"):
        assert results[key] > 0, key
    # Quick mode skips `make build`, the cold starts and the synths (network, minutes); the full run fills them in.
    for key in ("package_zip_bytes", "package_zip_bytes_arm64", "synth_ratio_300_vs_3", "lambda_permissions_300"):
        assert results[key] is None, key
    for key in ("resources_300", "cold_start_secret_ratio", "cold_start_boto3_ratio", "cold_start_ratio"):
        assert results[key] is None, key
    if pgbouncer_binary() is not None:
        assert results["round_trips_read_pgbouncer"] == results["round_trips_read"]
        assert results["round_trips_write_pgbouncer"] == results["round_trips_write"]
    assert "| `warm_read_ratio` |" in done.stdout


def test_the_results_hold_exactly_the_keys_of_the_table():
    expected = {
        "warm_read_ratio", "warm_write_ratio", "lesson_ratio", "round_trips_read", "round_trips_write",
        "cold_import_ratio", "boto3_loaded_without_secret", "package_zip_bytes", "serve_rps", "serve_p99_ms",
        "synth_ratio_300_vs_3", "lambda_permissions_300", "resources_300", "list_page_ratio_1m_vs_1k",
        # through PgBouncer, cold starts by how the secret is read, and the arm64 package
        "round_trips_read_pgbouncer", "round_trips_write_pgbouncer", "cold_start_secret_ratio",
        "cold_start_boto3_ratio", "cold_start_ratio", "package_zip_bytes_arm64",
    }  # fmt: skip
    assert set(KEYS) == expected
