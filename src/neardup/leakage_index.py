"""Leakage against a saved index: `neardup scan TEST --against-index IDX`.

The index is the reference set (a training set indexed once), the scanned paths the later
set. Each new image is compared with the stored images its nearest clusters propose (as
`index query` does, nothing stored), pairs within the new set are not leakage and are not
kept, and the summary counts the new images with a near-copy in the index at each preset
(an exact copy of a stored image, found by its bytes or pixels, is a pair of confidence 1, so
it leaks at every preset; `same_file` stays 0: the index holds no files of its own).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.differences import measure_reported
from neardup.engines.base import Engine
from neardup.groups import build_groups
from neardup.index.catalog import ImageIndex
from neardup.index.matching import classify
from neardup.index.neighbours import pairs_of
from neardup.pipeline import (
    Progress,
    compute_features,
    feature_config,
    local_engine,
    score_candidates,
    stage_progress,
)
from neardup.records import Leakage, Pair, ScanResult, SetLeakage, Stats
from neardup.scoring import PRESETS, threshold_for
from neardup.sources import collect
from neardup.sources.video import DEFAULT_SAMPLING, Sampling


def scan_against_index(
    paths: Sequence[str | Path],
    index_folder: str | Path,
    *,
    preset: str | None = None,
    threshold: float | None = None,
    cache: str | Path | bool | None = None,
    workers: int | None = None,
    verify: bool = True,
    differences: bool = True,
    floor: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    video: Sampling = DEFAULT_SAMPLING,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """The pairs (stored image, new image) at or above the cut and the leakage summary, in
    `scan`'s result shape (`result.leakage`: the index, then the scanned set). As in `scan`,
    `floor` also lists the pairs below the cut down to it (groups use the cut only),
    `max_pixels` refuses bigger pictures and `video` samples the frames of videos."""
    start = time.perf_counter()
    cut = threshold_for(preset, threshold)
    index = ImageIndex.open(index_folder)
    try:
        methods = index.settings.methods
        found = collect([str(p) for p in paths])
        engine = local_engine(engine, workers)
        config = dataclasses.replace(feature_config(methods, max_pixels), video=video)
        new, skipped, from_cache = compute_features(found.files, config, cache, engine, progress)
        entries, fresh, _ = classify(index, new)
        images = [*index.images, *new]
        offset = len(index.images)
        where = {f.key: offset + n for n, f in enumerate(new)}
        candidates = {
            (index.positions[row], where[fresh[n].key])
            for n, row in pairs_of(index.indexed_neighbours(fresh))
        }
        keep = cut if floor is None else min(cut, floor)
        low = min(keep, *PRESETS.values())  # every preset's count needs its pairs
        pairs = score_candidates(
            images,
            candidates,
            methods,
            cut,
            verify,
            engine,
            floor=low,
            check_at=min(cut, *PRESETS.values()),
            cache=cache,
            progress=progress,
        )
        for entry, f in zip(entries, new, strict=True):  # exact copies of stored images
            if entry.same_as is not None and entry.same_as in index.by_path:
                stored = index.positions[index.by_path[entry.same_as]]
                pairs.append(Pair(stored, where[f.key], 1.0, 1.0, {"exact": 1.0}, "exact"))
    finally:
        index.close()
    pairs = [p if p.a < offset else dataclasses.replace(p, a=p.b, b=p.a) for p in pairs]
    pairs = [p for p in pairs if p.a < offset <= p.b]
    later = SetLeakage(Path(str(paths[0])).name or str(paths[0]), [str(p) for p in paths], len(new))
    for name, value in PRESETS.items():
        later.leaking[name] = len({p.b for p in pairs if p.confidence >= value})
    kept = sorted((p for p in pairs if p.confidence >= keep), key=lambda p: -p.confidence)
    later.pairs = sum(p.confidence >= cut for p in kept)
    if differences:
        tell = stage_progress(progress, "differences")
        kept = measure_reported(images, kept, cut, engine, tell, cache=cache)
    reference = SetLeakage(Path(index_folder).name, [str(index_folder)], offset)
    labels = [0] * offset + [1] * len(new)
    groups = build_groups(images, kept, cut, sets=labels)
    stats = Stats(
        files_found=len(found.files) + len(found.skipped),
        images=len(new),
        skipped=len(found.skipped) + len(skipped),
        ignored=found.ignored,
        from_cache=from_cache,
        candidates=len(candidates),
        pairs=later.pairs,
        groups=len(groups),
        seconds={"total": round(time.perf_counter() - start, 3)},
    )
    settings: dict[str, object] = {
        "methods": list(methods),
        "threshold": cut,
        "preset": preset if threshold is None else None,
        "presets": dict(PRESETS),
        "index": str(index_folder),
        "verify": verify,
        "differences": differences,
        "max_pixels": max_pixels,
        "video": dataclasses.asdict(video),
        "keep_below": floor,
    }
    leakage = Leakage([reference, later], labels)
    return ScanResult(images, kept, groups, found.skipped + skipped, stats, settings, leakage)
