"""How many workers `make serve` starts when WORKERS is not set: one per CPU it may use, from 2 to 4."""

from __future__ import annotations

import os

# Enough execution environments for local work; more only add memory and database sessions.
MOST = 4
# A request may wait on another (a slow query, a handler calling the API itself): never a single worker.
FEWEST = 2


def default_workers() -> int:
    """WORKERS when set, else one worker per CPU this process may run on, within FEWEST..MOST.

    A worker does its request's work on a CPU of its own (psycopg2 waits for the database in the
    worker's thread), so workers beyond the CPUs only take turns: under load they answer fewer
    requests, not more (docs/performance.md).
    """
    configured = os.environ.get("WORKERS", "").strip()
    if configured:
        return int(configured)
    try:
        cpus = len(os.sched_getaffinity(0))  # what a container or `taskset` allows, not the host's count
    except AttributeError:  # macOS and Windows have no affinity call
        cpus = os.cpu_count() or 1
    return max(FEWEST, min(MOST, cpus))
