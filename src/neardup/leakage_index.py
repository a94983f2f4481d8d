"""Leakage against a saved index: `neardup scan TEST [VAL ...] --against-index IDX`.

The index is the reference set (a training set indexed once); each scanned folder is a later
set of its own, named and ordered as `--against` makes its later sets, and the files given
one by one (a glob, a list on stdin) are one set. Each new image is
compared with the stored images its nearest clusters propose (as `index query` does, nothing
stored) and, with more than one later set, with the other sets' new images; pairs within one
set are not leakage and are not kept. The summary counts, per later set and preset, its images
with a near-copy in an earlier set (an exact copy of a stored image, found by its bytes or
pixels, is a pair of confidence 1, so it leaks at every preset).

A scanned file that is a file the index holds (the same path written another way, a link to
it, a hard link) is the index's own image, as `--against` reads a file two sets hold once: it
is in no pair (whose `b` one would drop, removing the indexed file), it is counted in
`same_file` and named in `same_files`, and it leaks at every preset.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from neardup.api import scanned_folders
from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.differences import measure_reported
from neardup.engines.base import Engine
from neardup.groups import build_groups
from neardup.index.catalog import ImageIndex
from neardup.index.health import UNFINISHED
from neardup.index.matching import classify, stored_rows
from neardup.index.neighbours import pairs_of, pairs_within
from neardup.index.report import Entry
from neardup.index.storage import build_unfinished, read_meta
from neardup.leakage import (
    across_sets,
    file_key,
    label_images,
    plan_index_sets,
    same_files,
    summarise,
)
from neardup.pipeline import (
    Progress,
    compute_features,
    feature_config,
    local_engine,
    score_candidates,
    stage_progress,
)
from neardup.records import (
    Features,
    FileRef,
    Leakage,
    Pair,
    ScanResult,
    SetLeakage,
    Stats,
    item_key,
)
from neardup.scoring import PRESETS, threshold_for
from neardup.sources import collect, is_url
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
    """The pairs (earlier image, later image) at or above the cut and the leakage summary, in
    `scan`'s result shape (`result.leakage`: the index, then one set per scanned path). As in
    `scan`, `floor` also lists the pairs below the cut down to it (groups use the cut only),
    `max_pixels` refuses bigger pictures and `video` samples the frames of videos."""
    start = time.perf_counter()
    cut = threshold_for(preset, threshold)
    given = [str(p) for p in paths]
    sets = plan_index_sets(str(index_folder), given)
    index = ImageIndex.open(index_folder)
    try:
        if build_unfinished(read_meta(index.db)):  # said as the index commands say it
            print(f"neardup: warning: {index_folder}: {UNFINISHED}", file=sys.stderr)
        methods = index.settings.methods
        found = collect(given)
        engine = local_engine(engine, workers)
        config = dataclasses.replace(feature_config(methods, max_pixels), video=video)
        new, skipped, from_cache = compute_features(found.files, config, cache, engine, progress)
        entries, fresh, _ = classify(index, new)
        images = [*index.images, *new]
        offset = len(index.images)
        key_of = {f.path: file_key(f) for f in found.files}
        labels = [0] * offset + label_images(sets, key_of, new, default=1)
        indexed = _indexed_files(index, images, new, entries, found.files)
        for n in indexed:  # the index's own file is in the index's set, as in --against
            labels[offset + n] = 0  # a file two sets hold is in the first
        where = {f.key: offset + n for n, f in enumerate(new)}
        candidates = {
            (index.positions[row], where[fresh[n].key])
            for n, row in pairs_of(index.indexed_neighbours(fresh))
        }
        if len(sets.names) > 2:  # a later set's copies of an earlier scanned set's images
            candidates |= {
                (offset + i, offset + j)
                for i, j in pairs_within(new, methods, index.settings.model)
                if labels[offset + i]
                and labels[offset + j]  # not the index's own files
                and labels[offset + i] != labels[offset + j]
            }
        keep = cut if floor is None else min(cut, floor)
        low = min(keep, *PRESETS.values())  # every preset's count needs its pairs
        apart: list[tuple[int, int]] = []  # told apart by their words (`neardup.groups`)
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
            apart=apart,
        )
        for entry, f in zip(entries, new, strict=True):  # exact copies of stored images
            if entry.same_as is not None and entry.same_as in index.by_path:
                stored = index.positions[index.by_path[entry.same_as]]
                pairs.append(Pair(stored, where[f.key], 1.0, 1.0, {"exact": 1.0}, "exact"))
    finally:
        index.close()
    across = across_sets(pairs, labels)
    summary = [
        SetLeakage(name, folders, 0) for name, folders in zip(sets.names, sets.paths, strict=True)
    ]
    summary[0].images = offset
    for label in labels[offset:]:
        if label:
            summary[label].images += 1
    names = [indexed.get(n, f.path) for n, f in enumerate(new)]
    same = same_files(sets, key_of, new, labels[offset:], names)
    summarise(summary, across, labels, images, same, PRESETS, cut)
    kept = sorted((p for p in across if p.confidence >= keep), key=lambda p: -p.confidence)
    if differences:
        tell = stage_progress(progress, "differences")
        kept = measure_reported(images, kept, cut, engine, tell, cache=cache)
    groups = build_groups(images, kept, cut, sets=labels, apart=apart)
    stats = Stats(
        files_found=len(found.files) + len(found.skipped),
        images=len(new),
        skipped=len(found.skipped) + len(skipped),
        ignored=found.ignored,
        from_cache=from_cache,
        candidates=len(candidates),
        pairs=sum(p.confidence >= cut for p in kept),
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
        "folders": scanned_folders(given),
    }
    leakage = Leakage(summary, labels)
    return ScanResult(images, kept, groups, found.skipped + skipped, stats, settings, leakage)


def _indexed_files(
    index: ImageIndex,
    images: Sequence[Features],
    new: Sequence[Features],
    entries: Sequence[Entry],
    files: Sequence[FileRef],
) -> dict[int, str]:
    """New image (position in `new`) -> the index's path for it, for each new image whose
    file the index holds: stored under the path as given, absolute or with links resolved,
    or under another name of the same file (a link, a hard link), which only an exact copy
    of a stored image can be, so only those are looked at (a stat each, not one per stored
    image)."""
    by_path = {f.path: f for f in files}
    copies: dict[int, list[str]] = {}  # row -> the exact copies the index recorded for it
    for path, row in index.aliases.items():
        copies.setdefault(row, []).append(path)
    asked = {n: [item_key(name, f.frame) for name in _spellings(f.path)] for n, f in enumerate(new)}
    stored = stored_rows(index.by_path, [k for keys in asked.values() for k in keys])
    out: dict[int, str] = {}
    for n, (f, entry) in enumerate(zip(new, entries, strict=True)):
        ref = by_path.get(f.path)
        if ref is None:
            continue
        names = [images[index.positions[stored[k]]].path for k in asked[n] if k in stored]
        names += [k for k in asked[n] if k in index.aliases]
        if entry.same_as is not None and entry.same_as in index.by_path:
            row = index.by_path[entry.same_as]
            names += [images[index.positions[row]].path, *copies.get(row, [])]
        hit = next((name for name in names if _is_file(name, ref)), None)
        if hit is not None:
            out[n] = hit
    return out


def _spellings(path: str) -> list[str]:
    """The ways an index may have stored `path`: as given, absolute (`index build` stores
    absolute paths), with every link resolved."""
    if is_url(path):
        return [path]
    return list(dict.fromkeys([path, os.path.abspath(path), os.path.realpath(path)]))


def _is_file(stored: str, ref: FileRef) -> bool:
    """Whether the stored path names the very file `ref` is (its device and inode now)."""
    if is_url(stored) or is_url(ref.path):
        return stored == ref.path
    try:
        st = os.stat(stored)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (ref.dev, ref.inode)
