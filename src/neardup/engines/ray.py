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

Before connecting to a running cluster, the address Ray would use is tried with a TCP connect
and a gRPC hello (`CONNECT_TIMEOUT`): Ray itself retries an address where nobody listens, or
where another service does, for minutes, printing warnings; a wrong host:port must be a quick
error instead.

Importing this module imports ray: only `neardup.engines.factory.make_engine("ray")` does.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import ray

from neardup.engines.base import Shares, Stage, chunks_of

MAX_RESTARTS = 4
"""Times Ray restarts a dead worker (per map call) before the run fails."""
MAX_TASK_RETRIES = 4
"""Times a chunk whose worker died is run again."""
IN_FLIGHT = 2
"""Chunks queued per worker: one running, one ready, so no worker waits on the driver."""
CONNECT_TIMEOUT = 5.0
"""Seconds a cluster's address has to accept a TCP connection before the run gives up."""
CLIENT_PORT = 10001
"""Ray Client's port, when a ray:// address names none."""
QUIET: ContextVar[bool] = ContextVar("neardup_ray_quiet", default=False)
"""True while the caller (`--quiet`) wants Ray's start-up notes off stderr: Ray's driver logger
is then set to ERROR at init, so its warnings and notes are dropped and its errors still shown."""


def _host_port(address: str, default_port: int | None) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"; ValueError for anything else."""
    host, colon, port = address.rpartition(":")
    if not colon and default_port is not None:
        host, port = address, str(default_port)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"Ray address {address!r} is not host:port (auto, or ray://host:10001)")
    return host, int(port)


def _bootstrap(address: str | None) -> str | None:
    """The host:port Ray's driver will connect to for `address` (None or "auto": the last
    `ray start` cluster on this machine), or None where it will start a local cluster;
    ConnectionError where "auto" finds none. Ray's own resolution, so the check tries the
    address Ray uses (it rewrites 127.0.0.1 to this node's IP); a private Ray function, so
    where it is missing the address is taken as given."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:
        return None if address in (None, "auto", "local") else address
    # Typed as taking str, but None is its documented "no address given" case.
    resolved: str | None = canonicalize_bootstrap_address(address)  # type: ignore[arg-type]
    return resolved


def check_reachable(address: str | None, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise ConnectionError unless the Ray cluster `ray.init(address)` would connect to
    accepts a TCP connection within `timeout` seconds; nothing to check where Ray will start
    a local cluster. ValueError for an address that is not host:port."""
    origin = ""
    given = os.environ.get("RAY_ADDRESS")
    if given and address in (None, "auto"):  # ray.init lets RAY_ADDRESS override these
        address, origin = given, f" (from RAY_ADDRESS={given})"
    if address not in (None, "auto", "local") and "://" not in address:
        _host_port(address, None)  # a malformed address is named as given, before Ray reads it
    if address is not None and "://" in address:
        scheme, _, rest = address.partition("://")
        if scheme != "ray":
            raise ValueError(f"Ray address {address!r}: only ray:// (Ray Client) is understood")
        host, port = _host_port(rest.rstrip("/"), CLIENT_PORT)
    else:
        target = _bootstrap(address)
        if target is None:
            return
        host, port = _host_port(target, None)
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            speaks = _answers_grpc(connection)
    except OSError as error:
        reason = error.strerror or type(error).__name__  # a timeout has no strerror
        raise ConnectionError(
            f"no Ray cluster answers at {host}:{port}{origin} within {timeout:g} s ({reason}): "
            "start one there (ray start --head) or give the address of a running one"
        ) from None
    if not speaks:
        raise ConnectionError(
            f"{host}:{port}{origin} accepts connections but does not answer as a Ray cluster "
            f"(no gRPC reply within {timeout:g} s): another service's port? A cluster listens "
            f"on host:6379, or ray://host:{CLIENT_PORT} for Ray Client"
        )


_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
"""HTTP/2's client preface and an empty SETTINGS frame: what a gRPC client sends first."""
_SETTINGS = 4


def _answers_grpc(connection: socket.socket) -> bool:
    """Whether the server on `connection` answers as gRPC (HTTP/2) servers do, with a SETTINGS
    frame: Ray's GCS and Ray Client both are. A web dashboard, a database or a silent port does
    not, where Ray itself would retry for minutes (5.5 measured, still waiting). With TLS on
    (`RAY_USE_TLS`) the clear-text hello cannot be answered, so it is not asked."""
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return True
    try:
        connection.sendall(_HTTP2_HELLO)
        head = b""
        while len(head) < 9:  # a frame header: length (3), type, flags, stream (4)
            chunk = connection.recv(9 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:  # reset, or silent until the timeout
        return False
    return head[3] == _SETTINGS


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
            check_reachable(address)
            ray.init(
                address=address,
                num_cpus=workers if address is None else None,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR if QUIET.get() else logging.INFO,
            )
            self._owns = True
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = int(resources.get("CPU", 1))
        # Each worker is a one-CPU actor: more than the cluster's CPUs would never start.
        self._workers = max(1, min(workers or cpus, cpus))
        self._restarts = max_restarts
        self._retries = max_task_retries
        self._kept: tuple[Stage[Any, Any, Any], list[Any]] | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        """Yield (chunk, results) for consecutive chunks of `items`, in completion order; each
        actor takes its own share of them (`Shares`). The actors end with the map, but those of
        a stage mapped in rounds, kept for its next map until `release`."""
        chunks = chunks_of(stage, items)
        if not chunks:
            return
        actors = self._actors(stage, min(self._workers, len(chunks)))
        shares = Shares(chunks, len(actors))
        pending: dict[Any, tuple[int, list[T]]] = {}

        def submit(actor: int) -> None:
            part = shares.next(actor)
            if part is not None:
                pending[actors[actor].run.remote(part)] = (actor, part)

        try:
            for actor in range(len(actors)):
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
            for ref in pending:  # stopped early: no actor is left mid-chunk
                ray.cancel(ref)
            if pending or not stage.rounds:
                self._end_actors()

    def _actors(self, stage: Stage[Any, Any, Any], count: int) -> list[Any]:
        """`count` actors for `stage`: those kept from its last map, else new ones (the kept
        actors of another stage ended first)."""
        if self._kept is not None and self._kept[0] is stage and len(self._kept[1]) >= count:
            return self._kept[1][:count]
        self._end_actors()
        options = {
            "num_cpus": 1,
            "max_restarts": self._restarts,
            "max_task_retries": self._retries,
        }
        actors = [_RemoteWorker.options(**options).remote(stage) for _ in range(count)]
        self._kept = (stage, actors)
        return actors

    def release(self, stage: Stage[Any, Any, Any]) -> None:
        """End the actors kept for `stage` (mapped in rounds)."""
        if self._kept is not None and self._kept[0] is stage:
            self._end_actors()

    def _end_actors(self) -> None:
        kept, self._kept = self._kept, None
        for handle in kept[1] if kept is not None else ():
            ray.kill(handle)

    def close(self) -> None:
        """End the kept actors; shut down the local cluster if this engine started it."""
        if ray.is_initialized():
            self._end_actors()
        if self._owns and ray.is_initialized():
            ray.shutdown()
            self._owns = False
