"""The engine seam: where a batch stage runs, never what it does.

A `Stage` is a pure batch function plus how to make its per-worker state (an ONNX session, a
keypoint verifier): `setup()` runs once per worker, `run(state, items)` once per chunk and
returns one result per item, in order. An `Engine` maps a stage over items and yields each
chunk with its results as it finishes, so the caller can store them as they come (an
interrupted run loses only the chunks in flight). Each worker takes its own consecutive share
of the chunks (`Shares`), and a stage mapped in rounds keeps its workers from one map to the
next. `LocalEngine` (processes on this machine) and the Ray engine implement the same methods;
the stages never know which one runs them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Stage[T, S, R]:
    """A batch function with per-worker state; both callables must be picklable (module-level
    functions or `functools.partial` of them) so any engine can ship them to its workers."""

    name: str
    setup: Callable[[], S]
    """Makes the worker's state, once per worker (kept for every chunk that worker runs)."""
    run: Callable[[S, list[T]], list[R]]
    """Results for a chunk of items, one per item, in order; never raises on bad input."""
    chunk: int = 16
    """Items per call: large enough to batch a model, small enough to spread the work."""
    rounds: bool = False
    """Mapped in rounds (each round's items known once the last round's results are): an
    engine keeps the workers, and their states' caches, from one map of this stage object to
    the next, until `Engine.release`; other stages' workers end with each map."""


def chunks_of[T](stage: Stage[T, Any, Any], items: Sequence[T]) -> list[list[T]]:
    """`items` cut into the stage's chunks, in order: every engine cuts the same batches."""
    return [list(items[i : i + stage.chunk]) for i in range(0, len(items), stage.chunk)]


class Shares[T]:
    """A map call's chunks dealt to its workers: each takes its own consecutive share from the
    front, and one whose share is done takes from the back of the largest share left.

    Neighbouring chunks read the same pictures (`pair_order.by_image` keeps a picture's pairs
    together), so each worker reads a picture about once into its state's cache, where chunks
    dealt in turn would have every worker read most of them; the workers still end together.
    """

    def __init__(self, chunks: list[list[T]], workers: int) -> None:
        n = len(chunks)
        self._shares = [
            deque(chunks[w * n // workers : (w + 1) * n // workers]) for w in range(workers)
        ]

    def next(self, worker: int) -> list[T] | None:
        """The next chunk for `worker`; None when every chunk is dealt."""
        own = self._shares[worker]
        if own:
            return own.popleft()
        largest = max(self._shares, key=len)
        return largest.pop() if largest else None


def no_state() -> None:
    """`Stage.setup` for stages without per-worker state."""
    return None


class Engine(Protocol):
    """Runs stages somewhere: in this process, local worker processes, or a Ray cluster."""

    @property
    def workers(self) -> int:
        """How many stage calls can run at once (used to size per-worker threads)."""
        ...

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        """Yield (chunk, stage.run(state, chunk)) for every chunk of `items`, in completion
        order; each worker's state is made once by `stage.setup()`, and kept for the next map
        of the same object where the stage is mapped in `rounds`."""
        ...

    def release(self, stage: Stage[Any, Any, Any]) -> None:
        """End the workers kept for `stage` (mapped in rounds): its rounds are over."""
        ...

    def close(self) -> None:
        """Release the workers (a local pool's processes, a Ray connection)."""
        ...
