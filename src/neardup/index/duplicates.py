"""Every duplicate group in an index: candidates from its clusters (and PDQ hashes), scored
and grouped exactly as `scan` does, exact copies (aliases) added back."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from neardup.candidates import candidate_pairs
from neardup.engines.local import LocalEngine
from neardup.groups import build_groups
from neardup.index.cluster_search import cluster_neighbours
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
    for a, b in _neighbours(index, engine):
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


def _neighbours(index: ImageIndex, engine: Engine | None) -> Iterator[tuple[int, int]]:
    """(position, position) of every candidate the index proposes: on a distributed engine the
    vector search runs cluster by cluster on its workers (`neardup.index.cluster_search`);
    locally one IVF search in this process is cheaper than shipping vectors to a pool."""
    images = index.images
    if engine is None or isinstance(engine, LocalEngine) or index.ivf is None:
        for a, row_id in index.indexed_neighbours(images):
            yield a, index.positions[row_id]
        return
    stored = dict(index.db.execute("SELECT id, cluster FROM images").fetchall())
    home = np.array([stored[row_id] for row_id in index.ids], dtype=np.int64)
    yield from cluster_neighbours(index.ivf, images, home, index.settings.model, engine)
    for a, row_id in index.pdq_neighbours(images):
        yield a, index.positions[row_id]


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
