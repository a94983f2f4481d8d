"""The Ray engine: the same stages as the local engine, on Ray actors (one machine or many).

Each actor makes the stage's state once (`Stage.setup`: an ONNX session, a keypoint verifier)
and keeps it for every chunk it runs, as a local worker process does. Chunks are the local
engine's chunks (consecutive, `stage.chunk` items), so a model sees the same batches and the
results are the same numbers. A worker that dies mid-run is restarted by Ray (its state made
again) and the chunks it held are run again (`max_restarts`, `max_task_retries`): stages are
pure functions of their items, so a retry gives the same result.

Why actors and not Ray Data's `map_batches`: the stages take and return plain Python records
(dataclasses holding numpy arrays), not tables, and the caller stores each chunk as it
finishes; an actor pool does that with Ray core alone (no pyarrow/pandas), and the feature
store, not Ray's object store, holds the results.

Importing this module imports ray: only `neardup.engines.factory.make_engine("ray")` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import ray

from neardup.engines.base import Stage, chunks_of

MAX_RESTARTS = 4
"""Times Ray restarts a dead worker (per map call) before the run fails."""
MAX_TASK_RETRIES = 4
"""Times a chunk whose worker died is run again."""
IN_FLIGHT = 2
"""Chunks queued per worker: one running, one ready, so no worker waits on the driver."""


class _StageWorker:
    """A Ray actor holding one stage and its per-worker state."""

    def __init__(self, stage: Stage[Any, Any, Any]) -> None:
        self.stage = stage
        self.state = stage.setup()

    def run(self, items: list[Any]) -> list[Any]:
        return self.stage.run(self.state, items)


_RemoteWorker: Any = ray.remote(_StageWorker)


class RayEngine:
    """Stages on Ray actors: `workers` actors of one CPU each (default and at most: the
    cluster's CPUs).

    Connects to `address` ("auto" or "ray://host:port") or starts a local cluster when none is
    running; `close` shuts down only a cluster this engine started.
    """

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        *,
        max_restarts: int = MAX_RESTARTS,
        max_task_retries: int = MAX_TASK_RETRIES,
    ) -> None:
        self._owns = False
        if not ray.is_initialized():
            ray.init(
                address=address,
                num_cpus=workers if address is None else None,
                include_dashboard=False,
                log_to_driver=False,
            )
            self._owns = True
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = int(resources.get("CPU", 1))
        # Each worker is a one-CPU actor: more than the cluster's CPUs would never start.
        self._workers = max(1, min(workers or cpus, cpus))
        self._restarts = max_restarts
        self._retries = max_task_retries

    @property
    def workers(self) -> int:
        return self._workers

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        """Yield (chunk, results) for consecutive chunks of `items`, in completion order."""
        chunks = chunks_of(stage, items)
        if not chunks:
            return
        count = min(self._workers, len(chunks))
        options = {
            "num_cpus": 1,
            "max_restarts": self._restarts,
            "max_task_retries": self._retries,
        }
        actors = [_RemoteWorker.options(**options).remote(stage) for _ in range(count)]
        pending: dict[Any, tuple[int, list[T]]] = {}
        queue = iter(chunks)

        def submit(actor: int) -> bool:
            for part in queue:
                pending[actors[actor].run.remote(part)] = (actor, part)
                return True
            return False

        try:
            for actor in range(count):
                for _ in range(IN_FLIGHT):
                    submit(actor)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    actor, part = pending.pop(ref)
                    results: list[R] = ray.get(ref)
                    submit(actor)  # keep the worker that finished busy
                    yield part, results
        finally:
            for ref in pending:
                ray.cancel(ref)
            for handle in actors:
                ray.kill(handle)

    def close(self) -> None:
        """Shut down the local cluster if this engine started it."""
        if self._owns and ray.is_initialized():
            ray.shutdown()
            self._owns = False
