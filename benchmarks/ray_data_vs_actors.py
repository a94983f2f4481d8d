"""Ray Data `map_batches` (a callable class on an actor pool) against the Ray engine's own
actor pool, for the feature stage: same images, same chunks, same cluster, same run.

    pip install 'ray[data]'    # pandas and pyarrow, which neardup itself does not need
    python benchmarks/ray_data_vs_actors.py /tmp/evalray --images 256 --repeat 2

Both keep one ONNX session per actor (2 actors of one CPU). Rounds alternate the order (ABBA)
so a shared machine's load falls on both. Checks that both give the same features.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from functools import partial
from typing import Any

import numpy as np
import ray

from neardup.api import feature_config
from neardup.engines.base import Stage, no_state
from neardup.engines.ray import RayEngine
from neardup.features import FeatureConfig, extract_batch
from neardup.records import Features, FileRef, Skipped
from neardup.scoring import DEFAULT_METHODS
from neardup.sources import collect


def _features(config: FeatureConfig, _state: None, items: list[FileRef]) -> list[Any]:
    return extract_batch(items, config)


class FeatureBatch:
    """Ray Data's callable class: the session is made in `__init__`, once per actor."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        extract_batch([], config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        refs = [FileRef(str(p), int(s), int(m)) for p, s, m in zip(*batch.values(), strict=True)]
        return {"item": np.array(extract_batch(refs, self.config), dtype=object)}


def by_ray_data(files: list[FileRef], config: FeatureConfig, workers: int) -> list[Any]:
    rows = [{"path": f.path, "size": f.size, "mtime_ns": f.mtime_ns} for f in files]
    dataset = ray.data.from_items(rows).map_batches(
        FeatureBatch,
        fn_constructor_args=(config,),
        batch_size=16,
        concurrency=workers,
        num_cpus=1,
        batch_format="numpy",
    )
    return [row["item"] for row in dataset.iter_rows()]


def by_actors(files: list[FileRef], config: FeatureConfig, engine: RayEngine) -> list[Any]:
    stage: Stage[FileRef, None, Any] = Stage("features", no_state, partial(_features, config))
    out: dict[str, Any] = {}
    for chunk, found in engine.map(stage, files):
        out.update((ref.path, item) for ref, item in zip(chunk, found, strict=True))
    return [out[f.path] for f in files]


def same(a: list[Any], b: list[Any]) -> bool:
    def key(item: Features | Skipped) -> tuple[Any, ...]:
        if isinstance(item, Skipped):
            return (item.path, item.reason)
        return (item.path, item.bytes_hash, item.embeddings["sscd_distilled"].tobytes())

    return sorted(map(key, a)) == sorted(map(key, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()
    files = collect([args.folder]).files[: args.images]
    base = feature_config(DEFAULT_METHODS)
    config = FeatureConfig(pdq=base.pdq, models=base.models, decode=base.decode, threads=1)
    engine = RayEngine(args.workers)
    ray.data.DataContext.get_current().enable_progress_bars = False
    seconds: dict[str, list[float]] = {"actors": [], "ray_data": []}
    results: dict[str, list[Any]] = {}
    for round_ in range(args.repeat):
        order = ("actors", "ray_data") if round_ % 2 == 0 else ("ray_data", "actors")
        for name in order:
            start = time.perf_counter()
            if name == "actors":
                results[name] = by_actors(files, config, engine)
            else:
                results[name] = by_ray_data(files, config, args.workers)
            seconds[name].append(round(time.perf_counter() - start, 2))
    engine.close()
    report = {
        "images": len(files),
        "workers": args.workers,
        "seconds": seconds,
        "ray_data_over_actors": round(sum(seconds["ray_data"]) / sum(seconds["actors"]), 3),
        "same_features": same(results["actors"], results["ray_data"]),
        "load_average": os.getloadavg(),
        "ray": ray.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
