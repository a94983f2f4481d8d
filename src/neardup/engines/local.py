"""The local engine: run a batch stage over chunks of work in a process pool.

An engine decides where a stage runs, never what it does: `map_batches` takes the same pure
batch function the Ray engine would map. Results come back as each chunk finishes, so the
caller can store them (and an interrupted run loses at most the chunks in flight). Small jobs
run in this process: starting workers costs more than decoding a handful of images.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")

INLINE_BELOW = 24
"""Fewer items than this run in-process."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def die_with_parent() -> None:
    """Worker start-up: on Linux, ask the kernel to kill this worker when its parent dies.

    A forked worker inherits its parent's open files, the index's writer lock among them, and
    both ends of the pool's pipes, so it never sees the parent go: after a `kill -9` of the
    parent it would wait forever and hold the lock.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def map_batches[T, C, R](
    function: Callable[[list[T], C], list[R]],
    items: Sequence[T],
    config: C,
    *,
    workers: int | None = None,
    chunk: int = 16,
) -> Iterator[tuple[list[T], list[R]]]:
    """Yield (chunk, function(chunk, config)) for consecutive chunks, in completion order."""
    workers = workers or default_workers()
    chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
    if workers <= 1 or len(items) < INLINE_BELOW:
        for part in chunks:
            yield part, function(part, config)
        return
    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent)
    pending: dict[Future[list[R]], list[T]] = {}
    queue = iter(chunks)
    try:
        for part in queue:
            pending[pool.submit(function, part, config)] = part
            if len(pending) >= workers * 2:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                part = pending.pop(future)
                for nxt in queue:
                    pending[pool.submit(function, nxt, config)] = nxt
                    break
                yield part, future.result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
