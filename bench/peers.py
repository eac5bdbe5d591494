"""The servers `make bench` drives beside the local server, each serving `GET /widgets/{id}` its own way.

- `0f2ef20`: this project's local server at commit 0f2ef20 (before the slowdown the bench now guards
  against), its code taken from git, serving the same route written for that commit's API, against
  the same PostgreSQL (a database of its own there, with the fixture's table and rows);
- `bare`: bench/bare_app.py, the floor: the same HTTP stack doing only the SELECT and `json.dumps`;
- `chalice`: `chalice local`, AWS Chalice's local server (its own virtualenv under .venv/), a route
  returning a fixed dict with no database, as the other framework a user would try locally.

Each start function returns a running process and the URL to load, or a reason it cannot run.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from bench.common import ROOT, SRC
from local.embedded_pg import EmbeddedPostgres, free_port
from tests.support import app

REFERENCE_COMMIT = "0f2ef20"
REFERENCE_WORKERS = 4  # what `make serve` started at that commit, whatever the machine
REFERENCE_DIR = ROOT / ".local" / "bench-reference"
CHALICE_VENV = ROOT / ".venv" / "bench-chalice"
CHALICE_REQUIREMENTS = Path(__file__).with_name("requirements-chalice.txt")
CHALICE_APP = ROOT / ".local" / "bench-chalice"

# The route at the reference commit, written with its API (flat src/ modules: routing, db_utils, errors).
_REFERENCE_HANDLER = '''"""The bench's route for the local server at {commit}: GET /widgets/{{widgetId}}, in its API."""

from db_utils import transaction
from errors import NotFound
from routing import Router

router = Router()
GET_WIDGET = {query!r}


@router.rest("GET", "/widgets/{{widgetId}}")
@transaction(read_only=True)
def get_widget(conn, widget_id: int) -> dict:
    """One widget by id."""
    with conn.cursor() as cur:
        cur.execute(GET_WIDGET, {{"widget_id": widget_id}})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"widget {{widget_id}} not found")
    return row


def handler(event, context):
    return router.handle(event, context)
'''
_CHALICE_APP = '''"""A Chalice route returning a fixed widget: no database, the least `chalice local` can do for it."""

from chalice import Chalice

app = Chalice(app_name="bench")
WIDGET = {widget!r}


@app.route("/widgets/{{widget_id}}")
def get_widget(widget_id):
    return WIDGET
'''


@dataclass
class Peer:
    """A server the bench loads: its process, the URL, the headers wrk sends, and what it does."""

    name: str
    does: str
    url: str
    process: subprocess.Popen | None = None
    headers: tuple[str, ...] = ()
    missing: str | None = None


def _query() -> str:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import fixture_widgets

    return fixture_widgets.GET_WIDGET


def _reference_tree() -> Path | str:
    """The reference commit's files under .local/ (from `git archive`), or why they cannot be had."""
    marker = REFERENCE_DIR / ".commit"
    if marker.is_file() and marker.read_text() == REFERENCE_COMMIT:
        return REFERENCE_DIR
    archive = subprocess.run(
        ["git", "archive", "--format=tar", REFERENCE_COMMIT], cwd=ROOT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        return f"commit {REFERENCE_COMMIT} is not in this clone's history ({archive.stderr.decode().strip()[:120]})"
    shutil.rmtree(REFERENCE_DIR, ignore_errors=True)
    REFERENCE_DIR.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(REFERENCE_DIR, filter="data")
    marker.write_text(REFERENCE_COMMIT)
    return REFERENCE_DIR


def _reference_database(server: EmbeddedPostgres) -> str:
    """A database of the reference's own in the bench server, with the fixture's table and rows (plain SQL)."""
    admin = psycopg2.connect(server.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS bench_reference")
        cur.execute("CREATE DATABASE bench_reference")
    admin.close()
    url = server.socket_url.replace("/postgres?", "/bench_reference?")
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for migration in sorted(app.MIGRATIONS_DIR.glob("*.sql")):
            cur.execute(migration.read_text())
        cur.execute(app.SEED_FILE.read_text())
    conn.close()
    return url


def start_reference(server: EmbeddedPostgres, workers: int) -> Peer:
    """The local server at REFERENCE_COMMIT, `--workers N --no-reload`, serving GET /widgets/{id}."""
    does = (
        f"`make serve` at {REFERENCE_COMMIT} ({workers} workers, its default): the same route in that commit's API,"
        " no authorizer (it had none)"
    )
    tree = _reference_tree()
    if isinstance(tree, str):
        return Peer(REFERENCE_COMMIT, does, "", missing=tree)
    src = tree / ".bench-src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(tree / "src", src, ignore=shutil.ignore_patterns("__pycache__", "schema.graphql"))
    (src / "lambda_function.py").write_text(_REFERENCE_HANDLER.format(commit=REFERENCE_COMMIT, query=_query()))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _reference_database(server),
        "LOCAL_SRC_DIR": str(src),
        "LOCAL_ACCESS_LOG": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "run_local.py", "serve", "--port", str(port), "--workers", str(workers), "--no-reload"]
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Peer(REFERENCE_COMMIT, does, f"http://127.0.0.1:{port}/widgets/1", process)


def start_bare(database_url: str, workers: int) -> Peer:
    """bench/bare_app.py on the bench database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "BENCH_BARE_QUERY": _query()}
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    does = f"a bare ASGI app on uvicorn + httptools, {workers} workers: the same SELECT on a cached connection"
    return Peer("bare", does, f"http://127.0.0.1:{port}/widgets/1", process)


def chalice_script() -> Path | str:
    """`chalice` in its own virtualenv (.venv/bench-chalice), installed on first use; or why it cannot be."""
    script = CHALICE_VENV / "bin" / "chalice"
    stamp = CHALICE_VENV / ".installed"
    wanted = CHALICE_REQUIREMENTS.read_text()
    if script.exists() and stamp.exists() and stamp.read_text() == wanted:
        return script
    venv = [sys.executable, "-m", "venv", "--clear", str(CHALICE_VENV)]
    made = subprocess.run(venv, capture_output=True, check=False)
    pip = [str(CHALICE_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = made.returncode == 0 and subprocess.run(
        [*pip, "-r", str(CHALICE_REQUIREMENTS)], capture_output=True, check=False
    )
    if not installed or installed.returncode != 0:
        return "chalice could not be installed (no package index?)"
    stamp.write_text(wanted)
    return script


def start_chalice() -> Peer:
    """`chalice local` serving a fixed widget (the fixture's first row, as this API writes it)."""
    does = "`chalice local` (one process, its only mode): a route returning a fixed dict, no database"
    script = chalice_script()
    if isinstance(script, str):
        return Peer("chalice", does, "", missing=script)
    shutil.rmtree(CHALICE_APP, ignore_errors=True)
    (CHALICE_APP / ".chalice").mkdir(parents=True)
    (CHALICE_APP / ".chalice" / "config.json").write_text('{"version": "2.0", "app_name": "bench"}\n')
    (CHALICE_APP / "app.py").write_text(_CHALICE_APP.format(widget=app.FIRST_ROW))
    port = free_port()
    command = [str(script), "local", "--port", str(port), "--no-autoreload"]
    process = subprocess.Popen(command, cwd=CHALICE_APP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Peer("chalice", does, f"http://127.0.0.1:{port}/widgets/1", process)
