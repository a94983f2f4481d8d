"""Every duplicate group in an index: candidates from its clusters (and PDQ hashes), scored
and grouped exactly as `scan` does, exact copies (aliases) added back."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from neardup.candidates import candidate_pairs
from neardup.groups import build_groups
from neardup.records import Features, Pair, ScanResult, Stats

if TYPE_CHECKING:
    from neardup.engines.base import Engine
    from neardup.index.catalog import ImageIndex


def all_duplicates(
    index: ImageIndex,
    *,
    threshold: float | None = None,
    preset: str | None = None,
    workers: int | None = None,
    verify: bool = True,
    engine: Engine | None = None,
) -> ScanResult:
    """Every duplicate group in the index, found cluster by cluster, in scan's schema."""
    from neardup.api import score_candidates
    from neardup.scoring import threshold_for

    start = time.perf_counter()
    cut = (
        index.settings.threshold
        if threshold is None and preset is None
        else threshold_for(preset, threshold)
    )
    images = index.images
    candidates: set[tuple[int, int]] = set()
    for a, row_id in index.indexed_neighbours(images):
        b = index.positions[row_id]
        if a != b:
            candidates.add((min(a, b), max(a, b)))
    exact_only = tuple(m for m in ("exact",) if m in index.settings.methods)
    candidates |= candidate_pairs(images, exact_only)
    pairs: list[Pair] = score_candidates(
        images, candidates, index.settings.methods, cut, verify, workers, engine=engine
    )
    images, pairs = with_aliases(index, images, pairs)
    pairs.sort(key=lambda p: (-p.confidence, images[p.a].path, images[p.b].path))
    groups = build_groups(images, pairs, cut)
    elapsed = round(time.perf_counter() - start, 3)
    stats = Stats(
        files_found=len(images),
        images=len(images),
        candidates=len(candidates),
        pairs=len(pairs),
        groups=len(groups),
        seconds={"duplicates": elapsed, "total": elapsed},
    )
    settings: dict[str, object] = {
        "methods": list(index.settings.methods),
        "threshold": cut,
        "index": str(index.folder),
        "nprobe": index.settings.nprobe,
        "clusters": index.ivf.nlist if index.ivf else 0,
    }
    return ScanResult(list(images), pairs, groups, [], stats, settings)


def with_aliases(
    index: ImageIndex, images: list[Features], pairs: list[Pair]
) -> tuple[list[Features], list[Pair]]:
    """Add each exact copy: paired with its image (exact) and with all of its matches."""
    if not index.aliases:
        return images, pairs
    images = list(images)
    by_position: dict[int, list[Pair]] = {}
    for pair in pairs:
        by_position.setdefault(pair.a, []).append(pair)
        by_position.setdefault(pair.b, []).append(pair)
    out = list(pairs)
    for path, row_id in sorted(index.aliases.items()):
        if row_id not in index.positions:
            continue
        source = index.positions[row_id]
        copy = dataclasses.replace(images[source], path=path)
        images.append(copy)
        me = len(images) - 1
        out.append(Pair(source, me, 1.0, 1.0, {"exact": 1.0}, "exact"))
        for pair in by_position.get(source, []):
            other = pair.b if pair.a == source else pair.a
            out.append(
                Pair(other, me, pair.similarity, pair.confidence, pair.scores, pair.evidence)
            )
    return images, out
