"""A worker's malloc settings: the buffer each request's read allocates is reused, not mapped afresh.

That large blocks still go back to the system is tests/badinput/test_worker_memory.py's.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# In a fresh interpreter (mallopt is per process): 2,000 reads the size asyncio's transport asks for, as
# `sock.recv(256 KiB)` does (a 256 KiB bytes object shrunk to what came), counting the pages faulted in.
_READS = textwrap.dedent(
    """
    import resource, sys
    sys.path.insert(0, ".")
    from local import memory
    if sys.argv[1] == "worker":
        memory.keep_large_blocks_returnable()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(2000):
        buffer = bytearray(256 * 1024)
        del buffer
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
    """
)


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _READS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_request_sized_read_buffer_comes_from_the_heap_in_a_worker() -> None:
    # Under a threshold below the buffer each of the 2,000 would be a new mapping, at least one fault each.
    assert _faults("worker") < 200
