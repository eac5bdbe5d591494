"""The local server under load: `wrk` against GET /widgets/{id}, every worker on the same database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from bench.common import ROOT, SRC
from local.embedded_pg import free_port
from tests.support.process import stop_process, wait_until_answering

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second, p99 latency (ms) and errors (socket errors plus non-2xx answers) from `wrk --latency`."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p99_ms": p99, "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0)}


def measure(database_url: str, workers: int, seconds: int) -> dict[str, object]:
    """serve_rps and serve_p99_ms for `wrk -t2 -c8 -d{seconds}s` on `run_local.py serve --workers N`."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"serve_rps": None, "serve_p99_ms": None, "_note": "wrk not installed (make bench installs it)"}
    port = free_port()
    # auth=none: this measures serving; the function's own check is in the warm figures, and checking a
    # local token (RS256) is the local server's cost only (API Gateway does it deployed).
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOCAL_ACCESS_LOG": "0",
        "STACK_AUTH": "none",
        "LOCAL_SRC_DIR": str(SRC),
    }
    command = [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", str(workers)]
    # Without the reload watcher when the server has one: the bench measures serving, not watching files.
    if (
        "--no-reload"
        in subprocess.run([*command[:2], "--help"], check=False, cwd=ROOT, capture_output=True, text=True).stdout
    ):
        command.append("--no-reload")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/widgets/1"
    try:
        # One request per worker would not guarantee each is warm; a short burst does.
        wait_until_answering(server, url, accept=lambda response: response.status_code == 200)
        subprocess.run([wrk, "-t2", "-c8", "-d2s", url], check=True, capture_output=True)
        out = subprocess.run(
            [wrk, "-t2", "-c8", f"-d{seconds}s", "--latency", url], check=True, capture_output=True, text=True
        ).stdout
    finally:
        stop_process(server)
    result = parse_wrk(out)
    return {"serve_rps": result["rps"], "serve_p99_ms": result["p99_ms"], "_errors": result["errors"]}
