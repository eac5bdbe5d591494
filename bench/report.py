"""docs/benchmarks.md, the one page that holds the benchmark's figures, from bench/baseline.json.

    python -m bench.report                      write docs/benchmarks.md (`make bench-report`)
    python -m bench.report --check              exit 1 when the page differs from the baseline
    python -m bench.report --accept FILE --note TEXT
                                                make FILE (a `make bench` results.json) the baseline

`bench/baseline.json` is the last accepted `make bench` run: its results, where and on what it ran,
and the context lines worth keeping. Every other page links here instead of quoting a figure, so no
two pages can disagree.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path
from typing import Any

from bench import serve, stages
from bench.run import KEYS, table

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "baseline.json"
PAGE = ROOT / "docs" / "benchmarks.md"

# What each key measures and against what: the method, which changes only with bench/*.py.
MEASURES: dict[str, tuple[str, str]] = {
    "warm_read_ratio": (
        "`handler(REST v1 GET /widgets/1)` in-process, warm, signed in (median of 5,000; client and backends on"
        " one CPU; runs repeated until two agree)",
        "raw psycopg2 autocommit `SELECT` of the same row, tuple cursor",
    ),
    "warm_write_ratio": (
        "`handler(POST /widgets)`",
        "raw psycopg2 `BEGIN` + the same `INSERT ... RETURNING` + `COMMIT`",
    ),
    "lesson_ratio": (
        "the same GET",
        'the same query in the "cached connection + commit + `reset()`" pattern (BEGIN, SELECT, COMMIT, DISCARD ALL)',
    ),
    "overhead_vs_powertools": (
        "what the handler adds to the raw `SELECT` (same runs)",
        "what Powertools' `APIGatewayRestResolver` adds to it, serving the same event with the same SELECT",
    ),
    "warm_floor_ratio": (
        "a handler written by hand for the same answer and nothing else (no routing, validation, error mapping,"
        " request ids or deadline): how low `warm_read_ratio` can go in Python on this driver",
        "the raw `SELECT` above",
    ),
    "warm_floor_write_ratio": (
        "a POST written by hand for the same answer (the group, the body's required and known fields, the"
        " INSERT, COMMIT, 201 with its Location): how low `warm_write_ratio` can go",
        "the raw `BEGIN` + `INSERT` + `COMMIT` above",
    ),
    "round_trips_read": (
        "statements the server logs (`log_statement=all`, by `application_name`) for one warm request",
        "-",
    ),
    "round_trips_write": ("the same for a write", "-"),
    "round_trips_read_pgbouncer": ("`round_trips_read` through PgBouncer in transaction mode", "-"),
    "round_trips_write_pgbouncer": ("`round_trips_write` through PgBouncer in transaction mode", "-"),
    "cold_start_secret_ratio": (
        "first answer of a fresh Python 3.12 process running the built package under AWS's runtime interface "
        "client, over TLS, the secret read through a stand-in for the extension's HTTP API (median of 15)",
        "the same with `DATABASE_URL`",
    ),
    "cold_start_boto3_ratio": ("the same, the secret read with boto3 from moto (what the extension saves)", "the same"),
    "cold_start_ratio": (
        "the `DATABASE_URL` cold start above",
        "a bare one-file function importing psycopg2 that runs the same query over a new TLS connection, under the"
        " same runtime client",
    ),
    "boto3_loaded_without_secret": ('`"boto3" in sys.modules` after one request with `DATABASE_URL`', "-"),
    "package_zip_bytes": ("`.build/lambda.zip` from `make build ARCH=x86_64`", "-"),
    "package_zip_bytes_arm64": ("the same with `ARCH=arm64`", "-"),
    "serve_vs_chalice": (
        "req/s of `wrk -t2 -c8 -d8s` (keep-alive) on `GET /widgets/1`, `run_local.py serve --workers 4`, signed in",
        "`chalice local` serving a fixed dict, its better mode (keep-alive or `Connection: close`), same rounds",
    ),
    "serve_vs_0f2ef20": ("the same req/s", "the local server at commit 0f2ef20 serving the same route, same rounds"),
    "serve_vs_bare": ("the same req/s", "a bare ASGI app on the same HTTP stack doing the same SELECT (the floor)"),
    "serve_rps": ("the local server's req/s above (median of the rounds)", "-"),
    "serve_p99_ms": ("the same runs' 99th percentile latency, in ms", "-"),
    "synth_ratio_300_vs_3": (
        "`cdk synth --quiet` of a copy of the bench app with 300 REST routes (median of 3)",
        "the same on a copy of the bench app",
    ),
    "lambda_permissions_300": ("`AWS::Lambda::Permission` resources in the 300-route template", "-"),
    "resources_300": ("all resources in the 300-route template", "-"),
    "list_page_ratio_1m_vs_1k": ("`handler(GET /widgets?limit=50)` on a table of 1,000,000 rows", "the same on 1,000"),
}


def load(path: Path = BASELINE) -> dict[str, Any]:
    """The accepted run: `results` (every key of bench/run.py), `accepted`, `source`, `machine`, `context`."""
    baseline = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in KEYS if key not in baseline["results"]]
    if missing:
        raise ValueError(f"{path}: results lack {', '.join(missing)}")
    return baseline


def page(baseline: dict[str, Any]) -> str:
    """The whole Markdown page."""
    measures = "\n".join(f"| `{key}` | {MEASURES[key][0]} | {MEASURES[key][1]} |" for key in KEYS)
    context = "".join(f"- {line}\n" for line in baseline.get("context", []))
    servers = serve.table({"_rounds": baseline.get("serve") or [], "_peers": baseline.get("peers") or {}})
    profile = stages.table(baseline["profile"]) if baseline.get("profile") else "(not in this baseline)"
    return (
        "# Benchmarks\n\n"
        "<!-- Generated by `make bench-report` (bench/report.py) from bench/baseline.json: do not edit. -->\n\n"
        "The figures of the last accepted `make bench` run, and the only page that states them: the rest of\n"
        "the documentation links here. [Performance](performance.md) says what makes them what they are.\n\n"
        f"- Accepted: {baseline['accepted']}\n"
        f"- Source: {baseline['source']}\n"
        f"- Machine: {baseline['machine']}\n\n"
        f"{table(baseline['results'], baseline.get('noise'))}\n\n"
        f"{context}\n"
        "## The local server beside its peers\n\n"
        "Requests per second of each server in each round of that run (`wrk -t2 -c8`, keep-alive unless said),\n"
        "the servers alternated; the `serve_vs_*` keys are the medians of the per-round ratios.\n\n"
        f"{servers or '(not in this baseline)'}\n\n"
        "## One request, stage by stage\n\n"
        "A signed-in `GET /widgets/1` and `POST /widgets` through the local server's app in one process\n"
        "(`python -m bench.stages`; HTTP parsing excluded), each stage timed where it runs, without the\n"
        "stages it calls. The database's own time is in the SQL row.\n\n"
        f"{profile}\n\n"
        "## What each key measures\n\n"
        "Each ratio is measured against its baseline in the same run, on the same embedded PostgreSQL. The\n"
        "noise of a timed key is half the spread of its repeated runs (the serve keys: of their rounds; the\n"
        "cold starts: of the first and second half of their samples); `make bench` calls a key worse than\n"
        "the baseline only when it moved the wrong way by more than the noise of either run.\n\n"
        "| key | subject | baseline |\n|---|---|---|\n"
        f"{measures}\n\n"
        "## A new baseline\n\n"
        "`make bench` writes `bench/results.json` (about ten minutes; run it on a quiet machine). When its\n"
        "figures are the ones to keep, `make bench-accept NOTE='why'` makes it the baseline and redraws\n"
        "this page; commit both.\n"
    )


def accept(results_file: Path, note: str, path: Path = BASELINE) -> dict[str, Any]:
    """A baseline from a results.json `make bench` wrote, with where and when it ran."""
    measured = json.loads(results_file.read_text(encoding="utf-8"))
    baseline = {
        "accepted": datetime.date.today().isoformat(),
        "source": note,
        "machine": measured.get("machine")
        or f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}",
        "results": {key: measured["results"].get(key) for key in KEYS},
        "noise": {key: (measured.get("noise") or {}).get(key) for key in KEYS},
        "context": measured.get("context", []),
        "serve": measured.get("serve", []),
        "peers": measured.get("peers", {}),
        "profile": measured.get("profile"),
    }
    path.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return baseline


def main(argv: list[str] | None = None) -> int:
    """Command line of `make bench-report` and `make bench-accept`."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/benchmarks.md is stale")
    parser.add_argument("--accept", type=Path, help="a results.json to make the baseline")
    parser.add_argument("--note", default="", help="with --accept: why this run is the one to keep")
    args = parser.parse_args(argv)
    if args.accept:
        if not args.note.strip():
            parser.error("--accept needs --note: say which run this is and why it is the one to keep")
        accept(args.accept, args.note)
    text = page(load())
    if args.check:
        stale = not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text
        print(f"{PAGE.relative_to(ROOT)} is {'stale: run make bench-report' if stale else 'current'}")
        return 1 if stale else 0
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
