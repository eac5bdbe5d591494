"""A worker's memory stays bounded under many large requests at once, and returns to where it was.

Measured on the worker processes themselves: their resident set size (`VmRSS` in /proc/<pid>/status,
what the kernel and Lambda count) before and after, and their peak (`VmHWM`, reset first by writing 5
to /proc/<pid>/clear_refs, so the peak is this burst's and not the start-up's).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from infra.config import project_config
from tests.faults.harness import LocalServer
from tests.support.identities import bearer

pytestmark = pytest.mark.slow
MB = 1024 * 1024


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def four_workers(pg, app_src, tmp_path_factory) -> Iterator[LocalServer]:
    """Four execution environments, as `make serve` starts them, serving the fixture app."""
    log = tmp_path_factory.mktemp("memory") / "server.log"
    env = {"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    with LocalServer(env, workers=4, log=log) as running:
        yield running


def test_100_concurrent_uploads_of_9_5_mb_leave_each_worker_where_it_started(four_workers):
    url = f"{four_workers.base}/widgets"
    headers = {**bearer(), "Content-Type": "application/json"}
    pids = sorted(four_workers.worker_pids())
    assert len(pids) == 4
    with ThreadPoolExecutor(8) as pool:  # every worker has served requests before: a warm environment
        list(pool.map(lambda _: requests.get(f"{url}?limit=1", headers=headers, timeout=30), range(40)))
    before = {pid: _status_mb(pid, "VmRSS") for pid in pids}
    for pid in pids:
        _reset_peak(pid)
    body = b'{"name": "' + b"x" * int(9.5 * MB) + b'"}'  # under API Gateway's 10 MB, over Lambda's 6 MiB

    def upload(_: int) -> int:
        return requests.post(url, data=body, headers=headers, timeout=300).status_code

    with ThreadPoolExecutor(100) as pool:
        statuses = list(pool.map(upload, range(100)))
    assert statuses == [413] * 100
    assert four_workers.alive()
    memory_size = project_config().memory_size
    lines = []
    for pid in pids:
        after, peak = _status_mb(pid, "VmRSS"), _status_mb(pid, "VmHWM")
        lines.append(f"worker {pid}: RSS {before[pid]:.1f} MB before, {after:.1f} MB after, peak {peak:.1f} MB")
        assert after - before[pid] < 20, lines[-1]
        assert peak < memory_size, lines[-1]
    print("\n".join(["100 concurrent 9.5 MB POSTs, 4 workers:", *lines]))
