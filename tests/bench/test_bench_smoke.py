"""The benchmark suite runs end to end (quick mode) and writes every key of its table; figures are not judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report, run
from bench.run import KEYS
from tests.support.pgbouncer import pgbouncer_binary

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_quick_bench_writes_every_key_its_noise_the_profile_and_the_peers(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(out.read_text())
    results = measured["results"]
    assert tuple(results) == KEYS
    assert tuple(measured["noise"]) == KEYS
    assert results["round_trips_read"] >= 1 and results["round_trips_write"] >= 1
    assert isinstance(results["boto3_loaded_without_secret"], bool)
    for key in ("warm_read_ratio", "warm_write_ratio", "lesson_ratio", "overhead_vs_powertools"):
        assert results[key] > 0, key
    assert results["list_page_ratio_1m_vs_1k"] > 0
    # Quick mode skips `make build`, the cold starts and the synths (network, minutes); the full run fills them in.
    for key in ("package_zip_bytes", "package_zip_bytes_arm64", "synth_ratio_300_vs_3", "lambda_permissions_300"):
        assert results[key] is None, key
    for key in ("resources_300", "cold_start_secret_ratio", "cold_start_boto3_ratio", "cold_start_ratio"):
        assert results[key] is None, key
    if pgbouncer_binary() is not None:
        assert results["round_trips_read_pgbouncer"] == results["round_trips_read"]
        assert results["round_trips_write_pgbouncer"] == results["round_trips_write"]
    # The profile covers the stages of the request path, for a read and a write.
    for request in ("GET /widgets/1", "POST /widgets"):
        stages = measured["profile"]["us"][request]
        assert {"gate: bearer token checked", "event built", "row to JSON", "request, in-process"} <= set(stages)
    if results["serve_rps"] is not None:  # wrk is installed: every peer that could start was loaded
        assert "this server" in measured["serve"][0]
        assert set(measured["peers"]) == {"this server", "this server, AUTH=none", "0f2ef20", "bare", "chalice"}
    assert "| `warm_read_ratio` |" in done.stdout
    assert "| gate: bearer token checked |" in done.stdout


def test_a_key_is_called_worse_only_beyond_the_noise_of_either_run():
    baseline = {"results": {"warm_read_ratio": 1.2, "serve_vs_chalice": 3.0, "round_trips_write": 3}, "noise": {}}
    baseline["noise"] = {"warm_read_ratio": 0.02, "serve_vs_chalice": 0.05}

    def verdicts(now: dict, noise: dict) -> dict:
        return {c["key"]: c["worse"] for c in run.changes({"results": now, "noise": noise}, baseline)}

    within = verdicts({"warm_read_ratio": 1.22, "serve_vs_chalice": 2.9, "round_trips_write": 3}, {})
    assert within == {"warm_read_ratio": False, "serve_vs_chalice": False, "round_trips_write": False}
    beyond = verdicts({"warm_read_ratio": 1.4, "serve_vs_chalice": 2.5, "round_trips_write": 4}, {})
    assert beyond == {"warm_read_ratio": True, "serve_vs_chalice": True, "round_trips_write": True}
    better = verdicts({"warm_read_ratio": 1.0, "serve_vs_chalice": 4.0, "round_trips_write": 2}, {})
    assert not any(better.values())
    noisy_now = verdicts(
        {"warm_read_ratio": 1.3, "serve_vs_chalice": 3.0, "round_trips_write": 3}, {"warm_read_ratio": 0.1}
    )
    assert noisy_now["warm_read_ratio"] is False


def test_the_accepted_baseline_holds_every_key_and_the_page_shows_its_profile():
    baseline = report.load()
    assert set(baseline["results"]) == set(KEYS)
    assert baseline.get("profile"), "accept a run of `make bench` (it carries the profile)"
    page = report.page(baseline)
    assert "## One request, stage by stage" in page and "| **request, in-process** |" in page


def test_the_results_hold_exactly_the_keys_of_the_table():
    expected = {
        "warm_read_ratio", "warm_write_ratio", "lesson_ratio", "overhead_vs_powertools", "warm_floor_ratio",
        "warm_floor_write_ratio", "round_trips_read", "round_trips_write", "boto3_loaded_without_secret",
        "package_zip_bytes", "serve_rps", "serve_p99_ms", "serve_vs_chalice", "serve_vs_0f2ef20", "serve_vs_bare",
        "synth_ratio_300_vs_3", "lambda_permissions_300", "resources_300", "list_page_ratio_1m_vs_1k",
        # through PgBouncer, cold starts by how the secret is read, and the arm64 package
        "round_trips_read_pgbouncer", "round_trips_write_pgbouncer", "cold_start_secret_ratio",
        "cold_start_boto3_ratio", "cold_start_ratio", "package_zip_bytes_arm64",
    }  # fmt: skip
    assert set(KEYS) == expected
