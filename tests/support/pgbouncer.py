"""PgBouncer in front of a local PostgreSQL (transaction mode unless told), for the tests and the benchmark.

Debian's `pgbouncer` package (`make test` and `make bench` install it when they can). Everything is
PgBouncer's default except what a run needs said: the pool mode, where to listen, how clients log in,
where to log, optionally the pool size, and the setting docs/limits.md recommends in front of a Lambda:
`query_wait_timeout` under the function's timeout, so a query queued for a server connection is refused
while the function can still answer (`query_wait_timeout=None` keeps PgBouncer's 120 s). So what passes
through it here passes through a stock transaction pooler set up as the docs say.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from local.embedded_pg import LOCAL_PASSWORD, EmbeddedPostgres, free_port

# PgBouncer refuses to run as root; as root it runs as the user the embedded PostgreSQL runs as.
_SYSTEM_USER = "pgserver"
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
# Seconds a query may wait for a server connection (docs/limits.md): under the default function's 10 s,
# with room to answer.
RECOMMENDED_QUERY_WAIT_TIMEOUT = 5


def pgbouncer_binary() -> str | None:
    """The pgbouncer executable, or None when it is not installed (Debian puts it in /usr/sbin)."""
    return shutil.which("pgbouncer", path=_SEARCH_PATH)


class PgBouncer:
    """One PgBouncer process pooling every database of `server` on 127.0.0.1:`port`."""

    def __init__(
        self,
        server: EmbeddedPostgres,
        workdir: Path | None = None,
        *,
        pool_size: int | None = None,
        pool_mode: str = "transaction",
        tls: tuple[Path, Path] | None = None,
        query_wait_timeout: int | None = RECOMMENDED_QUERY_WAIT_TIMEOUT,
    ) -> None:
        self.server = server
        # Without a folder of its own it gets a temporary one, removed again by stop().
        self._owns_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-")) if workdir is None else Path(workdir)
        self.pool_size = pool_size
        self.pool_mode = pool_mode
        self.query_wait_timeout = query_wait_timeout
        # (certificate, key): clients must speak TLS to PgBouncer (pgserver's PostgreSQL has no TLS of its own).
        self.tls = tls
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    def url(self, dbname: str = "postgres", user: str = "postgres", password: str = LOCAL_PASSWORD) -> str:
        """A libpq URL that reaches `dbname` through the pooler."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def _write_config(self, users: dict[str, str]) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "userlist.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in users.items()))
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "auth_type": "scram-sha-256",
            "auth_file": str(self.workdir / "userlist.txt"),
            "pool_mode": self.pool_mode,
            "admin_users": "postgres",
            "logfile": str(self.workdir / "pgbouncer.log"),
            "pidfile": str(self.workdir / "pgbouncer.pid"),
        }
        if self.pool_size is not None:
            settings["default_pool_size"] = str(self.pool_size)
        if self.query_wait_timeout is not None:
            settings["query_wait_timeout"] = str(self.query_wait_timeout)
        if self.tls is not None:
            cert, key = self.tls
            settings.update(client_tls_sslmode="require", client_tls_cert_file=str(cert), client_tls_key_file=str(key))
        ini = self.workdir / "pgbouncer.ini"
        ini.write_text(
            f"[databases]\n* = host=127.0.0.1 port={self.server.port}\n\n[pgbouncer]\n"
            + "".join(f"{name} = {value}\n" for name, value in settings.items())
        )
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_SYSTEM_USER)
            self.workdir.chmod(0o755)
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        return ini

    def start(self, users: dict[str, str] | None = None, timeout: float = 20) -> PgBouncer:
        """Start it (users: name -> password it accepts and logs in with) and wait until it accepts a login."""
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        ini = self._write_config(users or {"postgres": LOCAL_PASSWORD})
        kwargs = {"user": _SYSTEM_USER} if os.geteuid() == 0 else {}
        self._process = subprocess.Popen(
            [binary, str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, **kwargs
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url(), connect_timeout=2, sslmode="require" if self.tls else "prefer").close()
                return self
            except psycopg2.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    logged = self.log()[-2000:]
                    self.stop()
                    raise RuntimeError(f"pgbouncer did not start: {logged}") from None
                time.sleep(0.1)

    def admin(self, command: str) -> None:
        """Run a command on PgBouncer's admin console (RECONNECT, PAUSE, ...)."""
        conn = psycopg2.connect(self.url("pgbouncer"), sslmode="require" if self.tls else "prefer")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(command)
        finally:
            conn.close()

    def log(self) -> str:
        """What PgBouncer logged so far."""
        path = self.workdir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the process (SIGTERM closes every client and server connection); remove a temporary folder."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
