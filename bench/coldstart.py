"""Cold starts of the built package, run as Lambda runs it: Python 3.12, its runtime client, no bytecode writes.

Each sample is a fresh process started the way Lambda's Python runtime starts one (`python -m
awslambdaric lambda_function.handler` in the package folder, read-only in effect), timed from process
start until its first answer reaches a local stand-in for the Runtime API (bench/runtime_api.py). The
request is REST `GET /widgets/1` to the fixture app, which connects over TLS to a PostgreSQL with a self-signed
certificate made here.

- cold_start_secret_ratio: the secret read through the Parameters and Secrets extension (a stand-in
  for its HTTP API) / the same with DATABASE_URL;
- cold_start_boto3_ratio (reported): the secret read with boto3 from moto / the same with DATABASE_URL,
  what the extension saves;
- cold_start_ratio: the DATABASE_URL cold start / the same for a bare function: one file that imports
  psycopg2 (the package's) and whose handler runs the same query over a new TLS connection, run the
  same way (so both sides pay for the interpreter and the runtime client; the difference is the
  template). A bare script without the runtime client is timed too and reported beside it.

TLS is served by PgBouncer in front of the embedded PostgreSQL (see tls_database), so `make bench`
needs Debian's pgbouncer as the pooler tests do.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import ROOT, SRC, bench_database
from bench.runtime_api import RuntimeApi
from bench.warm import get_event
from tests.support.pgbouncer import PgBouncer

RUNTIME_DIR = ROOT / ".local" / "bench-lambda-runtime"
# What Lambda's Python runtime provides beside the function's package: its runtime interface client and boto3.
RUNTIME_PACKAGES = ("awslambdaric==4.2.2",)
_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
_TOKEN = "bench-session-token"  # noqa: S105 - the stand-in extension's expected header, not a credential


def lambda_runtime_dir() -> Path:
    """A folder with awslambdaric and the runtime's boto3 (same version as this venv's), installed once."""
    marker = RUNTIME_DIR / ".installed"
    wanted = "\n".join([*RUNTIME_PACKAGES, f"boto3=={metadata.version('boto3')}"])
    if marker.is_file() and marker.read_text() == wanted:
        return RUNTIME_DIR
    shutil.rmtree(RUNTIME_DIR, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--python-version", "3.12", "--target", str(RUNTIME_DIR), *wanted.split("\n")]
    subprocess.run(command, check=True, capture_output=True, text=True)
    marker.write_text(wanted)
    return RUNTIME_DIR


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, readable by the server (PostgreSQL insists the key is 0600)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("pgserver")  # the embedded server's user when run as root
        for path in (cert_path, key_path):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return cert_path, key_path


@contextmanager
def tls_database() -> Iterator[str]:
    """A bench PostgreSQL behind TLS; yields a TCP URL that requires it.

    pgserver's PostgreSQL is built without OpenSSL, so PgBouncer (session mode: one server session per
    client, as a direct connection has) terminates TLS in front of it. Every variant pays the same hop.
    """
    certs = Path(tempfile.mkdtemp(prefix="bench-tls-", dir="/tmp"))
    certs.chmod(0o755)
    try:
        tls = _self_signed(certs)
        with bench_database() as server:
            bouncer = PgBouncer(server, certs / "pgbouncer", pool_mode="session", tls=tls).start()
            try:
                yield f"{bouncer.url()}?sslmode=require"
            finally:
                bouncer.stop()
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def _lambda_environment(task: Path, path: list[Path], handler: str, api: RuntimeApi, variant: dict[str, str]) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda: nothing gets cached there
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": handler,
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": _TOKEN,
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "DB_SSLMODE": "require",
    }
    env.update(variant)
    return env


def _cold_start(
    python: str, task: Path, path: list[Path], variant: dict[str, str], handler: str = "lambda_function.handler"
) -> float:
    """Seconds from process start to the first answer of a fresh environment running `handler` from `task`."""
    api = RuntimeApi(get_event(1), _ARN)
    env = _lambda_environment(task, path, handler, api, variant)
    command = [python, "-s", "-m", "awslambdaric", handler]
    try:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=task, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        answered = api.answered.wait(30)
        process.kill()
        _, stderr = process.communicate(timeout=10)
    finally:
        api.close()
    if not answered or api.error or not api.answer or api.answer.get("statusCode") != 200:
        detail = stderr.decode(errors="replace")[-1500:]
        raise RuntimeError(f"cold start answered {api.answer or api.error!r}: {detail}")
    return api.answered_at - started


_BARE_SCRIPT = """
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute(sys.argv[2], {"widget_id": 1})
assert cur.fetchone() is not None
sys.stdout.write("done\\n")
sys.stdout.flush()
"""
# The same as a Lambda function: what a cold start costs with nothing but the driver and the query.
_BARE_FUNCTION = """
import os, psycopg2

QUERY = {query!r}


def handler(event, context):
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    cur = conn.cursor()
    cur.execute(QUERY, {{"widget_id": 1}})
    return {{"statusCode": 200 if cur.fetchone() else 404, "body": "{{}}"}}
"""


def _bare_script(python: str, package: Path, url: str, query: str) -> float:
    """Seconds from process start to the row, for a script that only imports psycopg2 and queries."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(package), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen([python, "-s", "-c", _BARE_SCRIPT, url, query], env=env, stdout=subprocess.PIPE)
    line = process.stdout.readline() if process.stdout else b""
    elapsed = time.perf_counter() - started
    process.wait(timeout=10)
    if line.strip() != b"done":
        raise RuntimeError("the bare script did not answer")
    return elapsed


@contextmanager
def _secret_sources(url: str) -> Iterator[dict[str, dict[str, str]]]:
    """The three ways a cold start finds its credentials: DATABASE_URL, the extension, boto3 (moto)."""
    from urllib.parse import urlsplit

    from moto.server import ThreadedMotoServer

    from tests.support.secrets_extension import FakeSecretsExtension

    parts = urlsplit(url)
    secret = json.dumps(
        {"username": parts.username, "password": parts.password, "host": parts.hostname, "port": parts.port}
    )
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server would log every request
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        endpoint = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
        import boto3

        client = boto3.client(
            "secretsmanager", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )  # fmt: skip
        arn = client.create_secret(Name="bench/db", SecretString=secret)["ARN"]
        with FakeSecretsExtension({arn: secret}, _TOKEN) as extension:
            yield {
                "url": {"DATABASE_URL": url},
                "extension": {"DB_SECRET_ARN": arn, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port)},
                "boto3": {"DB_SECRET_ARN": arn, "AWS_ENDPOINT_URL": endpoint},
            }
    finally:
        moto.stop()


def measure(python: str, package: Path, runs: int) -> dict[str, Any]:
    """The three ratios (medians of `runs` interleaved cold starts each) and the medians behind them, in ms."""
    runtime = lambda_runtime_dir()
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import fixture_widgets as sql  # the route's own query: the bare function sends the same

    bare = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    (bare / "bare_function.py").write_text(_BARE_FUNCTION.format(query=sql.GET_WIDGET))
    path, bare_path = [package, runtime], [bare, package, runtime]  # the bare function takes psycopg2 from the package
    try:
        with tls_database() as url, _secret_sources(url) as variants:
            samples: dict[str, list[float]] = {name: [] for name in (*variants, "bare_function", "bare_script")}
            for variant in variants.values():  # one unmeasured start each: the role's defaults get stored once
                _cold_start(python, package, path, variant)
            subjects = {name: functools.partial(_cold_start, python, package, path, v) for name, v in variants.items()}
            subjects["bare_function"] = functools.partial(
                _cold_start, python, bare, bare_path, {"DATABASE_URL": url}, handler="bare_function.handler"
            )
            subjects["bare_script"] = functools.partial(_bare_script, python, package, url, sql.GET_WIDGET)
            names = list(subjects)
            for round_ in range(runs):
                # Each round starts with another subject, so no side always runs first (or after the same one).
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    samples[name].append(subjects[name]())
    finally:
        shutil.rmtree(bare, ignore_errors=True)
    ms = {name: statistics.median(values) * 1e3 for name, values in samples.items()}
    ratios = _ratios(ms)
    # Noise: the same ratios from the first and the second half of the rounds, half their difference.
    halves = [
        _ratios({name: statistics.median(values[part]) for name, values in samples.items()})
        for part in (slice(0, runs // 2), slice(runs // 2, None))
    ]
    noise = {key: round(abs(halves[0][key] - halves[1][key]) / 2 / value, 3) for key, value in ratios.items()}
    return {**ratios, "_ms": ms, "_noise": noise}


def _ratios(ms: dict[str, float]) -> dict[str, float]:
    return {
        "cold_start_secret_ratio": ms["extension"] / ms["url"],
        "cold_start_boto3_ratio": ms["boto3"] / ms["url"],
        "cold_start_ratio": ms["url"] / ms["bare_function"],
    }
