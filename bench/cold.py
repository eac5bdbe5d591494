"""Whether a fresh process of the Lambda module has boto3 after a request with DATABASE_URL (it should not).

The cold start itself is timed the way Lambda starts a function, under its runtime client (bench/coldstart.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import SRC

_PROBE = f"""
import json, sys
sys.path.insert(0, {str(SRC)!r})
import lambda_function
from bench.warm import get_event
status = lambda_function.handler(get_event(1), None)["statusCode"]
print(json.dumps({{"status": status, "boto3": "boto3" in sys.modules, "botocore": "botocore" in sys.modules}}))
"""


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
