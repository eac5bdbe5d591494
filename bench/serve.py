"""The local server under load, against its peers in the same run: `wrk` alternating between them.

Each server answers `GET /widgets/1` (bench/peers.py says what each does). After a warm-up of each,
the bench runs `wrk -t2 -c8 -d{seconds}s` (keep-alive) on one server after another, in rounds whose
order rotates, until every ratio of the round agrees with the others within the tolerance (at least
two rounds, at most `max_rounds`). `chalice local` is loaded both keep-alive and with `Connection:
close`; its better mode is the one compared. A key is the median of its per-round ratios; its noise
is half the spread of those ratios, relative to the median.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import peers
from bench.common import ROOT, SRC
from local.embedded_pg import EmbeddedPostgres, free_port
from local.workers import default_workers
from tests.support.process import stop_process, wait_until_answering

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
OPEN = "this server, AUTH=none"
RATIOS = {"serve_vs_chalice": "chalice", "serve_vs_bare": "bare", "serve_vs_0f2ef20": peers.REFERENCE_COMMIT}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second, p99 latency (ms) and errors (socket errors plus non-2xx answers) from `wrk --latency`."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    found = dict(re.findall(r"(connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = sum(int(n) for n in found.values()) + (int(non_2xx.group(1)) if non_2xx else 0)
    return {"rps": rps, "p99_ms": p99, "errors": errors, "read_errors": int(found.get("read", 0))}


def _ours(database_url: str, workers: int, auth: str = "cognito") -> peers.Peer:
    """`run_local.py serve --workers N --no-reload` on the bench's source, with the template's auth (signed in).

    With `auth="none"` (reported beside it, no key): every route public, as the reference at 0f2ef20 serves.
    """
    from local.tokens import issue_token

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOCAL_SRC_DIR": str(SRC),
        "STACK_AUTH": auth,
        "LOCAL_ACCESS_LOG": "1",  # on, as `make serve` has it; its lines go nowhere
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", str(workers), "--no-reload"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/widgets/1"
    if auth == "none":
        return peers.Peer(OPEN, "the same with `AUTH=none`: no token, every route public", url, process)
    token = issue_token("bench", ("staff",), ttl=3600)
    does = f"`make serve` ({workers} workers), signed in: a bearer token checked as a Cognito authorizer would"
    return peers.Peer("this server", does, url, process, (f"Authorization: Bearer {token}",))


@contextmanager
def running(server: EmbeddedPostgres, database_url: str, workers: int) -> Iterator[list[peers.Peer]]:
    """Every peer started and answering (those that cannot run carry why); all stopped afterwards."""
    started = [
        _ours(database_url, workers),
        _ours(database_url, workers, auth="none"),
        peers.start_reference(server, peers.REFERENCE_WORKERS),
        peers.start_bare(database_url, workers),
        peers.start_chalice(),
    ]
    try:
        for peer in started:
            if peer.process is None:
                continue
            try:
                headers = dict(h.split(": ", 1) for h in peer.headers)
                accept = _answers_200(headers)
                wait_until_answering(peer.process, peer.url, accept=accept, timeout=120)
            except RuntimeError as exc:
                peer.missing = f"did not start: {exc}"
        yield started
    finally:
        for peer in started:
            if peer.process is not None:
                stop_process(peer.process)


def _answers_200(headers: dict[str, str]) -> Any:
    import requests

    def accept(response: Any) -> bool:
        # A plain GET first finds the server up; a request with the headers then must answer 200.
        return requests.get(response.url, headers=headers, timeout=5).status_code == 200

    return accept


def _wrk(wrk: str, peer: peers.Peer, seconds: float, close: bool = False) -> dict[str, float]:
    headers = [*peer.headers, *(["Connection: close"] if close else [])]
    command = [wrk, "-t2", "-c8", f"-d{seconds:g}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, peer.url], check=True, capture_output=True, text=True).stdout
    figures = parse_wrk(out)
    closed = figures.pop("read_errors")
    if close:  # wrk counts each connection the server closes after its answer as a read error
        figures["errors"] -= closed
    return figures


def _spread(values: list[float]) -> float | None:
    """Half the range of `values`, relative to their median (None for one value: no spread to see)."""
    if len(values) < 2:
        return None
    middle = statistics.median(values)
    return (max(values) - min(values)) / 2 / middle if middle else 0.0


def measure(
    server: EmbeddedPostgres,
    database_url: str,
    *,
    workers: int | None = None,
    seconds: float = 8,
    warmup: float = 3,
    tolerance: float = 0.05,
    max_rounds: int = 4,
) -> dict[str, Any]:
    """serve_rps, serve_p99_ms and the three ratios, each per round, with the per-peer figures behind them.

    Ours and the bare floor run `workers` workers, by default what `make serve` starts on this machine.
    """
    if workers is None:
        workers = default_workers()
    wrk = shutil.which("wrk")
    keys = ("serve_rps", "serve_p99_ms", *RATIOS)
    if wrk is None:
        return dict.fromkeys(keys) | {"_note": "wrk not installed (make bench installs it)"}
    with running(server, database_url, workers) as started:
        live = [peer for peer in started if peer.missing is None]
        # (peer, mode): chalice twice, keep-alive and Connection: close.
        subjects = [(peer, False) for peer in live] + [(peer, True) for peer in live if peer.name == "chalice"]
        for peer, close in subjects:
            _wrk(wrk, peer, warmup, close)
        rounds: list[dict[str, dict[str, float]]] = []
        for index in range(max_rounds):
            turn = index % len(subjects)
            figures = {}
            for peer, close in subjects[turn:] + subjects[:turn]:
                figures[peer.name + (" close" if close else "")] = _wrk(wrk, peer, seconds, close)
            rounds.append(figures)
            ratios = _ratios(rounds)
            if len(rounds) >= 2 and all((_spread(v) or 0.0) <= tolerance for v in ratios.values()):
                break
    ratios = _ratios(rounds)
    ours = [r["this server"] for r in rounds]
    result: dict[str, Any] = {
        "serve_rps": round(statistics.median(r["rps"] for r in ours)),
        "serve_p99_ms": round(statistics.median(r["p99_ms"] for r in ours), 2),
        **{key: (round(statistics.median(ratios[key]), 2) if key in ratios else None) for key in RATIOS},
        "_noise": {key: _spread(values) for key, values in ratios.items()}
        | {"serve_rps": _spread([r["rps"] for r in ours])},
        "_rounds": rounds,
        "_peers": {peer.name: peer.missing or peer.does for peer in started},
        "_errors": sum(f["errors"] for r in rounds for f in r.values()),
    }
    return result


def _ratios(rounds: list[dict[str, dict[str, float]]]) -> dict[str, list[float]]:
    """Per round: our req/s over each peer's (chalice: its better mode)."""
    found: dict[str, list[float]] = {}
    for figures in rounds:
        ours = figures["this server"]["rps"]
        for key, name in RATIOS.items():
            theirs = [figures[n]["rps"] for n in (name, f"{name} close") if n in figures]
            if theirs:
                found.setdefault(key, []).append(ours / max(theirs))
    return found


def table(result: dict[str, Any]) -> str:
    """The side-by-side req/s table: each server per round, and what each does."""
    rounds = result.get("_rounds") or []
    if not rounds:
        return ""
    names = list(rounds[0])
    lines = ["| server | " + " | ".join(f"round {i + 1}" for i in range(len(rounds))) + " | what it does |"]
    lines.append("|---" * (len(rounds) + 2) + "|")
    does = result.get("_peers", {})
    for name in names:
        peer = name.removesuffix(" close")
        cells = [
            f"{r[name]['rps']:,.0f}" + (f" ({r[name]['errors']:,} errors)" if r[name]["errors"] else "") for r in rounds
        ]
        what = does.get(peer, "") + (" (`Connection: close`)" if name.endswith(" close") else "")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {what} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a manual run: python -m bench.serve
    from bench.common import bench_database, socket_url, write_src

    write_src()
    with bench_database() as pg:
        measured = measure(pg, socket_url(pg), seconds=float(os.environ.get("SECONDS", "8")))
    print(table(measured))
    print({k: v for k, v in measured.items() if not k.startswith("_")}, measured["_noise"], measured["_peers"])
    print(f"(from {ROOT})")
