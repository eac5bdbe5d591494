"""Reload for `run_local.py serve`: an edit in src/ restarts the workers; a broken src/ leaves the old ones serving.

uvicorn's own `--reload` runs a single worker, and this server's point is N workers that each behave like
a Lambda execution environment, so the reloader is ours and small: watchfiles (well kept, native,
debounced) watches src/; this process holds the listening socket and each generation of workers is a
child (`python -m local.server --fd N`) that inherits it, so requests made during a restart wait in the
socket's backlog instead of being refused. Before a restart a fresh interpreter imports the handler
and loads the schema: when that fails the error is printed and the previous workers go on serving.
The check and the new workers read the same copy of src/, taken at the change, so an edit saved while
the workers start cannot reach them unchecked: it is the next change. The first workers start only
once the watcher is armed, so an edit made as soon as the server answers is never missed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from local.server import ROOT, SRC, unincluded_lines

WATCHED_SUFFIXES = (".py", ".graphql", ".json", ".sql")
# How often the watch loop wakes without changes (to see whether the workers died); the first wake-up
# is also when the workers start, so it bounds how long the watcher's arming delays the first answer.
_IDLE_WAKEUP_MS = 250
_CHECK = """
import sys
from pathlib import Path
src = Path(sys.argv[1])
sys.path.insert(0, str(src))
import lambda_function
routes = lambda_function.router.routes
if (src / "schema.graphql").exists():
    from local.graphql import GraphqlEndpoint
    GraphqlEndpoint(src / "schema.graphql", lambda event: None, routes.graphql)
"""


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_source(src: Path = SRC) -> str | None:
    """None when src/ imports and its schema loads in a fresh interpreter; else the error as Python tells it."""
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, str(src)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    # Drop the frames of the check itself: the developer's file and line come right after them.
    start = next((i for i, line in enumerate(lines) if str(src) in line and "File " in line), 0)
    return "\n".join(lines[start:])


def _watched(_change: object, path: str) -> bool:
    return path.endswith(WATCHED_SUFFIXES) and "__pycache__" not in path


class Reloader:
    """Keeps a pool of workers serving the current src/ on one listening socket."""

    def __init__(self, host: str, port: int, workers: int, src: Path = SRC) -> None:
        self.host, self.port, self.workers, self.src = host, port, workers, src
        self.child: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.stop = threading.Event()
        self.serving: Path | None = None  # the copy of src/ the current workers run

    def _start(self, source: Path) -> None:
        if self.sock is None:
            # Bound but not listening: the first workers listen when ready, so until then a client is
            # refused (not left hanging), as with plain uvicorn; after that it stays listening.
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((self.host, self.port))
            self.sock.set_inheritable(True)
        fd = self.sock.fileno()
        self.child = subprocess.Popen(
            [sys.executable, "-m", "local.server", "--fd", str(fd), "--workers", str(self.workers)],
            cwd=ROOT,
            env={**os.environ, "LOCAL_SRC_DIR": str(source)},
            pass_fds=(fd,),
            # A group of its own: the generation's workers can be ended with it (and Ctrl-C reaches this
            # process only, which stops them in order).
            process_group=0,
        )

    def _stop_child(self) -> None:
        if self.child is None:
            return
        if self.child.poll() is None:
            self.child.terminate()  # uvicorn lets requests in flight finish
            try:
                self.child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
        # Killing the supervisor would leave its workers serving the old code on the shared socket: end
        # whatever is left of the generation.
        try:
            os.killpg(self.child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.child = None

    def _restart(self, reason: str, migrations_changed: bool = False) -> None:
        if migrations_changed and not self._migrate():
            return
        copy = _copy_of(self.src)
        error = check_source(copy)
        if error:
            _remove_copy(copy)
            still = "still serving the previous version" if self.child else "waiting for a fix"
            # The developer's own paths, not the copy's.
            _log(f"reload: src/ has an error, {still}:\n" + _indent(error.replace(str(copy), str(self.src))))
            return
        self._stop_child()
        self._start(copy)
        if self.serving is not None:
            _remove_copy(self.serving)
        self.serving = copy
        _log(f"reload: {reason}")

    def _migrate(self) -> bool:
        """Apply a new migration before the code that needs it; on failure the previous workers go on serving."""
        from local.database import apply_migrations, load_migrator

        url = os.environ.get("DATABASE_URL", "")
        try:
            applied = apply_migrations(url, self.src / "migrations")
        except load_migrator().MigrationFailed as exc:
            still = "still serving the previous version" if self.child else "waiting for a fix"
            _log(f"reload: {exc.message}; {still}")
            return False
        if applied:
            _log(f"reload: applied {', '.join(applied)}")
        return True

    def run(self) -> int:
        """Serve until Ctrl-C or SIGTERM, restarting the workers after each good change."""
        import watchfiles

        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        armed = False
        try:
            for changes in watchfiles.watch(
                self.src,
                watch_filter=_watched,
                stop_event=self.stop,
                yield_on_timeout=True,
                rust_timeout=_IDLE_WAKEUP_MS,
                raise_interrupt=False,
            ):
                if not armed:
                    # The generator watches src/ before it first yields: from here on every edit is seen, so
                    # the workers start now, with the code as it is (edits before this moment included).
                    armed = True
                    self._restart(f"workers started; watching {self.src} for changes")
                    continue
                if self.child is not None and self.child.poll() is not None:
                    _log(f"reload: the workers exited (status {self.child.returncode}); waiting for a change in src/")
                    self.child = None
                if changes:
                    names = sorted({_relative(Path(path), self.src) for _, path in changes})
                    migrations = any(name.startswith("migrations/") and name.endswith(".sql") for name in names)
                    self._restart(f"{', '.join(names)} changed; workers restarted with the new code", migrations)
                    for line in unincluded_lines(self.src):
                        _log(f"reload: warning: {line}")
        finally:
            self._stop_child()
            if self.serving is not None:
                _remove_copy(self.serving)
            if self.sock is not None:
                self.sock.close()
        return 0


def _copy_of(src: Path) -> Path:
    """A copy of `src` in a new temporary folder, under the same name (the workers import from it)."""
    copy = Path(tempfile.mkdtemp(prefix="serve-")) / src.name
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _remove_copy(copy: Path) -> None:
    shutil.rmtree(copy.parent, ignore_errors=True)


def _relative(path: Path, src: Path) -> str:
    try:
        return str(path.relative_to(src))
    except ValueError:
        return str(path)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
