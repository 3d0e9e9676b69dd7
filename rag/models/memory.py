"""Keeping the process's resident memory near what it uses (glibc only; elsewhere a no-op).

Once a few large blocks have been freed, glibc serves blocks of up to 32 MiB from its heap,
and a heap whose free space sits between live blocks never shrinks. Loading the embedder
(its weights are read, then handed to OpenVINO) and embedding batches of varying shapes left
~220 MB that way in the web app. Blocks of 1 MiB and more therefore get their own mappings,
and the free heap pages loading leaves behind are handed back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

_M_MMAP_THRESHOLD = -3  # mallopt parameter from glibc's malloc.h
_MMAP_THRESHOLD_BYTES = 1 << 20


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def limit_heap_growth() -> None:
    """Serve blocks of 1 MiB and more from their own mappings, returned to the system when
    freed (glibc otherwise raises this threshold up to 32 MiB as blocks are freed)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
