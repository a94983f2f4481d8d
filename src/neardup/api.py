"""The typed entry points the CLI wraps: `scan` (paths to scored groups) and `compare` (two images).

One pipeline for two images and for a million:
sources -> (feature store | decode + features) -> candidates -> scoring -> groups.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from neardup.candidates import candidate_pairs
from neardup.decode import DEFAULT_MAX_PIXELS, DecodeSpec, pixel_hash_of
from neardup.engines.local import LocalEngine, default_workers, map_batches
from neardup.features import FeatureConfig, extract_batch
from neardup.features.embed import EMBED_SIDE, MODELS
from neardup.features.exact import could_be_identical
from neardup.features.hashes import HASH_MIN_SIDE
from neardup.groups import build_groups
from neardup.records import Features, FileRef, Pair, ScanResult, Skipped, Stats
from neardup.scoring import (
    ALL_METHODS,
    DEFAULT_METHODS,
    HASH_METHODS,
    PRESETS,
    Scored,
    add_geometry,
    add_geometry_many,
    needs_geometry,
    score_pair,
    score_pairs,
    threshold_for,
)
from neardup.sources import collect
from neardup.store import FeatureStore, default_cache_path
from neardup.verify import VERIFY, by_image, check_pairs

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while images are being read."""

CacheSetting = str | Path | bool | None
"""A cache file path, True/None for the default cache, False for no cache."""


def parse_methods(methods: str | Sequence[str] | None) -> tuple[str, ...]:
    """Method names from "pdq,sscd" or a list; "default" means exact + pdq + sscd_distilled."""
    if methods is None:
        return DEFAULT_METHODS
    names = methods.split(",") if isinstance(methods, str) else list(methods)
    out: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        expanded = DEFAULT_METHODS if name in ("default", "fusion") else (name,)
        for method in expanded:
            if method not in ALL_METHODS:
                raise ValueError(
                    f"unknown method {method!r}; choose from default, {', '.join(ALL_METHODS)}"
                )
            if method not in out:
                out.append(method)
    if "exact" not in out:
        out.insert(0, "exact")  # free: the hashes are made while reading anyway
    return tuple(out)


def feature_config(methods: tuple[str, ...], max_pixels: int = DEFAULT_MAX_PIXELS) -> FeatureConfig:
    """What to compute for `methods`; hashes alone need a smaller decode than the models."""
    models = tuple(m for m in methods if m in MODELS)
    return FeatureConfig(
        pdq="pdq" in methods,
        imagehashes=tuple(m for m in methods if m in HASH_METHODS),
        models=models,
        decode=DecodeSpec(max_pixels=max_pixels, min_side=EMBED_SIDE if models else HASH_MIN_SIDE),
    )


def scan(
    paths: Iterable[str | Path],
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
) -> ScanResult:
    """Find exact and near-duplicate images under `paths` (files or folders, recursively).

    Returns every pair whose confidence is at or above the threshold (a preset's cut unless
    given) with its per-method scores, similarity and confidence, the groups (every found
    pair kept, no chains: `neardup.groups`), and every file that could not be used, with why.
    `verify` runs the geometric check (`neardup.verify`) where it can change a verdict.
    `floor` (for evaluation) also returns scored pairs below the cut, down to that confidence;
    groups are made from pairs at or above the cut only.
    """
    method_names = parse_methods(methods)
    cut = threshold_for(preset, threshold)
    clock = _Clock()
    found = collect([str(p) for p in paths])
    clock.lap("collect")
    config = feature_config(method_names, max_pixels)
    images, skipped, from_cache = compute_features(found.files, config, cache, workers, progress)
    skipped = found.skipped + skipped
    clock.lap("features")

    candidates = candidate_pairs(images, method_names)
    clock.lap("candidates")
    pairs = score_candidates(images, candidates, method_names, cut, verify, workers, floor=floor)
    _confirm_pixels(images, pairs, method_names, cut, cache)
    pairs.sort(key=lambda p: (-p.confidence, images[p.a].path, images[p.b].path))
    clock.lap("scoring")
    groups = build_groups(images, pairs, cut)
    clock.lap("groups")

    stats = Stats(
        files_found=len(found.files) + len(found.skipped),
        images=len(images),
        skipped=len(skipped),
        ignored=found.ignored,
        from_cache=from_cache,
        candidates=len(candidates),
        pairs=len(pairs),
        groups=len(groups),
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
    }
    skipped.sort(key=lambda s: s.path)
    return ScanResult(images, pairs, groups, skipped, stats, settings)


def compute_features(
    files: list[FileRef],
    config: FeatureConfig,
    cache: CacheSetting,
    workers: int | None,
    progress: Progress | None,
) -> tuple[list[Features], list[Skipped], int]:
    """Features for every file: from the store where unchanged, computed (and stored) otherwise."""
    store = _open_store(cache)
    needed = config.names()
    results: dict[str, Features | Skipped] = {}
    todo: list[FileRef] = []
    try:
        if store is None:
            todo = list(files)
        else:
            for ref, cached in store.lookup(files, needed):
                if cached is None:
                    todo.append(ref)
                else:
                    results[ref.path] = cached
        from_cache = len(results)
        total = len(files)
        if progress:
            progress(from_cache, total)
        workers = workers or default_workers()
        threads = 1 if len(todo) >= 24 and workers > 1 else workers
        run_config = FeatureConfig(
            pdq=config.pdq,
            imagehashes=config.imagehashes,
            models=config.models,
            flip_views=config.flip_views,
            decode=config.decode,
            threads=threads,
        )
        for chunk, out in map_batches(extract_batch, todo, run_config, workers=workers):
            for ref, item in zip(chunk, out, strict=True):
                results[ref.path] = item
            if store is not None:
                store.put(zip(chunk, out, strict=True), needed)
            if progress:
                progress(len(results), total)
    finally:
        if store is not None:
            store.close()
    images: list[Features] = []
    skipped: list[Skipped] = []
    for ref in files:
        item = results[ref.path]
        (skipped if isinstance(item, Skipped) else images).append(item)  # type: ignore[arg-type]
    return images, skipped, from_cache


def _open_store(cache: CacheSetting) -> FeatureStore | None:
    if cache is False:
        return None
    path = default_cache_path() if cache is None or cache is True else Path(cache)
    return FeatureStore(path)


def score_candidates(
    images: list[Features],
    candidates: set[tuple[int, int]],
    methods: tuple[str, ...],
    cut: float,
    verify: bool,
    workers: int | None = None,
    *,
    floor: float | None = None,
) -> list[Pair]:
    """Score every candidate; the geometric check runs where it can change the verdict at
    `cut`. Returns the pairs at or above `cut` (or above `floor`, when given lower)."""
    ordered = sorted(candidates)
    scored = dict(zip(ordered, score_pairs(images, ordered, methods), strict=True))
    if verify:
        verify_pairs(images, scored, methods, cut, workers)
    keep = cut if floor is None else min(cut, floor)
    return [
        Pair(a, b, s.similarity, s.confidence, s.scores, s.evidence)
        for (a, b), s in scored.items()
        if s.confidence >= keep
    ]


def verify_pairs(
    images: list[Features],
    scored: dict[tuple[int, int], Scored],
    methods: tuple[str, ...],
    cut: float,
    workers: int | None = None,
) -> None:
    """Run the geometric check on the pairs where it can change the verdict at `cut`."""
    borderline = sorted(pair for pair, s in scored.items() if needs_geometry(s, cut))
    by_paths = {(images[a].path, images[b].path): (a, b) for a, b in borderline}
    jobs = by_image(list(by_paths), VERIFY.chunk)
    checked = []
    for chunk, found in LocalEngine(workers).map(VERIFY, jobs):
        for paths, geometry in zip(chunk, found, strict=True):
            if geometry is not None:
                pair = by_paths[paths]
                check = (geometry.score, geometry.aligned, geometry.agree, geometry.inliers)
                checked.append((pair, scored[pair], check))
    for (pair, _, _), rescored in zip(
        checked, add_geometry_many(images, checked, methods), strict=True
    ):
        scored[pair] = rescored


def _confirm_pixels(
    images: list[Features],
    pairs: list[Pair],
    methods: tuple[str, ...],
    cut: float,
    cache: CacheSetting,
) -> None:
    """Make the pixel hash where DCT-scaled decoding skipped it and it could decide a pair.

    Only pairs of equal size, near-equal PDQ and near-equal thumbnails can be pixel-identical
    (`could_be_identical`), so the full-resolution decode happens for a few images, not all.
    """
    if "exact" not in methods:
        return
    need: set[int] = set()
    for pair in pairs:
        a, b = images[pair.a], images[pair.b]
        if pair.scores.get("exact", 0.0) >= 1.0 or (a.pixel_hash and b.pixel_hash):
            continue
        if pair.similarity >= 0.95 and could_be_identical(a, b, pair.scores.get("pdq")):
            need.update(i for i in (pair.a, pair.b) if images[i].pixel_hash is None)
    if not need:
        return
    store = _open_store(cache)
    try:
        for i in need:
            try:
                data = Path(images[i].path).read_bytes()
            except OSError:
                continue
            images[i].pixel_hash = pixel_hash_of(data)
            if store is not None and images[i].pixel_hash:
                store.update_pixel_hash(images[i].path, images[i].pixel_hash or "")
    finally:
        if store is not None:
            store.close()
    for n, pair in enumerate(pairs):
        a, b = images[pair.a], images[pair.b]
        if (pair.a in need or pair.b in need) and a.pixel_hash and a.pixel_hash == b.pixel_hash:
            pairs[n] = Pair(pair.a, pair.b, 1.0, 1.0, pair.scores | {"exact": 1.0}, "exact")


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.laps["total"] = round(now - self.start, 3)
        self.last = now


def compare(
    a: str | Path,
    b: str | Path,
    *,
    methods: str | Sequence[str] | None = None,
    cache: CacheSetting = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Comparison:
    """How similar two images are by every method, how likely a copy, and the verdict at each
    preset.

    Every method is computed and reported; similarity and confidence use `methods` (the scan
    default unless given), so they are the numbers `scan` would report for this pair.
    """
    fused_methods = parse_methods(methods)
    every = tuple(dict.fromkeys((*fused_methods, *ALL_METHODS)))
    found = collect([str(a), str(b)])
    config = feature_config(every, max_pixels)
    images, skipped, _ = compute_features(found.files, config, cache, 1, None)
    skipped = found.skipped + skipped
    if len(images) == 1 and found.aliases:
        same = {"exact": 1.0}
        return Comparison(str(a), str(b), 1.0, 1.0, same, "same file", {}, skipped, True)
    if len(images) != 2:
        return Comparison(str(a), str(b), None, None, {}, "", {}, skipped, False)
    fa, fb = images
    scored = score_pair(fa, fb, every)
    fused = score_pair(fa, fb, fused_methods)
    if any(needs_geometry(fused, cut) for cut in PRESETS.values()):
        geometry = check_pairs([(fa.path, fb.path)])[0]
        if geometry is not None:
            check = (geometry.score, geometry.aligned, geometry.agree, geometry.inliers)
            fused = add_geometry(fused, check, fused_methods, fa, fb)
            scored = Scored(
                scored.similarity,
                scored.confidence,
                scored.scores | {m: fused.scores[m] for m in ("geometry", "aligned", "agree")},
                scored.evidence,
            )
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
