"""`make bench`: every benchmark as a table, compared with the accepted baseline, written to bench/results.json.

    python -m bench.run            the full suite (about ten minutes: 1M rows, servers under wrk, cold starts, synths)
    python -m bench.run --quick    a few iterations of each, no build/synth (the smoke test's mode)

Every timing key is a ratio against a baseline measured in the same run, on the same database (an
embedded PostgreSQL of the bench's own, over its unix socket), repeated until its runs agree: the
warm ratios until two runs are within 4 %, the servers under load in rounds until their ratios are
within 5 % (bench/warm.py, bench/serve.py). Each key carries its noise, and the table says how each
moved since bench/baseline.json, the last accepted run: a key worse by more than its noise says so.
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

from bench import cold, coldstart, infra, pages, roundtrips, serve, stages, warm
from bench.common import ROOT, SRC, bench_database, one_cpu, socket_url, write_src
from infra.build import _python312
from tests.support.pgbouncer import pgbouncer_binary

RESULTS = ROOT / "bench" / "results.json"
BASELINE = ROOT / "bench" / "baseline.json"

LOWER, HIGHER, EXACT = "lower", "higher", "exact"
# key -> (target as text, check, which way is better); a check of None: reported, no target.
TARGETS: dict[str, tuple[str, Any, str]] = {
    "warm_read_ratio": ("<= 1.3", lambda v: v <= 1.3, LOWER),
    "warm_write_ratio": ("<= 1.3", lambda v: v <= 1.3, LOWER),
    "lesson_ratio": ("<= 0.6", lambda v: v <= 0.6, LOWER),
    "overhead_vs_powertools": ("<= 0.4", lambda v: v <= 0.4, LOWER),
    "warm_floor_ratio": ("(reported)", None, LOWER),
    "warm_floor_write_ratio": ("(reported)", None, LOWER),
    "round_trips_read": ("1", lambda v: v == 1, LOWER),
    "round_trips_write": ("<= 3", lambda v: v <= 3, LOWER),
    "round_trips_read_pgbouncer": ("1", lambda v: v == 1, LOWER),
    "round_trips_write_pgbouncer": ("<= 3", lambda v: v <= 3, LOWER),
    "cold_start_secret_ratio": ("<= 1.15", lambda v: v <= 1.15, LOWER),
    "cold_start_boto3_ratio": ("(reported)", None, LOWER),
    "cold_start_ratio": ("<= 1.5", lambda v: v <= 1.5, LOWER),
    "boto3_loaded_without_secret": ("false", lambda v: v is False, EXACT),
    "package_zip_bytes": ("<= 5.5 MB", lambda v: v <= 5.5e6, LOWER),
    "package_zip_bytes_arm64": ("(reported)", None, LOWER),
    "serve_vs_chalice": (">= 3.0", lambda v: v >= 3.0, HIGHER),
    "serve_vs_0f2ef20": (">= 1.0", lambda v: v >= 1.0, HIGHER),
    "serve_vs_bare": ("(reported)", None, HIGHER),
    "serve_rps": ("(reported)", None, HIGHER),
    "serve_p99_ms": ("(reported)", None, LOWER),
    "synth_ratio_300_vs_3": ("<= 2.0", lambda v: v <= 2.0, LOWER),
    "lambda_permissions_300": ("<= 2", lambda v: v <= 2, LOWER),
    "resources_300": ("<= 500", lambda v: v <= 500, LOWER),
    "list_page_ratio_1m_vs_1k": ("<= 1.5", lambda v: v <= 1.5, LOWER),
}
KEYS = tuple(TARGETS)
# What a key not repeated by the bench is taken to move by between runs (its noise is not measured).
ASSUMED_NOISE = 0.05
# Keys counted or sized, not timed: any change is real.
_COUNTED = {
    "round_trips_read", "round_trips_write", "round_trips_read_pgbouncer", "round_trips_write_pgbouncer",
    "boto3_loaded_without_secret", "package_zip_bytes", "package_zip_bytes_arm64", "lambda_permissions_300",
    "resources_300",
}  # fmt: skip


def _step(name: str, notes: list[str]) -> float:
    print(f"... {name}", file=sys.stderr, flush=True)
    notes.append(name)
    return time.perf_counter()


def run(quick: bool) -> dict[str, Any]:
    """Measure every key: `results`, their `noise`, `context` lines, the request `profile` and the `serve` rounds."""
    results: dict[str, Any] = dict.fromkeys(KEYS)
    noise: dict[str, float] = dict.fromkeys(_COUNTED, 0.0)
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

    with bench_database() as server:
        url = socket_url(server)
        _step("boto3 probe", steps)
        results["boto3_loaded_without_secret"] = cold.boto3_loaded(url)

        _step("warm handler against raw psycopg2 and Powertools' resolver, until two runs agree", steps)
        with one_cpu(server):  # a round trip is a hand-off, not a cross-core wake-up (bench/common.py)
            w = warm.measure_until_stable(url, iterations, max_runs=2 if quick else 5)
            _step("one request, stage by stage (in-process)", steps)
            profile = stages.profile(url, requests=200 if quick else 2000, rounds=2 if quick else 5)
        results.update({k: w[k] for k in warm.KEYS})
        noise.update(w["_noise"])
        us = w["_us"]
        context.append(
            f"warm medians (µs, {w['_runs']} runs): handler GET {us['handler_read']:.1f}, raw SELECT "
            f"{us['raw_select']:.1f}, lesson {us['lesson_select']:.1f}, Powertools' resolver GET "
            f"{us['powertools_read']:.1f}, by hand (no framework) {us['floor_read']:.1f}; handler POST "
            f"{us['handler_write']:.1f}, raw BEGIN+INSERT+COMMIT {us['raw_insert']:.1f}, by hand "
            f"{us['floor_write']:.1f}"
        )

        _step("local server and its peers under wrk, alternated", steps)
        # Each server with the workers its `make serve` starts by default (local/workers.py; 4 at 0f2ef20).
        s = serve.measure(
            server, url, seconds=1 if quick else 8, warmup=1 if quick else 3, max_rounds=1 if quick else 4
        )
        results.update({k: s[k] for k in ("serve_rps", "serve_p99_ms", *serve.RATIOS)})
        noise.update(s.get("_noise", {}))
        for name, what in s.get("_peers", {}).items():
            context.append(f"server `{name}`: {what}")
        context.append(f"wrk errors (socket + non-2xx): {s.get('_errors', s.get('_note'))}")

        small, large = (1_000, 20_000) if quick else (1_000, 1_000_000)
        _step(f"first page with {large:,} rows against {small:,}", steps)
        pg = pages.measure(server, small, large, 100 if quick else 2000)
        results["list_page_ratio_1m_vs_1k"] = pg["list_page_ratio_1m_vs_1k"]
        context.append(
            f"first page (µs): {small:,} rows {pg['_us']['small']:.0f}, {large:,} rows {pg['_us']['large']:.0f}"
        )

    failed: list[str] = []
    if quick:
        context.append("quick mode: no make build, no cold starts and no synth (their keys are null)")
    else:
        for name, step in (
            ("make build (arm64, x86_64)", lambda: _packages(results, steps)),
            ("cold starts", lambda: _cold_starts(results, noise, context, steps)),
            ("synth scale", lambda: _synth(results, context, steps)),
        ):
            try:
                step()
            except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
                # The keys measured so far are kept; this step's stay null and the bench exits non-zero.
                detail = getattr(exc, "stderr", None) or str(exc)
                detail = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
                failed.append(name)
                context.append(f"{name} failed: {detail.strip()[-300:]}")
    return {
        "results": results,
        "noise": {key: noise.get(key) for key in KEYS},
        "context": context,
        "profile": profile,
        "serve": s.get("_rounds", []),
        "peers": s.get("_peers", {}),
        "failed": failed,
    }


def _packages(results: dict[str, Any], steps: list[str]) -> None:
    _step("make build ARCH=arm64", steps)
    results["package_zip_bytes_arm64"] = infra.package_zip_bytes("arm64")
    _step("make build", steps)
    results["package_zip_bytes"] = infra.package_zip_bytes()


def _synth(results: dict[str, Any], context: list[str], steps: list[str]) -> None:
    _step("synth: 300 routes against the bench app", steps)
    sy = infra.synth_scale(3)
    results.update({k: sy[k] for k in ("synth_ratio_300_vs_3", "lambda_permissions_300", "resources_300")})
    context.append(
        f"synth medians (s): bench app ({sy['_sample_routes']} REST routes) {sy['_s']['sample']}, "
        f"300 routes {sy['_s']['large']}; OpenAPI operations in the 300-route API: {sy['_operations_300']}"
    )


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


def _cold_starts(results: dict[str, Any], noise: dict[str, Any], context: list[str], steps: list[str]) -> None:
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
    keys = ("cold_start_secret_ratio", "cold_start_boto3_ratio", "cold_start_ratio")
    results.update({k: cs[k] for k in keys})
    noise.update(cs["_noise"])
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


def table(results: dict[str, Any], noise: dict[str, Any] | None = None) -> str:
    """The results as a Markdown table (docs/benchmarks.md is generated from the accepted baseline)."""
    rows = ["| key | measured | noise | target | met |", "|---|---|---|---|---|"]
    for key, (target, check, _) in TARGETS.items():
        value = results.get(key)
        met = "-" if value is None or check is None else ("yes" if check(value) else "no")
        rows.append(f"| `{key}` | {_shown(value)} | {_noise_shown(key, (noise or {}).get(key))} | {target} | {met} |")
    return "\n".join(rows)


def _noise_shown(key: str, value: float | None) -> str:
    if key in _COUNTED:
        return "exact"
    # Relative, as a fraction of the key (±0.04: four hundredths either way).
    return "-" if value is None else f"±{value:.3f}"


def changes(run: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Each key's change since the baseline, and whether it is worse by more than the noise of either run."""
    found = []
    for key, (_, _, better) in TARGETS.items():
        now, then = run["results"].get(key), baseline["results"].get(key)
        if now is None or then is None:
            continue
        if better == EXACT or isinstance(now, bool) or isinstance(then, bool):
            worse, change = now != then, None
        else:
            change = (now - then) / then if then else (0.0 if now == then else float("inf"))
            margin = (
                0.0
                if key in _COUNTED
                else max(
                    (run.get("noise") or {}).get(key) or ASSUMED_NOISE,
                    (baseline.get("noise") or {}).get(key) or ASSUMED_NOISE,
                )
            )
            worse = change > margin if better == LOWER else change < -margin
        found.append({"key": key, "then": then, "now": now, "change": change, "worse": worse})
    return found


def changes_table(found: list[dict[str, Any]]) -> str:
    """The changes as a Markdown table."""
    rows = ["| key | baseline | now | change | |", "|---|---|---|---|---|"]
    for item in found:
        change = "-" if item["change"] is None else f"{item['change']:+.0%}"
        verdict = "**worse beyond its noise**" if item["worse"] else ""
        rows.append(f"| `{item['key']}` | {_shown(item['then'])} | {_shown(item['now'])} | {change} | {verdict} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few iterations, no build or synth")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    measured = run(args.quick)
    measured["machine"] = f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"
    measured["quick"] = args.quick
    args.out.write_text(json.dumps(measured, indent=2, ensure_ascii=False) + "\n")
    print(table(measured["results"], measured["noise"]))
    print()
    print(serve.table({"_rounds": measured["serve"], "_peers": measured["peers"]}))
    print()
    print(stages.table(measured["profile"]))
    print()
    for line in measured["context"]:
        print(f"- {line}")
    if BASELINE.is_file():
        baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
        found = changes(measured, baseline)
        worse = [item["key"] for item in found if item["worse"]]
        print(f"\nSince the baseline accepted {baseline.get('accepted')} ({BASELINE.relative_to(ROOT)}):\n")
        print(changes_table(found))
        print(f"\n{len(worse)} key(s) worse beyond their noise" + (f": {', '.join(worse)}" if worse else ""))
    print(f"- {measured['machine']}, bench took {time.perf_counter() - started:.0f} s; results in {args.out}")
    if measured["failed"]:
        print(f"- failed: {', '.join(measured['failed'])} (their keys are null; see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
