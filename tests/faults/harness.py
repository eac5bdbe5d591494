"""The local server as a test controls it: uvicorn workers (one Lambda environment each), logging to a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import psycopg2

from local.embedded_pg import free_port
from tests.support.process import stop_process, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]


class LocalServer:
    """`run_local.py serve` with a chosen Lambda module, environment and worker count, logging to a file.

    uvicorn is started by module path rather than through run_local.py so the test can serve its own
    route module (tests.faults.fault_routes); the ASGI app and worker model are the same objects.
    """

    def __init__(self, env: dict[str, str], *, workers: int = 2, module: str = "lambda_function", log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.application_name = env.get("DB_APPLICATION_NAME", f"local-{self.port}")
        self._env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}",
            "LAMBDA_MODULE": module,
            "DB_APPLICATION_NAME": self.application_name,
            **env,
        }
        self._process: subprocess.Popen | None = None

    def start(self) -> LocalServer:
        """Start the workers and wait until each answers HTTP (a 404 needs no database)."""
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "tests.faults.asgi:app", "--host", "127.0.0.1"),
                    *("--port", str(self.port), "--workers", str(self.workers), "--http", "httptools"),
                    *("--lifespan", "on", "--log-level", "warning", "--no-access-log"),
                ],
                cwd=ROOT,
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_answering(self._process, f"{self.base}/__ready")
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}:\n{self.log.read_text(errors='replace')[-2000:]}") from None
        return self

    def stop(self) -> None:
        """Stop gracefully (workers close their sockets), or kill after 20 s."""
        if self._process is not None:
            stop_process(self._process)

    def alive(self) -> bool:
        """Whether the server process is still running (no crash)."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The server's process: with one worker, the worker itself; with more, uvicorn's supervisor."""
        assert self._process is not None, "not started"
        return self._process.pid

    def worker_pids(self) -> set[int]:
        """The worker processes the supervisor runs now, one per execution environment (read from /proc)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        workers = set()
        for child in children:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue  # gone since the list was read
            if b"spawn_main" in command:  # not multiprocessing's resource tracker, the other child
                workers.add(int(child))
        return workers

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def app_connections(admin: psycopg2.extensions.connection, application_name: str) -> int:
    """Server sessions opened by the given application (one server's workers)."""
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,))
        return cur.fetchone()[0]


def terminate_sessions(admin: psycopg2.extensions.connection, application_name: str) -> int:
    """`pg_terminate_backend` every session of the application; returns how many were ended."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        )
        ended = cur.fetchone()[0]
    wait_for(lambda: app_connections(admin, application_name) == 0, 5)
    return ended


def wait_for(condition: object, seconds: float) -> bool:
    """Poll `condition()` until true or `seconds` pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():  # type: ignore[operator]
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
