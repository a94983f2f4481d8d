"""The typed entry points the CLI wraps: `scan` (paths to scored groups) and `compare` (two images).

One pipeline for two images and for a million:
sources -> (feature store | decode + features) -> candidates -> scoring -> groups.
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from neardup.checking import verify_pairs
from neardup.compare_frames import pick_pair
from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.differences import measure_differences, measure_pairs
from neardup.engines.base import Engine
from neardup.groups import build_groups
from neardup.index.catalog import ImageIndex
from neardup.index.storage import Settings
from neardup.item_pixels import ref_of
from neardup.leakage import plan_sets, split_pairs
from neardup.method_scores import TURNED
from neardup.pipeline import (
    Progress,
    compute_features,
    feature_config,
    local_engine,
    parse_methods,
    stage_progress,
)
from neardup.records import Differences, ScanResult, Skipped, Stats
from neardup.scoring import (
    ALL_METHODS,
    EMBEDDING_METHODS,
    PRESETS,
    prepare_stacks,
    score_pairs,
    threshold_for,
)
from neardup.see_through import shown_stacks
from neardup.sources import collect_sources, one_or_many
from neardup.sources.remote import is_url
from neardup.sources.video import DEFAULT_SAMPLING, Sampling
from neardup.store import CacheSetting
from neardup.turned_views import turned_stacks


def scan(
    paths: str | Path | Iterable[str | Path],
    *,
    methods: str | Sequence[str] | None = None,
    preset: str | None = None,
    threshold: float | None = None,
    cache: CacheSetting = None,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    verify: bool = True,
    progress: Progress | None = None,
    floor: float | None = None,
    engine: Engine | None = None,
    video: Sampling = DEFAULT_SAMPLING,
    differences: bool | str = "auto",
    against: str | Path | Sequence[str | Path] | None = None,
) -> ScanResult:
    """Find exact and near-duplicate images under `paths` (files or folders, recursively; one
    path may be given as it is).

    The images are put in an index held in memory and asked for their duplicate groups:
    the very stages `neardup index build` + `index duplicates` run, so both give the same
    groups. Returns every pair whose confidence is at or above the threshold (a preset's cut
    unless given) with its per-method scores, similarity and confidence, the groups (every
    found pair kept, no chains: `neardup.groups`), and every file that could not be used,
    with why. `verify` runs the geometric check (`neardup.verify`) where it can change a
    verdict. `floor` (for evaluation) also returns scored pairs below the cut, down to that
    confidence; groups are made from pairs at or above the cut only. `engine` runs the batch
    stages (default: local processes, `workers` of them). Videos are read as items at the
    frames `video` samples, so runs of near-identical frames come out as groups.
    `differences` measures how the two pictures of a pair differ (`neardup.differences`):
    "groups" (or True) on the pair that puts each member in its group, "all" on every
    reported pair, "none" (or False) on none; "auto" (the default) is "groups" unless the
    methods are hashes alone (`--method pdq`: the fast pass finds, it does not describe).
    `against`:
    later sets (splits) whose near-copies of `paths` (the reference set) are leakage; only
    pairs across sets are kept, and `result.leakage` counts the leaking images
    (`neardup.leakage`).
    """
    paths = one_or_many(paths)  # one folder or file, not the letters of its name
    against = one_or_many(against) if against is not None else None
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be at least 1, got {workers}")
    if differences not in (True, False, "auto", "groups", "all", "none"):
        raise ValueError(f"differences={differences!r}: choose auto, groups, all or none")
    differences = False if differences == "none" else differences
    method_names = parse_methods(methods)
    if differences == "auto":
        differences = "groups" if any(m in EMBEDDING_METHODS for m in method_names) else False
    cut = threshold_for(preset, threshold)
    if floor is not None and (
        isinstance(floor, bool) or not isinstance(floor, numbers.Real) or not 0.0 <= floor <= 1.0
    ):
        raise ValueError(f"floor must be a confidence in [0, 1], got {floor!r}")  # NaN too
    floor = None if floor is None else float(floor)  # written into the JSON settings
    run_on = local_engine(engine, workers)
    clock = _Clock()
    sets = plan_sets([str(p) for p in paths], [str(p) for p in against]) if against else None
    found = collect_sources(sets.every_path if sets else [str(p) for p in paths])
    clock.lap("collect")
    config = replace(feature_config(method_names, max_pixels), video=video)
    images, skipped, from_cache = compute_features(found.files, config, cache, run_on, progress)
    skipped = found.skipped + skipped
    clock.lap("features")
    model = next((m for m in method_names if m in config.models), "")
    index = ImageIndex.in_memory(Settings(methods=method_names, model=model, threshold=cut))
    try:
        index.take(images, store=True, engine=run_on, match_batch=False)
        clock.lap("index")
        keep = cut if floor is None else min(cut, floor)
        low = min(keep, *PRESETS.values()) if sets else floor  # each preset's count needs it
        # A leakage scan counts at every preset: the check runs where it can change the
        # verdict at the loosest, so the counts do not depend on the preset given.
        found_pairs = index.duplicates(
            engine=run_on,
            verify=verify,
            floor=low,
            cache=cache,
            check_at=low if sets else None,
            progress=progress,
        )
    finally:
        index.close()
    # The duplicates call's own split: candidates, scoring (with the check), groups.
    clock.laps.update({k: v for k, v in found_pairs.stats.seconds.items() if k != "total"})
    leaks = None
    if sets:  # only pairs across sets, grouped again
        pairs, leaks = split_pairs(  # counted at the cut: --keep-below keeps, not counts
            sets, found.files, found_pairs.images, found_pairs.pairs, PRESETS, keep, count_at=cut
        )
        found_pairs.pairs = pairs
        found_pairs.groups = build_groups(
            found_pairs.images, pairs, cut, sets=leaks.labels, apart=found_pairs.apart
        )
    if differences:
        start = time.perf_counter()
        found_pairs.pairs = measure_differences(
            found_pairs,
            cut,
            run_on,
            every=differences == "all",
            progress=stage_progress(progress, "differences"),
            cache=cache,
        )
        clock.laps["differences"] = round(time.perf_counter() - start, 3)
    clock.laps["total"] = round(time.perf_counter() - clock.start, 3)
    stats = Stats(
        files_found=len(found.files) + len(found.skipped),
        images=len(found_pairs.images),
        skipped=len(skipped),
        ignored=found.ignored,
        from_cache=from_cache,
        candidates=found_pairs.stats.candidates,
        pairs=sum(p.confidence >= cut for p in found_pairs.pairs),  # not those kept below
        groups=len(found_pairs.groups),
        seconds=clock.laps,
    )
    settings: dict[str, object] = {
        "methods": list(method_names),
        "threshold": cut,
        "preset": preset if threshold is None else None,
        "presets": dict(PRESETS),
        "max_pixels": max_pixels,
        "verify": verify,
        "decode": asdict(config.decode),
        "video": asdict(video),
        "differences": "all" if differences == "all" else "groups" if differences else False,
        "keep_below": floor,
        "clusters": found_pairs.settings.get("clusters", 0),
        "folders": scanned_folders([*map(str, paths), *map(str, against or [])]),
    }
    skipped.sort(key=lambda s: s.path)
    return ScanResult(
        found_pairs.images,
        found_pairs.pairs,
        found_pairs.groups,
        skipped,
        stats,
        settings,
        leaks,
        found_pairs.apart,
    )


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.laps["total"] = round(now - self.start, 3)
        self.last = now


def scanned_folders(given: Sequence[str]) -> list[str]:
    """The folders a scan was given, as given (a file given counts by its folder; a URL as
    is): where `act` may make its holding folder (`settings.folders`)."""
    out = []
    for path in given:
        folder = path if is_url(path) or os.path.isdir(path) else os.path.dirname(path) or "."
        out.append(folder)
    return list(dict.fromkeys(out))


FOLDER_GIVEN = "a folder, not a file: compare takes two files (scan takes folders)"


def compare(
    a: str | Path,
    b: str | Path,
    *,
    methods: str | Sequence[str] | None = None,
    cache: CacheSetting = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    video: Sampling = DEFAULT_SAMPLING,
) -> Comparison:
    """How similar two images are by every method, how likely a copy, and the verdict at each
    preset. A video on either side is compared by its frame most like the other side.

    Every method is computed and reported; similarity and confidence use `methods` (the scan
    default unless given) and come out of the stages a scan runs (`checking.verify_pairs`,
    in this process, at every preset's cut), so they are the numbers a scan of the two
    reports for the pair before grouping (its own confidence). In a larger scan two pages may
    be settled from other pairs' comparison of their words instead (`neardup.detail_rounds`).
    """
    fused_methods = parse_methods(methods)
    every = tuple(dict.fromkeys((*fused_methods, *ALL_METHODS)))
    folders = [Skipped(str(p), FOLDER_GIVEN) for p in (a, b) if Path(p).is_dir()]
    if folders:  # collecting would read the folder's files as if they were the two sides
        return Comparison(str(a), str(b), None, None, {}, "", {}, folders, False)
    found = collect_sources([str(a), str(b)])
    config = replace(feature_config(every, max_pixels), video=video)
    images, skipped, _ = compute_features(found.files, config, cache, local_engine(None, 1))
    skipped = found.skipped + skipped
    if len(found.files) == 1 and found.aliases and images:
        same, verdicts = {"exact": 1.0}, dict.fromkeys(PRESETS, True)
        identical = Differences(("identical file",), "file")
        return Comparison(
            str(a), str(b), 1.0, 1.0, same, "same file", verdicts, skipped, True,
            differences=identical,
        )  # fmt: skip
    sides = [[f for f in images if f.path == ref.path] for ref in found.files]
    picked = pick_pair(*sides) if len(sides) == 2 else None  # a video: its best frame
    if picked is None:
        return Comparison(str(a), str(b), None, None, {}, "", {}, skipped, False)
    fa, fb = picked
    # The very stages a scan of the two runs, in this process: a picture turned a quarter
    # embedded again (`neardup.turned_views`), a see-through one shown over its copy's colour
    # (`neardup.see_through`), then `checking.verify_pairs`.
    stacks = prepare_stacks([fa, fb], every)
    engine = local_engine(None, 1)
    stacks.update(turned_stacks([fa, fb], [(0, 1)], every, engine, cache, stacks, fused_methods))
    seen, shown = shown_stacks([fa, fb], [(0, 1)], every, engine, cache, stacks)
    stacks.update(seen)
    scored = score_pairs([fa, fb], [(0, 1)], every, stacks=stacks)[0]
    fused_pairs = {(0, 1): score_pairs([fa, fb], [(0, 1)], fused_methods, stacks=stacks)[0]}
    cuts = tuple(PRESETS.values())
    verify_pairs([fa, fb], fused_pairs, fused_methods, cuts, engine, cache=cache, shown=shown)
    fused = fused_pairs[0, 1]
    # Every method's score as scored, and what the stages added (geometry, spot, words, part).
    # Whether the pair was read upright is the fused methods' reading (`turned`).
    added = {m: v for m, v in fused.scores.items() if m not in scored.scores or m == TURNED}
    kept = {m: v for m, v in scored.scores.items() if m != TURNED}
    scored = replace(scored, scores=kept | added)
    items = (ref_of(fa.path, fa.frame), ref_of(fb.path, fb.frame))
    verdicts = {name: fused.confidence >= cut for name, cut in PRESETS.items()}
    return Comparison(
        fa.path,
        fb.path,
        fused.similarity,
        fused.confidence,
        scored.scores,
        fused.evidence,
        verdicts,
        skipped,
        False,
        (fa.frame, fa.time),
        (fb.frame, fb.time),
        measure_pairs([items])[0],
    )


@dataclass(slots=True)
class Comparison:
    """The answer to `neardup compare A B`."""

    a: str
    b: str
    similarity: float | None
    """How alike, in [0, 1] (1 only for identical pixels), or None when either image could
    not be read."""
    confidence: float | None
    """Calibrated probability that the pair is a copy (presets are cuts on it)."""
    scores: dict[str, float]
    evidence: str
    verdicts: dict[str, bool]
    """Preset name -> whether the pair counts as a duplicate at that preset."""
    skipped: list[Skipped]
    same_file: bool
    """Both paths name one file (a link): trivially identical, not a duplicate."""
    a_frame: tuple[int | None, float | None] = (None, None)
    """For a video: the frame compared (index, time in seconds), the one most like the other
    side (`neardup.compare_frames`); (None, None) for a still image."""
    b_frame: tuple[int | None, float | None] = (None, None)
    differences: Differences | None = None
    """How b differs from a, measured (`neardup.differences`); None when not measured."""
