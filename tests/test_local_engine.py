"""The local engine's workers die with their parent (a kill -9 must not leave them holding
the index's writer lock, which they inherit when forked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
