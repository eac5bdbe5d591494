"""A worker gives back what a large request took: its resident size returns to where it was.

glibc's malloc serves a large block from a fresh mapping, which `free` returns to the system at once,
but after such a block is freed it raises its threshold for mappings to that size (up to 32 MiB), so the
next large blocks come from the heap, whose freed pages stay resident: a few large requests in a row and a
worker keeps hundreds of MB it no longer uses. Fixing the threshold keeps large blocks in mappings; after a
large request `malloc_trim` hands back the heap's free pages too. The threshold sits above asyncio's read
buffer (each read of a request allocates 256 KiB and shrinks it to what came): below it, every request
would map, remap and unmap that buffer and fault its page in afresh, a fifth of a worker's system time.
The trim threshold is fixed with it (setting one stops glibc adjusting both), so the heap's top is not
handed back and taken again on each request. ctypes on libc, because no library wraps these calls;
elsewhere than glibc (macOS) they are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys

_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers in glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 1024 * 1024  # above asyncio's 256 KiB read buffer, far below a large request's blocks
_TRIM_THRESHOLD_BYTES = 2 * _MMAP_THRESHOLD_BYTES  # glibc's own ratio when it adjusts them


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc only
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def keep_large_blocks_returnable() -> None:
    """Fix malloc's mapping and trim thresholds for this process (once, when a worker starts)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


def give_back() -> None:
    """Let go of what the request left behind, then return the free pages to the system (after a large request).

    Python's small objects live in 1 MiB arenas that go back only when empty: one survivor pins one.
    The interpreter's attribute cache keeps the names it looked up (graphql-core builds names such as
    `enter_field` afresh per node), and a cycle (an error's traceback and its frames) outlives the request
    until collected: both are cleared first. Some tens of milliseconds, only after a large request.
    """
    sys._clear_type_cache()
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
