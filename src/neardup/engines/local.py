"""The local engine: run a stage over chunks of work in this process or worker processes.

Small jobs run in this process (starting workers costs more than decoding a handful of
images); larger ones in forked worker processes, each of which makes the stage's state once
(`Stage.setup`) and keeps it for every chunk it runs (and, for a stage mapped in rounds, for
its next map). Each worker takes its own consecutive share of the chunks (`Shares`), so it
reads a picture that neighbouring pairs share about once. Workers die with their parent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import wait
from typing import Any

from neardup.engines.base import Engine, Shares, Stage, chunks_of
from neardup.engines.lanes import Lane, die_with_parent

__all__ = ["LocalEngine", "default_workers", "die_with_parent", "map_batches"]

INLINE_BELOW = 24
"""Fewer items than this run in-process."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


IN_FLIGHT = 2
"""Chunks queued per worker: one running, one ready, so no worker waits on this process."""


class LocalEngine:
    """Stages on this machine: in-process for small jobs, else `workers` processes, each dealt
    its share of the chunks (`Shares`). Workers end with each map, but those of a stage mapped
    in rounds (`Stage.rounds`), which are kept for its next map until `release` (or another
    stage is mapped, or `close`); so is its state in this process. Workers left alive hold
    copies of this process's open files (a browser driver's pipes), so none is kept longer."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers or default_workers()
        self._kept: tuple[Stage[Any, Any, Any], list[Lane]] | None = None
        self._inline: tuple[Stage[Any, Any, Any], Any] | None = None

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
                state = self._state(stage) if stage.rounds else stage.setup()
                for part in chunks:
                    yield part, stage.run(state, part)
            return
        lanes = self._lanes(stage, min(self._workers, len(chunks)))
        shares = Shares(chunks, len(lanes))
        worker_of = {lane.conn: worker for worker, lane in enumerate(lanes)}
        try:
            for worker, lane in enumerate(lanes):
                _feed(lane, shares, worker)
            while any(lane.sent for lane in lanes):
                for ready in wait([lane.conn for lane in lanes if lane.sent]):
                    worker = worker_of[ready]  # type: ignore[index]
                    part, results = lanes[worker].receive()
                    _feed(lanes[worker], shares, worker)  # keep the worker that finished busy
                    yield part, results
        finally:
            # Stopped early (no worker left mid-chunk), or a stage not mapped in rounds.
            if any(lane.sent for lane in lanes) or not stage.rounds:
                self._end_workers()

    def _state(self, stage: Stage[Any, Any, Any]) -> Any:
        """The state of `stage` (mapped in rounds) in this process: kept from its last map,
        else made."""
        if self._inline is None or self._inline[0] is not stage:
            self._inline = (stage, stage.setup())
        return self._inline[1]

    def _lanes(self, stage: Stage[Any, Any, Any], count: int) -> list[Lane]:
        """`count` worker processes for `stage`: those kept from its last map, else new ones
        (the kept workers of another stage ended first)."""
        if self._kept is not None and self._kept[0] is stage and len(self._kept[1]) >= count:
            return self._kept[1][:count]
        self._end_workers()
        self._kept = (stage, [Lane(stage) for _ in range(count)])
        return self._kept[1]

    def _end_workers(self) -> None:
        kept, self._kept = self._kept, None
        for lane in kept[1] if kept is not None else ():
            lane.end()

    def release(self, stage: Stage[Any, Any, Any]) -> None:
        """End the workers, and drop the state, kept for `stage`."""
        if self._kept is not None and self._kept[0] is stage:
            self._end_workers()
        if self._inline is not None and self._inline[0] is stage:
            self._inline = None

    def close(self) -> None:
        """End the kept workers and drop the kept state."""
        self._end_workers()
        self._inline = None


def _feed(lane: Lane, shares: Shares[Any], worker: int) -> None:
    """Chunks sent to `lane` until it holds `IN_FLIGHT` or none is left."""
    while len(lane.sent) < IN_FLIGHT and (part := shares.next(worker)) is not None:
        lane.send(part)


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
