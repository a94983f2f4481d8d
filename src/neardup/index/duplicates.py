"""Every duplicate group in an index: each stored image's candidates from the one candidate
search (its clusters, its hashes, its exact copies), scored and grouped by the pipeline's
stages, exact copies (aliases) added back. `scan` is this, on an index of the scanned images."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup.engines.base import Engine
from neardup.engines.local import LocalEngine
from neardup.group_confidence import HOLD, grouped_confidence, maps, maps_for
from neardup.groups import build_groups
from neardup.index.heap import trim_freed_heap
from neardup.index.lazy import Followed
from neardup.index.nearest import most
from neardup.index.neighbours import pairs_within
from neardup.index.stored_search import all_pairs_probes, stored_candidates, stored_stacks
from neardup.index.view import IndexView
from neardup.pipeline import Progress, confirm_pixels, score_candidates
from neardup.records import Features, Pair, ScanResult, Stats
from neardup.scoring import PRESETS, threshold_for
from neardup.store import CacheSetting

I64 = npt.NDArray[np.int64]


def all_duplicates(
    index: IndexView,
    engine: Engine,
    *,
    threshold: float | None = None,
    preset: str | None = None,
    verify: bool = True,
    floor: float | None = None,
    cache: CacheSetting = False,
    check_at: float | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Every duplicate group in the index, found cluster by cluster, in scan's schema.
    `check_at`: a lower cut at which the geometric check's verdicts matter too.

    `floor` (for evaluation) also returns scored pairs below the cut, down to that
    confidence; groups are made from pairs at or above the cut only."""
    start = time.perf_counter()
    cut = (
        index.settings.threshold
        if threshold is None and preset is None
        else threshold_for(preset, threshold)
    )
    methods = index.settings.methods
    if check_at is None:
        maps()  # a map file of your own that cannot be read stops the scan here, not at its end
    trim_freed_heap()  # this pass is the peak: not on top of what earlier work freed
    # Scoring and the candidate search read arrays stacked from the rows; only the images
    # in a kept pair are decoded. An index in memory (`scan`'s) holds every image decoded
    # already, and a distributed engine's workers are sent them: those get a list.
    stacks = stored_stacks(index)
    lazy = isinstance(engine, LocalEngine) and index.folder != Path(":memory:")
    images: Sequence[Features] = index.images if lazy else list(index.images)
    candidates = candidate_pairs(stored_candidates(index, stacks, engine), len(images))
    count = len(candidates)
    found = time.perf_counter()
    apart: list[tuple[int, int]] = []  # told apart by their words (`neardup.group_stars`)
    # Below the cut, pairs the grouping may join from `HOLD` up: kept until the groups are made
    # (and, with a higher `floor`, then dropped unless they reach the cut).
    held = check_at is None and maps_for(cut, methods) is not None
    keep_from = (HOLD if floor is None else min(HOLD, floor)) if held else floor
    pairs: list[Pair] = score_candidates(
        images,
        candidates,
        methods,
        cut,
        verify,
        engine,
        floor=keep_from,
        stacks=stacks,
        check_at=check_at,
        cache=cache,
        progress=progress,
        apart=apart,
    )
    del stacks, candidates
    confirm_pixels(images, pairs, methods, cache)
    images, pairs = with_aliases(index, images, pairs)
    scored = time.perf_counter()
    keepers: list[Pair] = []  # keeper pairs step 6 scored at the cut: found pairs too
    score = partial(_score_now, images, methods, cut, verify, engine, cache, keepers)
    near = partial(_near_keepers, images, methods, index.settings.model)
    groups = build_groups(
        images, pairs, cut, score_now=score, near_keepers=near, bound=most(), apart=apart
    )
    # A keeper pair scored now among its images alone may be held below the cut already.
    pairs = strongest(pairs + keepers) if keepers else pairs
    # Each pair's confidence read with its groups: the pairs the grouping kept apart are far
    # less often copies than their own evidence says (`neardup.group_confidence`). Not in a
    # leakage scan (`check_at`): it counts at every preset, the groups are one cut's.
    if check_at is None:
        pairs = grouped_confidence(images, pairs, groups, cut, methods, floor)
    pairs.sort(key=lambda p: (-p.confidence, images[p.a].path, images[p.b].path))
    done = time.perf_counter()
    seconds = {
        "candidates": round(found - start, 3),
        "scoring": round(scored - found, 3),
        "groups": round(done - scored, 3),
    }
    stats = Stats(
        files_found=len(images),
        images=len(images),
        candidates=count,
        pairs=sum(p.confidence >= cut for p in pairs),  # not those kept below (`floor`)
        groups=len(groups),
        seconds=seconds | {"total": round(done - start, 3)},
    )
    settings: dict[str, object] = {
        "methods": list(methods),
        "threshold": cut,
        "preset": preset_named(preset, threshold, cut),
        "presets": dict(PRESETS),
        "nprobe": all_pairs_probes(index.settings.nprobe),
        "clusters": 0 if index.centroids is None else len(index.centroids),
    }
    return ScanResult(images, pairs, groups, [], stats, settings, apart=apart)


def strongest(pairs: list[Pair]) -> list[Pair]:
    """One record per pair of images, the most confident (in their first order otherwise)."""
    best: dict[tuple[int, int], Pair] = {}
    for pair in pairs:
        key = (min(pair.a, pair.b), max(pair.a, pair.b))
        if key not in best or pair.confidence > best[key].confidence:
            best[key] = pair
    return list(best.values())


def preset_named(preset: str | None, threshold: float | None, cut: float) -> str | None:
    """The preset the cut came from, as `scan --json` records it (docs/schema.md): none when
    a threshold was given; the index's own cut is named by the preset it equals, if any."""
    if threshold is not None:
        return None
    if preset is not None:
        return preset
    return next((name for name, value in PRESETS.items() if value == cut), None)


def _frame_of(key: str, frame: int | None) -> tuple[str, int | None]:
    """An alias key as (file, frame): path#N is frame N of a video (its time is not kept)."""
    found = re.fullmatch(r"(.*)#(\d+)", key) if frame is not None else None
    return (key, frame) if found is None else (found[1], int(found[2]))


def _partner(images: Sequence[Features], pair: Pair, me: int) -> tuple[str, int]:
    """The other image of `pair`, as a sort key that does not depend on the pairs' order."""
    other = images[pair.b if pair.a == me else pair.a]
    return (other.path, other.frame or 0)


def _score_now(
    images: Sequence[Features],
    methods: tuple[str, ...],
    cut: float,
    verify: bool,
    engine: Engine,
    cache: CacheSetting,
    found: list[Pair],
    asked: list[tuple[int, int]],
) -> list[Pair]:
    """The asked pairs (positions a < b, none listed yet) scored as any candidate is, among
    only their images; those at or above the cut are returned and kept in `found`. Step 6 of
    the grouping asks for its keeper pairs (about one per ten pairs at 10^5 synthetic images)."""
    wanted = sorted({i for pair in asked for i in pair})
    local = {position: n for n, position in enumerate(wanted)}
    rows = np.array([[local[a], local[b]] for a, b in asked], dtype=np.int64).reshape(-1, 2)
    chosen = [images[i] for i in wanted]
    scored = score_candidates(chosen, rows, methods, cut, verify, engine, cache=cache)
    out = [dataclasses.replace(p, a=wanted[p.a], b=wanted[p.b]) for p in scored]
    found.extend(out)
    return out


def _near_keepers(
    images: Sequence[Features], methods: tuple[str, ...], model: str, keepers: list[int]
) -> list[tuple[int, int]]:
    """Candidate pairs among the keepers of large groups (step 6 of the grouping), by the same
    search as any candidates, among those images alone."""
    found = pairs_within([images[k] for k in keepers], methods, model)
    return [(keepers[a], keepers[b]) for a, b in sorted(found)]


def candidate_pairs(blocks: Iterable[tuple[I64, I64]], n: int) -> I64:
    """Rows (a, b), a < b, each pair once and in order, from blocks of (position, position):
    arrays throughout (at a million images there are tens of millions of raw candidates)."""
    keys = [np.empty(0, dtype=np.int64)]
    for a, b in blocks:
        low, high = np.minimum(a, b), np.maximum(a, b)
        keep = (low != high) & (low >= 0)
        keys.append(np.unique(low[keep] * n + high[keep]))
    unique = np.unique(np.concatenate(keys))
    return np.stack([unique // max(n, 1), unique % max(n, 1)], axis=1)


def with_aliases(
    index: IndexView, images: Sequence[Features], pairs: list[Pair]
) -> tuple[Sequence[Features], list[Pair]]:
    """Add each exact copy: paired with its image and its other copies (exact; at most
    `MAX_NEIGHBOURS` of them), and with its image's strongest `MAX_NEIGHBOURS` matches. A
    list of images is extended; other sequences (an index's stored images, decoded where
    read) are not copied: the copies follow them."""
    if not index.aliases:
        return images, pairs
    extra: list[Features] = []
    by_position: dict[int, list[Pair]] = {}
    for pair in pairs:
        by_position.setdefault(pair.a, []).append(pair)
        by_position.setdefault(pair.b, []).append(pair)
    out = list(pairs)
    copies_of: dict[int, list[int]] = {}
    strongest: dict[int, list[Pair]] = {}
    for path, row_id in sorted(index.aliases.items()):
        if row_id not in index.positions:
            continue
        source = index.positions[row_id]
        size, mtime = index.alias_files.get(path, (images[source].size, images[source].mtime_ns))
        # A stored index keeps no hash of a copy's own: it holds the same bytes, or only the
        # same pixels or JPEG picture data (other metadata, another orientation tag, even of
        # the same length). No hash is claimed for it: `act` checks its size and time, and
        # its pairs are measured afresh, never read from the pair store under another's.
        # A video frame's copy is keyed path#frame: its file is the video, its frame its own.
        file, frame = _frame_of(path, images[source].frame)
        copy = index.copies.get(path) or dataclasses.replace(
            images[source],
            path=file,
            size=size,
            mtime_ns=mtime,
            bytes_hash="",
            frame=frame,
            time=None if frame != images[source].frame else images[source].time,
        )
        extra.append(copy)
        me = len(images) + len(extra) - 1
        # Copies of one image are copies of each other too: each is listed with its image
        # and its first earlier copies, `MAX_NEIGHBOURS` in all, as the searches bound each
        # image's candidates (thousands of copies would list millions of pairs).
        for other in [source, *copies_of.get(source, [])[: most() - 1]]:
            out.append(Pair(other, me, 1.0, 1.0, {"exact": 1.0}, "exact"))
        copies_of.setdefault(source, []).append(me)
        # And with its image's matches: the strongest `MAX_NEIGHBOURS` of them (an image
        # many others found can hold hundreds, and each copy would repeat them all).
        if source not in strongest:
            found = by_position.get(source, [])
            found.sort(key=lambda p: (-p.confidence, -p.similarity, _partner(images, p, source)))
            strongest[source] = found[: most()]
        for pair in strongest[source]:
            other = pair.b if pair.a == source else pair.a
            out.append(
                Pair(other, me, pair.similarity, pair.confidence, pair.scores, pair.evidence)
            )
    return (images + extra if isinstance(images, list) else Followed(images, extra)), out
