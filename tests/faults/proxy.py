"""A TCP proxy on 127.0.0.1 that can stop accepting for a while: a database resuming from pause.

Aurora Serverless v2 at zero capacity takes about 15 s to resume; meanwhile connection attempts get
no answer. While "resuming" the proxy leaves new connections in the listen backlog (the TCP
handshake completes, PostgreSQL's never starts), and `pause()` also cuts every open session,
as the pause itself does. Standard library only: it is a few dozen lines and needs no features.
"""

from __future__ import annotations

import socket
import threading
import time


class PausingProxy:
    """Forward 127.0.0.1:`port` to the upstream port, with `pause(seconds)` to imitate a paused database."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._resume_at = 0.0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def pause(self, seconds: float) -> None:
        """Cut every open session and accept nothing new for `seconds`."""
        self._resume_at = time.monotonic() + seconds
        with self._lock:
            for sock in list(self._open):
                _close(sock)
            self._open.clear()

    def close(self) -> None:
        """Stop accepting and cut every session."""
        self._running = False
        self.pause(0)
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while self._running:
            if time.monotonic() < self._resume_at:
                time.sleep(0.05)
                continue
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            while time.monotonic() < self._resume_at:  # accepted just as a pause began: hold it too
                time.sleep(0.05)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            source.settimeout(None)
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(target)
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
