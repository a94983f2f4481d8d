"""The stages every front end drives, wired once: features, candidate scoring with the
geometric check, pixel confirmation.

    files --features--> Features (from the store where unchanged)
    candidate pairs --score--> Pair (per-method scores, fusion, the check where it can
                               change a verdict, pixel-identical pairs confirmed)

`scan`, the persistent index (`neardup.index.catalog`), `compare` and the benchmarks call
these and nothing else; an `Engine` decides where each batch stage runs. Candidates come
from `neardup.index.neighbours` (the one candidate search), groups from `neardup.groups`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from neardup import fusion
from neardup.checking import verify_pairs
from neardup.decode import DEFAULT_MAX_PIXELS, DecodeSpec, pixel_hash_of, too_many_pixels
from neardup.detail_check import DETAIL_EVIDENCE
from neardup.engines.base import Engine, Stage, no_state
from neardup.engines.local import LocalEngine
from neardup.features import FeatureConfig, extract_batch
from neardup.features.embed import EMBED_SIDE, MODELS
from neardup.features.exact import could_be_identical
from neardup.features.hashes import HASH_MIN_SIDE
from neardup.records import Features, FileRef, Pair, Skipped
from neardup.scoring import (
    ALL_METHODS,
    DEFAULT_METHODS,
    HASH_METHODS,
    Scored,
    Stacks,
    prepare_stacks,
    score_kept,
)
from neardup.see_through import shown_stacks
from neardup.sources.remote import read_bytes
from neardup.store import CacheSetting, open_store
from neardup.turned_views import turned_stacks
from neardup.video_store import video_features

SCORE_BLOCK = 8_192
"""Candidate pairs per scoring call: the engine spreads the blocks over its workers once there
are enough of them (a local engine from 24 blocks, about 200,000 pairs, on)."""
Progress = Callable[..., None]
"""Called as progress(done, total) while images are being read; one that takes a third
argument is called as progress(done, total, stage) instead, for every stage: "features"
(images), then "scoring", "check", "dense" (the check's pairs too smooth for keypoints),
"detail" (pairs of two pages of text) and "differences" (pairs)."""


def stage_progress(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    """`progress` told of `stage`, or None where it takes only (done, total)."""
    if progress is None:
        return None
    try:
        inspect.signature(progress).bind(0, 0, stage)
    except (TypeError, ValueError):
        return None
    return partial(_tell, progress, stage)


def _tell(progress: Progress, stage: str, done: int, total: int) -> None:
    progress(done, total, stage)


def parse_methods(methods: str | Sequence[str] | None) -> tuple[str, ...]:
    """Method names from "pdq,sscd" or a list; "default" means exact + pdq + sscd_distilled."""
    if methods is None:
        return DEFAULT_METHODS
    names = methods.split(",") if isinstance(methods, str) else list(methods)
    if not names:  # an empty list would leave exact copies alone, silently
        raise ValueError(f"no method given; choose from default, {', '.join(ALL_METHODS)}")
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
    if max_pixels <= 0:  # every file would be skipped as over the limit
        raise ValueError(f"max_pixels must be a positive number of pixels, got {max_pixels}")
    models = tuple(m for m in methods if m in MODELS)
    return FeatureConfig(
        pdq="pdq" in methods,
        imagehashes=tuple(m for m in methods if m in HASH_METHODS),
        models=models,
        inset_views=models,
        dark_views=models,
        decode=DecodeSpec(
            max_pixels=max_pixels,
            min_side=EMBED_SIDE if models else HASH_MIN_SIDE,
            straighten=True,
        ),
    )


def _extract(config: FeatureConfig, _state: None, files: list[FileRef]) -> list[Features | Skipped]:
    return extract_batch(files, config)


def compute_features(
    files: list[FileRef],
    config: FeatureConfig,
    cache: CacheSetting,
    engine: Engine,
    progress: Progress | None = None,
) -> tuple[list[Features], list[Skipped], int]:
    """Features for every file: from the store where unchanged, computed on the engine (and
    stored batch by batch, so an interrupted run resumes) otherwise. Returns the images, the
    skipped files and how many came from the store. Videos give one item per sampled frame,
    after the still images (`neardup.video_store`)."""
    videos = [ref for ref in files if ref.video]
    files = [ref for ref in files if not ref.video]
    store = open_store(cache)
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
        tell = stage_progress(progress, "features") or progress
        if tell:
            tell(from_cache, total)
        # One onnxruntime thread per worker where the work is spread over workers (a local
        # engine runs small jobs in this process; other engines always spread them).
        spread = not isinstance(engine, LocalEngine) or len(todo) >= 24
        threads = 1 if spread and engine.workers > 1 else engine.workers
        run_config = FeatureConfig(
            pdq=config.pdq,
            imagehashes=config.imagehashes,
            models=config.models,
            flip_views=config.flip_views,
            inset_views=config.inset_views,
            dark_views=config.dark_views,
            decode=config.decode,
            threads=threads,
        )
        stage: Stage[FileRef, None, Features | Skipped] = Stage(
            "features", no_state, partial(_extract, run_config), chunk=16
        )
        for chunk, out in engine.map(stage, todo):
            for ref, item in zip(chunk, out, strict=True):
                results[ref.path] = item
            if store is not None:
                store.put(zip(chunk, out, strict=True), needed)
            if tell:
                tell(len(results), total)
    finally:
        if store is not None:
            store.close()
    images: list[Features] = []
    skipped: list[Skipped] = []
    for ref in files:
        item = results[ref.path]
        (skipped if isinstance(item, Skipped) else images).append(item)  # type: ignore[arg-type]
    if videos:
        store = open_store(cache)
        try:
            frames, broken, stored = video_features(videos, config, engine.workers, store)
        finally:
            if store is not None:
                store.close()
        images += frames
        skipped += broken
        from_cache += stored
    return *_within_limit(images, skipped, config.decode.max_pixels), from_cache


def _within_limit(
    images: list[Features], skipped: list[Skipped], max_pixels: int
) -> tuple[list[Features], list[Skipped]]:
    """Images from the store were decoded under another `--max-pixels`: those over this run's
    limit are refused as a decode would refuse them (a video once, not per frame)."""
    over = [f for f in images if f.width * f.height > max_pixels]
    if not over:
        return images, skipped
    refused: dict[str, Skipped] = {}
    for f in over:
        reason = (
            too_many_pixels(f.width, f.height, max_pixels)
            if f.frame is None
            else f"video frames of {f.width} x {f.height} exceed --max-pixels"
        )
        refused.setdefault(f.path, Skipped(f.path, reason))
    return [f for f in images if f.path not in refused], skipped + list(refused.values())


def score_candidates(
    images: Sequence[Features],
    candidates: set[tuple[int, int]] | npt.NDArray[np.int64],
    methods: tuple[str, ...],
    cut: float,
    verify: bool,
    engine: Engine,
    *,
    floor: float | None = None,
    stacks: Stacks | None = None,
    check_at: float | None = None,
    cache: CacheSetting = False,
    progress: Progress | None = None,
    apart: list[tuple[int, int]] | None = None,
) -> list[Pair]:
    """Score every candidate; the geometric check runs where it can change the verdict at
    `cut` (and at `check_at` when lower: a leakage scan counts at every preset), its findings
    kept in and read from `cache`'s store (`neardup.pair_store`). Candidates
    are position pairs: a set, or an array of rows (a, b), a < b, each once. Returns the
    pairs at or above `cut` (or above `floor`, when given lower). `stacks`: features already
    stacked for all `images` (`neardup.scoring.prepare_stacks`). `apart` is given the pairs
    the words comparison showed to be two documents (for the grouping, `neardup.groups`)."""
    ordered = (
        candidates
        if isinstance(candidates, np.ndarray)
        else np.array(sorted(candidates), dtype=np.int64).reshape(-1, 2)
    )
    keep = cut if floor is None else min(cut, floor)
    scored: dict[tuple[int, int], Scored] = {}
    # In blocks, keeping only the pairs that can end above `keep`: memory grows with the
    # pairs kept, not with the candidates (some 8 million at a million images).
    # The check's verdict matters at `cut`, and at `check_at` too where given: it runs where
    # it could change either (`needs_geometry` is not monotone in the cut: a pair its hashes
    # settle above a low cut may still need the check below a higher one).
    cuts = (cut,) if check_at is None or check_at == cut else (cut, check_at)
    bands = [fusion.fitted().verify_band(c) for c in cuts]
    band = (min(b[0] for b in bands), max(b[1] for b in bands)) if verify else None
    # The images' stacked features are made once, here, and shared with the workers
    # (inherited by forked processes; shipped once per worker by other engines).
    stacks = prepare_stacks(images, methods, stacks)
    stacks.update(turned_stacks(images, ordered, methods, engine, cache, stacks))
    seen, shown = shown_stacks(images, ordered, methods, engine, cache, stacks)
    stacks.update(seen)
    stage: Stage[npt.NDArray[np.int64], ScoreState, list[tuple[int, Scored]]] = Stage(
        "scores",
        partial(_score_state, images, methods, stacks),
        partial(_score_blocks, keep, band),
        chunk=1,
    )
    blocks = [ordered[s : s + SCORE_BLOCK] for s in range(0, len(ordered), SCORE_BLOCK)]
    tell = stage_progress(progress, "scoring")
    done = 0
    for (block,), (kept,) in engine.map(stage, blocks):
        for at, s in kept:
            scored[int(block[at, 0]), int(block[at, 1])] = s
        done += len(block)
        if tell:
            tell(done, len(ordered))
    if verify:
        tell_check = stage_progress(progress, "check")
        tell_dense = stage_progress(progress, "dense")
        tell_detail = stage_progress(progress, "detail")
        verify_pairs(
            images,
            scored,
            methods,
            cuts,
            engine,
            cache=cache,
            shown=shown,
            progress=tell_check,
            dense_progress=tell_dense,
            detail_progress=tell_detail,
        )
    if apart is not None:
        apart.extend(pair for pair, s in scored.items() if s.evidence == DETAIL_EVIDENCE)
    return [
        Pair(a, b, s.similarity, s.confidence, s.scores, s.evidence)
        for (a, b), s in scored.items()
        if s.confidence >= keep
    ]


ScoreState = tuple[Sequence[Features], tuple[str, ...], Stacks]


def _score_state(
    images: Sequence[Features], methods: tuple[str, ...], stacks: Stacks
) -> ScoreState:
    return images, methods, stacks


def _score_blocks(
    keep: float,
    band: tuple[float, float] | None,
    state: ScoreState,
    blocks: list[npt.NDArray[np.int64]],
) -> list[list[tuple[int, Scored]]]:
    """The kept pairs of each block of candidates (`score_kept`), as (row in block, scores)."""
    images, methods, stacks = state
    return [
        score_kept(images, block, methods, keep=keep, band=band, stacks=stacks) for block in blocks
    ]


def confirm_pixels(
    images: Sequence[Features],
    pairs: list[Pair],
    methods: tuple[str, ...],
    cache: CacheSetting,
) -> None:
    """Make the pixel hash where DCT-scaled decoding skipped it and it could decide a pair.

    Only pairs of equal size, near-equal PDQ and near-equal thumbnails can be pixel-identical
    (`could_be_identical`), so the full-resolution decode happens for a few images, not all.
    The store keeps each hash made here for the next scan's same step, not as the image's
    own pixel hash: a rescan then finds the same pairs the first scan found.
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
    store = open_store(cache)
    try:
        for i in sorted(need):
            image = images[i]
            kept = (
                store.confirmed_pixel_hash(image.path, image.size, image.mtime_ns)
                if store is not None and image.frame is None
                else None
            )
            if kept is not None:
                image.pixel_hash = kept
                continue
            try:
                data = read_bytes(image.path)
            except OSError:
                continue
            image.pixel_hash = pixel_hash_of(data)
            if store is not None and image.pixel_hash:
                store.keep_confirmed_pixel_hash(
                    image.path, image.size, image.mtime_ns, image.pixel_hash
                )
    finally:
        if store is not None:
            store.close()
    for n, pair in enumerate(pairs):
        a, b = images[pair.a], images[pair.b]
        if (pair.a in need or pair.b in need) and a.pixel_hash and a.pixel_hash == b.pixel_hash:
            pairs[n] = Pair(pair.a, pair.b, 1.0, 1.0, pair.scores | {"exact": 1.0}, "exact")


def local_engine(engine: Engine | None, workers: int | None) -> Engine:
    """The engine to run on: the one given, else local processes (`workers`, default all)."""
    return engine if engine is not None else LocalEngine(workers)
