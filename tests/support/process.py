"""Run a local server as a child process: wait until it answers HTTP, and stop it with its workers.

Tests, the fault harness and the benchmark all start servers this way; one copy keeps their
start-up and shutdown behaving alike.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import requests


def wait_until_answering(
    process: subprocess.Popen,
    url: str,
    *,
    timeout: float = 60,
    accept: Callable[[requests.Response], bool] = lambda response: True,
) -> None:
    """Poll `url` until an answer `accept`s; RuntimeError when the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if accept(requests.get(url, timeout=2)):
                return
        except requests.RequestException:
            pass  # not listening yet, or a worker still importing
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer {url} within {timeout:g} s")
        time.sleep(0.2)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, as Ctrl-C or a process manager would (the workers go with it); kill after `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
