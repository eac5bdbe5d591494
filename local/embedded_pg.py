"""A real PostgreSQL from the `pgserver` wheel, that a developer or a test can start, stop and restart.

pgserver ships the server binaries; its own launcher only offers a unix socket and no stop/start
control, which the fault tests need, so this class drives initdb and pg_ctl itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pgserver looks up a runtime dir at import and warns when XDG_RUNTIME_DIR is unset; we never use it.
    warnings.simplefilter("ignore")
    from pgserver import utils as pg_utils
    from pgserver._commands import POSTGRES_BIN_PATH

# PostgreSQL refuses to run as root; as root the binaries run as this user (the one pgserver uses).
_SYSTEM_USER = "pgserver"
_MAX_SOCKET_PATH = 100
# The superuser's password over TCP. The server listens on 127.0.0.1 only; this is a local
# development database, never a deployed one.
LOCAL_PASSWORD = "postgres"  # noqa: S105 - loopback-only development database


class PortInUse(RuntimeError):
    """Something else listens on the port the server would take (often another project's database)."""


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedPostgres:
    """One PostgreSQL cluster in `datadir`, listening on 127.0.0.1:`port` and a unix socket in `datadir`."""

    def __init__(self, datadir: Path, port: int, *, settings: dict[str, str] | None = None) -> None:
        self.datadir = Path(datadir).resolve()
        self.port = port
        self.settings = settings or {}
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """TCP URL with the password (TCP asks for it, as a deployed database does)."""
        return f"postgresql://postgres:{LOCAL_PASSWORD}@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str | None:
        """Unix-socket URL (fastest, no password), or None when the path is too long for a socket."""
        if not self._socket_dir():
            return None
        return f"postgresql://postgres@/postgres?host={self.datadir}&port={self.port}"

    def _socket_dir(self) -> str:
        return str(self.datadir) if len(str(self.datadir)) + 20 < _MAX_SOCKET_PATH else ""

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {"user": _SYSTEM_USER} if self._as_root else {}
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), *args],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            **kwargs,
        )

    def init(self) -> None:
        """Create the cluster once: unix socket without password, TCP with one."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            entry = pg_utils.ensure_user_exists(_SYSTEM_USER)
            pg_utils.ensure_prefix_permissions(self.datadir)
            # The binaries sit in .venv, which may be under a folder only root can enter (mktemp -d is 0700).
            pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
            pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
            pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.datadir.chmod(0o700)
        # The password file must sit where the server user can read it, and go once initdb has read it.
        password_file = self.datadir.parent / f".{self.datadir.name}.pwfile"
        password_file.write_text(LOCAL_PASSWORD + "\n")
        if self._as_root:
            os.chown(password_file, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections; PortInUse when its port is taken."""
        if port_in_use(self.port):
            raise PortInUse(f"port {self.port} is taken by another server: the database in {self.datadir} cannot start")
        options = [f"-h 127.0.0.1 -p {self.port} -k '{self._socket_dir()}'"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            " ".join(options),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` ends sessions cleanly, `immediate` is a crash)."""
        if self.is_running():
            self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.datadir))

    def restart(self) -> None:
        """Stop and start again: every session ends, nothing committed is lost."""
        self.stop()
        self.start()

    def is_running(self) -> bool:
        """Whether a postmaster serves this data directory."""
        try:
            self._run("pg_ctl", "status", "-D", str(self.datadir))
        except subprocess.CalledProcessError:
            return False
        return True

    def ensure_running(self) -> EmbeddedPostgres:
        """Init when new and start when stopped; returns self for chaining."""
        self.init()
        if not self.is_running():
            self.start()
        return self
