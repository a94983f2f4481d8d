"""The Ray engine gives the local engine's answers: a stage's results, a scan's groups and an
index's duplicates, also when a worker dies mid-run (Ray restarts it and reruns its chunks).

One local Ray cluster (2 CPUs) is shared by the module. Skipped only where ray is not
installed, never in CI (CI=true), where the dev extra installs it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from neardup.cli import main
from neardup.engines import make_engine
from neardup.engines.base import Stage
from neardup.engines.local import LocalEngine

if TYPE_CHECKING:
    from conftest import FileMaker

if os.environ.get("CI") == "true":
    import ray  # CI installs the dev extra: a missing ray fails there, it is never skipped
else:
    ray = pytest.importorskip("ray")

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    # The stages below live in this test module, which Ray's workers cannot import by name.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def worker_id() -> int:
    """A stage's per-worker state: the worker's process id (made once per worker)."""
    return os.getpid()


def square(state: int, items: list[int]) -> list[tuple[int, int]]:
    return [(item * item, state) for item in items]


def square_or_die_once(marker: str, state: int, items: list[int]) -> list[tuple[int, int]]:
    """Kill this worker process the first time any worker reaches item 20 (the marker file
    says it happened), mid-run, with chunks before and after it."""
    if 20 in items and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return square(state, items)


def results(chunks: Iterator[tuple[list[int], list[tuple[int, int]]]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk, found in chunks:
        assert len(chunk) == len(found)
        out.update((item, value) for item, (value, _) in zip(chunk, found, strict=True))
    return out


def test_stage_results_equal_the_local_engine_and_state_is_made_once_per_worker(
    cluster: None,
) -> None:
    stage: Stage[int, int, tuple[int, int]] = Stage("square", worker_id, square, chunk=4)
    items = list(range(50))
    engine = make_engine("ray")
    try:
        workers = {pid for _, found in engine.map(stage, items) for _, pid in found}
        assert results(engine.map(stage, items)) == results(LocalEngine(1).map(stage, items))
    finally:
        engine.close()
    assert ray.is_initialized(), "the engine must not shut down a cluster it did not start"
    assert 1 <= len(workers) <= engine.workers == 2
    assert os.getpid() not in workers
    assert make_engine("ray", 8).workers == 2  # actors beyond the CPUs would never start


def test_a_worker_killed_mid_run_is_retried_and_the_result_is_unchanged(
    cluster: None, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    dying: Stage[int, int, tuple[int, int]] = Stage(
        "square", worker_id, partial(square_or_die_once, str(marker)), chunk=4
    )
    plain: Stage[int, int, tuple[int, int]] = Stage("square", worker_id, square, chunk=4)
    items = list(range(60))
    engine = make_engine("ray")
    try:
        survived = results(engine.map(dying, items))
    finally:
        engine.close()
    assert marker.exists(), "no worker was killed: the test proves nothing"
    assert survived == results(LocalEngine(1).map(plain, items))
    assert sorted(survived) == items


def groups_and_pairs(path: Path) -> dict[str, Any]:
    """The parts of a scan's JSON that must not depend on the engine (not timings)."""
    data = json.loads(path.read_text())
    return {key: data[key] for key in ("groups", "pairs", "skipped")} | {
        "counts": {k: v for k, v in data["stats"].items() if k != "seconds"}
    }


@pytest.fixture
def photos(photo_dir: Callable[..., Path], make: FileMaker) -> Path:
    """Enough images for several chunks: photos, their smaller and recompressed copies, a
    bad file."""
    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "moon", "immunohistochemistry"]
    files: dict[str, Any] = {}
    for name in names:
        files[f"{name}.png"] = (name, 256)
        files[f"{name}_small.jpg"] = (name, 160, {"quality": 70})
    folder = photo_dir(files)
    make.truncated(folder / "broken.jpg", "coffee", "JPEG")
    return folder


def test_scan_and_index_on_ray_give_the_local_engine_groups(
    cluster: None, photos: Path, tmp_path: Path
) -> None:
    # The local engine runs in this process (one worker): forking a process that holds Ray's
    # threads could deadlock. Chunks, and so model batches, are the same either way.
    out = {}
    for engine, workers in (("local", "1"), ("ray", "2")):
        out[engine] = tmp_path / f"scan-{engine}.json"
        args = ["scan", str(photos), "--no-cache", "--workers", workers, "--engine", engine]
        assert main([*args, "--quiet", "--json", str(out[engine])]) == 0
    local, remote = groups_and_pairs(out["local"]), groups_and_pairs(out["ray"])
    assert len(local["groups"]) >= 6
    assert remote == local

    index = tmp_path / "idx"
    build = ["index", "build", str(photos), "--index", str(index), "--no-cache"]
    assert main([*build, "--engine", "ray", "--json", str(tmp_path / "build.json")]) == 0
    for engine, workers in (("local", "1"), ("ray", "2")):
        out[engine] = tmp_path / f"dup-{engine}.json"
        args = ["index", "duplicates", "--index", str(index), "--engine", engine]
        args += ["--workers", workers]
        assert main([*args, "--json", str(out[engine])]) == 0
    local, remote = groups_and_pairs(out["local"]), groups_and_pairs(out["ray"])
    assert len(local["groups"]) >= 6
    assert remote == local
