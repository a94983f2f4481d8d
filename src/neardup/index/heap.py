"""Handing freed heap memory back to the system before a large pass over an index.

glibc keeps the pages of freed small allocations (each stored image's features, rows encoded
for SQLite: a few kilobytes apiece) in its heap for reuse. After storing half a million images
that heap held about 3 GB no object used, and `duplicates`, whose large arrays are mapped
separately, then peaked that much higher (benchmarks/million.py). `malloc_trim` returns every
whole free page at once.
"""

from __future__ import annotations

import contextlib
import ctypes


def trim_freed_heap() -> None:
    """Return the heap's free pages to the system (glibc `malloc_trim(0)`); elsewhere, or if
    it cannot be called, nothing happens."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
