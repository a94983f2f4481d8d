"""The local engine: run a stage over chunks of work in this process or a process pool.

Small jobs run in this process (starting workers costs more than decoding a handful of
images); larger ones in forked worker processes, each of which makes the stage's state once
(`Stage.setup`) and keeps it for every chunk it runs. Workers die with their parent.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from neardup.engines.base import Engine, Stage, chunks_of

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


# A worker process runs one stage; its state lives here for the worker's lifetime. This is
# the engine's per-worker storage (what a Ray actor's attributes are), not stage state.
_WORKER: dict[str, Any] = {}


def _start_worker(stage: Stage[Any, Any, Any]) -> None:
    die_with_parent()
    _WORKER["stage"] = stage
    _WORKER["state"] = stage.setup()


def _run_chunk(items: list[Any]) -> list[Any]:
    stage: Stage[Any, Any, Any] = _WORKER["stage"]
    return stage.run(_WORKER["state"], items)


class LocalEngine:
    """Stages on this machine: in-process for small jobs, else a pool of `workers` processes."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers or default_workers()

    @property
    def workers(self) -> int:
        return self._workers

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        """Yield (chunk, results) for consecutive chunks of `items`, in completion order."""
        chunks = chunks_of(stage, items)
        if self._workers <= 1 or len(items) < INLINE_BELOW:
            if chunks:
                state = stage.setup()
                for part in chunks:
                    yield part, stage.run(state, part)
            return
        method = "fork" if sys.platform == "linux" else "spawn"
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(stage,),
        )
        pending: dict[Future[list[R]], list[T]] = {}
        queue = iter(chunks)
        try:
            for part in queue:
                pending[pool.submit(_run_chunk, part)] = part
                if len(pending) >= self._workers * 2:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    part = pending.pop(future)
                    for nxt in queue:
                        pending[pool.submit(_run_chunk, nxt)] = nxt
                        break
                    yield part, future.result()
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing held between calls: each `map` makes and ends its own pool."""


def _call_plain[T, C, R](
    function: Callable[[list[T], C], list[R]], config: C, _state: None, items: list[T]
) -> list[R]:
    return function(items, config)


def map_batches[T, C, R](
    function: Callable[[list[T], C], list[R]],
    items: Sequence[T],
    config: C,
    *,
    workers: int | None = None,
    chunk: int = 16,
    engine: Engine | None = None,
) -> Iterator[tuple[list[T], list[R]]]:
    """Yield (chunk, function(chunk, config)) for consecutive chunks, in completion order:
    a stateless stage on `engine` (default: a `LocalEngine` of `workers`)."""
    from functools import partial

    from neardup.engines.base import no_state

    stage: Stage[T, None, R] = Stage(
        getattr(function, "__name__", "stage"),
        no_state,
        partial(_call_plain, function, config),
        chunk,
    )
    yield from (engine or LocalEngine(workers)).map(stage, items)
