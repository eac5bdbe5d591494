"""`make bench`: every benchmark of issue 5, printed as a table and written to bench/results.json.

    python -m bench.run            the full suite (several minutes: 1M rows, 10 s of wrk, 6 synths)
    python -m bench.run --quick    a few iterations of each, no build/synth (the smoke test's mode)

Each ratio is measured against its baseline in the same run, on the same database: an embedded
PostgreSQL of the bench's own, reached over its unix socket, as close to the Lambda's one round
trip as this machine allows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import cold, coldstart, infra, pages, roundtrips, serve, warm
from bench.common import ROOT, SRC, bench_database, one_cpu, socket_url, write_src
from infra.build import _python312
from tests.support.pgbouncer import pgbouncer_binary

RESULTS = ROOT / "bench" / "results.json"

# key -> (target as text, check); a check of None: reported, no target.
TARGETS: dict[str, tuple[str, Any]] = {
    "warm_read_ratio": ("<= 1.5", lambda v: v <= 1.5),
    "warm_write_ratio": ("<= 1.3", lambda v: v <= 1.3),
    "lesson_ratio": ("<= 0.6", lambda v: v <= 0.6),
    "round_trips_read": ("1", lambda v: v == 1),
    "round_trips_write": ("<= 3", lambda v: v <= 3),
    "round_trips_read_pgbouncer": ("1", lambda v: v == 1),
    "round_trips_write_pgbouncer": ("<= 3", lambda v: v <= 3),
    "cold_import_ratio": ("<= 1.2", lambda v: v <= 1.2),
    "cold_start_secret_ratio": ("<= 1.15", lambda v: v <= 1.15),
    "cold_start_boto3_ratio": ("(reported)", None),
    "cold_start_ratio": ("<= 1.6", lambda v: v <= 1.6),
    "boto3_loaded_without_secret": ("false", lambda v: v is False),
    "package_zip_bytes": ("<= 5.5 MB", lambda v: v <= 5.5e6),
    "package_zip_bytes_arm64": ("(reported)", None),
    "serve_rps": (">= 2000 (aim)", lambda v: v >= 2000),
    "serve_p99_ms": ("<= 15 (aim)", lambda v: v <= 15),
    "synth_ratio_300_vs_3": ("<= 2.0", lambda v: v <= 2.0),
    "lambda_permissions_300": ("<= 2", lambda v: v <= 2),
    "resources_300": ("<= 500", lambda v: v <= 500),
    "list_page_ratio_1m_vs_1k": ("<= 1.5", lambda v: v <= 1.5),
}
KEYS = tuple(TARGETS)


def _step(name: str, notes: list[str]) -> float:
    print(f"... {name}", file=sys.stderr, flush=True)
    notes.append(name)
    return time.perf_counter()


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Measure every key; returns the results and lines of context (baseline times, statements, errors)."""
    results: dict[str, Any] = dict.fromkeys(KEYS)
    # The bench reconnects and restarts on purpose; the function's metric lines (lambdakit.metrics, only
    # ever written on such events, never on a warm request) would interleave with the table.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    context: list[str] = []
    steps: list[str] = []
    iterations = 200 if quick else 5000
    write_src()

    _step("round trips (log_statement=all)", steps)
    rt = roundtrips.measure()
    results.update({k: rt[k] for k in ("round_trips_read", "round_trips_write")})
    context.append(f"statements: GET {rt['_statements']['read']}  POST {rt['_statements']['write']}")
    _pooled_round_trips(results, context, steps)

    _step("cold import", steps)
    imp = cold.import_ratio(3 if quick else 30)
    results["cold_import_ratio"] = imp["cold_import_ratio"]
    context.append(
        f"cold import: lambda_function {imp['_ms']['lambda_function']:.0f} ms, "
        f"psycopg2 + Powertools Logger {imp['_ms']['dependencies']:.0f} ms (whole fresh process, medians)"
    )

    with bench_database() as server:
        url = socket_url(server)
        _step("boto3 probe", steps)
        results["boto3_loaded_without_secret"] = cold.boto3_loaded(url)

        _step("warm handler against raw psycopg2", steps)
        with one_cpu(server):  # a round trip is a hand-off, not a cross-core wake-up (bench/common.py)
            w = warm.measure(url, iterations)
        results.update({k: w[k] for k in ("warm_read_ratio", "warm_write_ratio", "lesson_ratio")})
        us = w["_us"]
        context.append(
            "warm medians (µs): "
            f"handler GET {us['handler_read']}, raw SELECT {us['raw_select']}, lesson {us['lesson_select']}; "
            f"handler POST {us['handler_write']}, raw BEGIN+INSERT+COMMIT {us['raw_insert']}"
        )

        _step("local server under wrk", steps)
        # 4 workers: what `make serve` starts by default (WORKERS=4).
        s = serve.measure(url, workers=4, seconds=2 if quick else 10)
        results.update({k: s[k] for k in ("serve_rps", "serve_p99_ms")})
        context.append(f"wrk errors (socket + non-2xx): {s.get('_errors', s.get('_note'))}")

        small, large = (1_000, 20_000) if quick else (1_000, 1_000_000)
        _step(f"first page with {large:,} rows against {small:,}", steps)
        pg = pages.measure(server, small, large, 100 if quick else 2000)
        results["list_page_ratio_1m_vs_1k"] = pg["list_page_ratio_1m_vs_1k"]
        context.append(
            f"first page (µs): {small:,} rows {pg['_us']['small']:.0f}, {large:,} rows {pg['_us']['large']:.0f}"
        )

    if quick:
        context.append("quick mode: no make build, no cold starts and no synth (their keys are null)")
    else:
        _step("make build ARCH=arm64", steps)
        results["package_zip_bytes_arm64"] = infra.package_zip_bytes("arm64")
        _step("make build", steps)
        results["package_zip_bytes"] = infra.package_zip_bytes()
        _cold_starts(results, context, steps)
        _step("synth: 300 routes against the bench app", steps)
        sy = infra.synth_scale(3)
        results.update({k: sy[k] for k in ("synth_ratio_300_vs_3", "lambda_permissions_300", "resources_300")})
        context.append(
            f"synth medians (s): bench app ({sy['_sample_routes']} REST routes) {sy['_s']['sample']}, "
            f"300 routes {sy['_s']['large']}; OpenAPI operations in the 300-route API: {sy['_operations_300']}"
        )
    return results, context


def _pooled_round_trips(results: dict[str, Any], context: list[str], steps: list[str]) -> None:
    """The round-trip keys again, through PgBouncer in transaction mode; null with a reason when it is missing."""
    if pgbouncer_binary() is None:
        context.append("pgbouncer is not installed: the *_pgbouncer keys are null (make bench installs it as root)")
        return
    _step("round trips through PgBouncer (transaction mode)", steps)
    rt = roundtrips.measure(through_pgbouncer=True)
    results["round_trips_read_pgbouncer"] = rt["round_trips_read"]
    results["round_trips_write_pgbouncer"] = rt["round_trips_write"]
    context.append(f"through PgBouncer: GET {rt['_statements']['read']}  POST {rt['_statements']['write']}")


def _cold_starts(results: dict[str, Any], context: list[str], steps: list[str]) -> None:
    """The cold-start keys, from an x86_64 package of the bench app; null with a reason when impossible."""
    python = _python312()
    if python is None or pgbouncer_binary() is None:
        context.append("cold starts need Python 3.12 and pgbouncer (TLS in front of the database): keys null")
        return
    _step("build the bench app's package (x86_64)", steps)
    out = ROOT / ".local" / "bench-build"
    command = [sys.executable, "-m", "infra.build", "--arch", "x86_64", "--src", str(SRC), "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    _step("cold starts under awslambdaric: extension, boto3 (moto), DATABASE_URL, bare function", steps)
    cs = coldstart.measure(python, out / "package", 15)
    results.update({k: cs[k] for k in ("cold_start_secret_ratio", "cold_start_boto3_ratio", "cold_start_ratio")})
    ms = cs["_ms"]
    context.append(
        "cold starts, first answer (ms, medians of 15): "
        f"secret via extension {ms['extension']:.0f}, via boto3 {ms['boto3']:.0f}, DATABASE_URL {ms['url']:.0f}, "
        f"bare function {ms['bare_function']:.0f}, bare script without the runtime client {ms['bare_script']:.0f}"
    )


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (docs/benchmarks.md is generated from the accepted baseline)."""
    rows = ["| key | measured | target | met |", "|---|---|---|---|"]
    for key, (target, check) in TARGETS.items():
        value = results[key]
        met = "-" if value is None or check is None else ("yes" if check(value) else "no")
        rows.append(f"| `{key}` | {_shown(value)} | {target} | {met} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few iterations, no build or synth")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results, context = run(args.quick)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print()
    for line in context:
        print(f"- {line}")
    print(
        f"- {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"bench took {time.perf_counter() - started:.0f} s; results in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
