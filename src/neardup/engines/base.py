"""The engine seam: where a batch stage runs, never what it does.

A `Stage` is a pure batch function plus how to make its per-worker state (an ONNX session, a
keypoint verifier): `setup()` runs once per worker, `run(state, items)` once per chunk and
returns one result per item, in order. An `Engine` maps a stage over items and yields each
chunk with its results as it finishes, so the caller can store them as they come (an
interrupted run loses only the chunks in flight). `LocalEngine` (processes on this machine)
and the Ray engine implement the same two methods; the stages never know which one runs them.
"""

from __future__ import annotations

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


def chunks_of[T](stage: Stage[T, Any, Any], items: Sequence[T]) -> list[list[T]]:
    """`items` cut into the stage's chunks, in order: every engine cuts the same batches."""
    return [list(items[i : i + stage.chunk]) for i in range(0, len(items), stage.chunk)]


def no_state() -> None:
    """`Stage.setup` for stages without per-worker state."""
    return None


class Engine(Protocol):
    """Runs stages somewhere: in this process, a local process pool, or a Ray cluster."""

    @property
    def workers(self) -> int:
        """How many stage calls can run at once (used to size per-worker threads)."""
        ...

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        """Yield (chunk, stage.run(state, chunk)) for every chunk of `items`, in completion
        order; each worker's state is made once by `stage.setup()`."""
        ...

    def close(self) -> None:
        """Release the workers (a local pool's processes, a Ray connection)."""
        ...
