"""Cold start: fresh-process import time of the Lambda module against its third-party imports alone."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import SRC

# What lambda_function imports from outside the standard library at import time (psycopg2, Powertools'
# Logger); the event handler and fastjsonschema load on first use only, so they are not in either side.
BASELINE = "import psycopg2, psycopg2.extensions, psycopg2.sql; from aws_lambda_powertools import Logger"
SUBJECT = f"import sys; sys.path.insert(0, {str(SRC)!r}); import lambda_function"

_PROBE = f"""
import json, sys
sys.path.insert(0, {str(SRC)!r})
import lambda_function
from bench.warm import get_event
status = lambda_function.handler(get_event(1), None)["statusCode"]
print(json.dumps({{"status": status, "boto3": "boto3" in sys.modules, "botocore": "botocore" in sys.modules}}))
"""


def _wall(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def import_ratio(runs: int) -> dict[str, float]:
    """cold_import_ratio: median wall time of a process importing lambda_function / one importing its dependencies."""
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        # Both sides read bytecode from the same fresh cache (Lambda zips ship without it; neither side is favoured).
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for code in (BASELINE, SUBJECT):
            _wall(code, env)
        subject, baseline = [], []
        for _ in range(runs):
            baseline.append(_wall(BASELINE, env))
            subject.append(_wall(SUBJECT, env))
    return {
        "cold_import_ratio": statistics.median(subject) / statistics.median(baseline),
        "_ms": {"lambda_function": statistics.median(subject) * 1e3, "dependencies": statistics.median(baseline) * 1e3},
    }


def boto3_loaded(database_url: str) -> bool:
    """boto3_loaded_without_secret: whether a fresh process has boto3 after import and one request with DATABASE_URL."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DB_")}
    env["DATABASE_URL"] = database_url
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, env=env, capture_output=True, text=True)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    if probe["status"] != 200:
        raise RuntimeError(f"probe request answered {probe['status']}")
    # Powertools imports the botocore package itself (1 ms, for its user-agent hook); the key is about boto3.
    return bool(probe["boto3"])
