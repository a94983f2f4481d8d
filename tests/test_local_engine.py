"""The local engine's workers die with their parent (a kill -9 must not leave them holding
the index's writer lock, which they inherit when forked)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
SLOW_POOL = """
import time
from neardup.engines.local import map_batches

def slow(items, config):
    time.sleep(60)
    return items

for _ in map_batches(slow, list(range(100)), None, workers=2, chunk=1):
    pass
"""


def _children(parent: int) -> list[int]:
    """Processes whose parent is `parent` (from /proc, no tools needed)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_workers_die_when_their_parent_is_killed() -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    parent = subprocess.Popen([sys.executable, "-c", SLOW_POOL], env=env)
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = _children(parent.pid)
    assert len(workers) >= 2, "the pool did not start"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "workers outlived their killed parent"


def _pid_state() -> tuple[int, list[int]]:
    return os.getpid(), []


def _record(state: tuple[int, list[int]], items: list[int]) -> list[tuple[int, int, int]]:
    """Each result: (item squared, the pid that made the state, calls this state has seen)."""
    pid, calls = state
    calls.append(1)
    return [(i * i, pid, len(calls)) for i in items]


@pytest.mark.parametrize("workers", [1, 2])
def test_stage_state_is_made_once_per_worker(workers: int) -> None:
    from neardup.engines.base import Stage
    from neardup.engines.local import LocalEngine

    stage = Stage("square", _pid_state, _record, chunk=4)
    items = list(range(100))
    seen: dict[int, int] = {}
    results: dict[int, int] = {}
    for chunk, out in LocalEngine(workers).map(stage, items):
        assert len(chunk) == len(out)
        for item, (square, pid, calls) in zip(chunk, out, strict=True):
            results[item] = square
            seen[pid] = max(seen.get(pid, 0), calls)
    assert results == {i: i * i for i in items}
    assert sum(seen.values()) == 25  # every chunk ran on a state made once per worker
    assert len(seen) <= workers


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_are_kept_for_the_next_map_of_a_stage_mapped_in_rounds(workers: int) -> None:
    import dataclasses

    from neardup.engines.base import Stage
    from neardup.engines.local import LocalEngine

    stage = Stage("square", _pid_state, _record, chunk=4, rounds=True)
    engine = LocalEngine(workers)

    def states(run: Stage[int, tuple[int, list[int]], tuple[int, int, int]]) -> dict[int, int]:
        calls: dict[int, int] = {}
        for _, out in engine.map(run, list(range(100))):
            for _, pid, seen in out:
                calls[pid] = max(calls.get(pid, 0), seen)
        return calls

    first = states(stage)
    again = states(stage)
    assert set(again) == set(first)  # the same workers (or this process's kept state)...
    assert sum(again.values()) == 50  # ...whose states saw the first map's 25 chunks too
    fresh = states(dataclasses.replace(stage))  # another stage object: new states
    assert sum(fresh.values()) == 25
    engine.release(stage)  # not the kept one: nothing happens
    assert sum(states(stage).values()) == 25  # the first object's were ended by the second's
    engine.release(stage)
    assert sum(states(stage).values()) == 25
    engine.close()
    once = dataclasses.replace(stage, rounds=False)  # a stage not mapped in rounds
    assert sum(states(once).values()) == 25
    assert sum(states(once).values()) == 25  # its workers ended with each map


def test_each_worker_takes_its_own_share_then_the_largest_left() -> None:
    from neardup.engines.base import Shares

    chunks = [[n] for n in range(10)]
    shares = Shares(chunks, 3)  # shares of 3, 3 and 4 chunks
    assert [shares.next(0) for _ in range(3)] == [[0], [1], [2]]
    assert shares.next(0) == [9]  # its own done: the back of the largest share
    assert shares.next(1) == [3]
    assert [shares.next(2) for _ in range(3)] == [[6], [7], [8]]
    assert [shares.next(2) for _ in range(3)] == [[5], [4], None]
    assert shares.next(1) is None


def _no_state() -> None:
    return None


def _fails_on_13(_state: None, items: list[int]) -> list[int]:
    if 13 in items:
        raise ValueError("thirteen")
    return items


def _dies_on_13(_state: None, items: list[int]) -> list[int]:
    if 13 in items:
        os._exit(3)
    return items


class _Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("not picklable")


def _unpicklable_on_13(_state: None, items: list[int]) -> list[int]:
    if 13 in items:
        raise _Unpicklable("held a lock")
    return items


def _unpicklable_results(_state: None, items: list[int]) -> list[Any]:
    return [lambda item=item: item for item in items]  # a lambda cannot be sent back


def _failing_setup() -> None:
    raise OSError("no model here")


def test_a_workers_error_is_raised_with_its_traceback_and_the_workers_end() -> None:
    from neardup.engines.base import Stage
    from neardup.engines.lanes import RemoteTraceback
    from neardup.engines.local import LocalEngine

    engine = LocalEngine(2)
    with pytest.raises(ValueError, match="thirteen") as raised:
        list(engine.map(Stage("fails", _no_state, _fails_on_13, chunk=4), list(range(40))))
    assert isinstance(raised.value.__cause__, RemoteTraceback)
    assert "_fails_on_13" in str(raised.value.__cause__)
    assert engine._kept is None
    with pytest.raises(RuntimeError, match="_Unpicklable: held a lock"):
        list(engine.map(Stage("odd", _no_state, _unpicklable_on_13, chunk=4), list(range(40))))
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError), match="lambda"):
        list(engine.map(Stage("lambdas", _no_state, _unpicklable_results), list(range(40))))
    with pytest.raises(OSError, match="no model here"):
        list(engine.map(Stage("setup", _failing_setup, _fails_on_13, chunk=4), list(range(40))))
    # the engine still runs the next map
    done = [i for _, out in engine.map(Stage("ok", _no_state, _fails_on_13), [1] * 30) for i in out]
    assert done == [1] * 30
    engine.close()


def test_a_worker_that_dies_is_reported_not_waited_for() -> None:
    from neardup.engines.base import Stage
    from neardup.engines.lanes import WorkerDied
    from neardup.engines.local import LocalEngine

    engine = LocalEngine(2)
    started = time.monotonic()
    with pytest.raises(WorkerDied, match=r"dies stage ended while it held work \(exit code 3"):
        list(engine.map(Stage("dies", _no_state, _dies_on_13, chunk=4), list(range(40))))
    assert time.monotonic() - started < 30


def test_a_map_left_early_ends_its_workers() -> None:
    from neardup.engines.base import Stage
    from neardup.engines.local import LocalEngine

    engine = LocalEngine(2)
    run = engine.map(Stage("square", _pid_state, _record, chunk=4, rounds=True), list(range(100)))
    _, out = next(run)
    pids = {pid for _, pid, _ in out}
    run.close()  # the caller stops reading: chunks were in flight
    assert engine._kept is None
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def test_an_engine_dropped_without_close_stops_its_workers() -> None:
    import gc

    from neardup.engines.base import Stage
    from neardup.engines.local import LocalEngine

    engine = LocalEngine(2)
    pids: set[int] = set()
    stage = Stage("square", _pid_state, _record, chunk=4, rounds=True)
    for _, out in engine.map(stage, list(range(100))):
        pids |= {pid for _, pid, _ in out}
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)  # kept for a next map
    del engine
    gc.collect()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
