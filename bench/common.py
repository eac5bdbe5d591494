"""What every benchmark shares: a dedicated PostgreSQL, the Lambda module in-process, and medians.

The bench measures the machinery on the fixture app (tests/support/app), written out as a src/ folder
of its own, so its figures do not depend on the project's routes (the sample kept or deleted).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.embedded_pg import EmbeddedPostgres, free_port
from tests.support import app

ROOT = Path(__file__).resolve().parent.parent
# The bench's Lambda source: the fixture app with this checkout's machinery (written by write_src).
SRC = ROOT / ".local" / "bench-src"
# Variables the runtime reads; cleared so the bench measures exactly the configuration it sets.
_RUNTIME_VARIABLES = ("DB_SECRET_ARN", "DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_APPLICATION_NAME")


def write_src() -> Path:
    """Write the fixture app, with the machinery as it is now, to SRC (afresh: the machinery may have changed)."""
    shutil.rmtree(SRC, ignore_errors=True)
    return app.write_src(SRC)


@contextmanager
def bench_database(**settings: str) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of the bench's own in a short temporary path (unix sockets need one), with the fixture's rows."""
    base = Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp"))
    base.chmod(0o755)
    # fsync off: the bench measures our overhead, not the disk's flush latency (which would hide it).
    server = EmbeddedPostgres(base / "pg", free_port(), settings={"fsync": "off", **settings})
    try:
        server.init()
        server.start()
        app.prepare_database(server.url)
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def one_cpu(server: EmbeddedPostgres) -> Iterator[None]:
    """This process and the database's backends on one CPU while the block runs.

    On a 2-vCPU machine the scheduler puts a backend on either core; when it is not the client's, every
    round trip pays a cross-core wake-up (here 70 to 150 us, varying by connection and run), which
    swamps the tens of microseconds of Python being measured. One core makes each round trip a direct
    hand-off, the same for the handler and its baseline. Backends forked while pinned stay pinned.
    """
    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
    mine, theirs = os.sched_getaffinity(0), os.sched_getaffinity(postmaster)
    cpu = {min(mine)}
    os.sched_setaffinity(0, cpu)
    os.sched_setaffinity(postmaster, cpu)
    try:
        yield
    finally:
        os.sched_setaffinity(postmaster, theirs)
        os.sched_setaffinity(0, mine)


def socket_url(server: EmbeddedPostgres) -> str:
    """The unix-socket URL; the bench's paths are short, so there always is one."""
    url = server.socket_url
    if url is None:
        raise RuntimeError(f"socket path too long under {server.datadir}")
    return url


def lambda_module(database_url: str) -> Any:
    """`lambda_function`, imported in this process and pointed at `database_url`, with no cached connection."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    for name in _RUNTIME_VARIABLES:
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # As deployed with the template's auth: the function checks every caller (the events carry one).
    os.environ["AUTH"] = "cognito"
    import db_utils
    import lambda_function
    from lambdakit import settings as config

    db_utils.close_connection()
    config.database_settings.cache_clear()
    return lambda_function


def time_calls(fn: Callable[[], Any], iterations: int) -> list[float]:
    """Per-call wall times in seconds."""
    times = []
    clock = time.perf_counter
    for _ in range(iterations):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def _blocks(iterations: int, rounds: int) -> tuple[int, int]:
    """Calls of a subject's warm-up, and of each of its rounds."""
    return max(10, iterations // rounds), max(1, iterations // rounds)


def calls_per_subject(iterations: int, rounds: int = 10) -> int:
    """How many times `interleaved_medians` calls each subject, its warm-up included."""
    warmup, per_round = _blocks(iterations, rounds)
    return warmup + rounds * per_round


def interleaved_medians(subjects: dict[str, Callable[[], Any]], iterations: int, rounds: int = 10) -> dict[str, float]:
    """Median per-call time of each subject, run in alternating blocks so machine noise hits all alike."""
    warmup, per_round = _blocks(iterations, rounds)
    for fn in subjects.values():
        time_calls(fn, warmup)  # warm up: connections, caches, branch predictors
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(rounds):
        for name, fn in subjects.items():
            samples[name] += time_calls(fn, per_round)
    return {name: statistics.median(values) for name, values in samples.items()}
