"""The geometric check where it can change a verdict (`neardup.verify`), its findings read
from and kept in the pair store (`neardup.pair_store`) so a rescan or a resumed scan checks
only what it has not checked before.

    scored pairs --needs_geometry--> borderline pairs --store or VERIFY--> Geometry
                 --add_geometry_many--> rescored pairs
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from neardup.checked_scores import Check, add_geometry_many, picture_first
from neardup.engines.base import Engine
from neardup.item_pixels import Ref, ref_of
from neardup.pair_order import by_image
from neardup.pair_store import Key, PairKeys, pair_store
from neardup.records import Features
from neardup.scoring import Scored, needs_geometry
from neardup.store import CacheSetting
from neardup.verify import (
    VERIFY,
    Geometry,
    Unread,
    check_version,
    geometry_of,
    geometry_value,
)


def verify_pairs(
    images: Sequence[Features],
    scored: dict[tuple[int, int], Scored],
    methods: tuple[str, ...],
    cuts: float | tuple[float, ...],
    engine: Engine,
    *,
    cache: CacheSetting = False,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the geometric check on the pairs where it can change the verdict at a cut; a
    pair checked before (same contents, same code) is read from the cache instead."""
    at = cuts if isinstance(cuts, tuple) else (cuts,)
    borderline = sorted(
        (a, b)
        for (a, b), s in scored.items()
        if any(needs_geometry(s, c, min(images[a].pdq_quality, images[b].pdq_quality)) for c in at)
    )
    # In the order the check takes each pair, and stored under that order's key: the check
    # is not symmetric, so a finding made the other way is not this one.
    ordered = {(a, b): _check_order(images, a, b, scored[a, b]) for a, b in borderline}
    by_paths = {_refs(images, *ordered[pair]): pair for pair in borderline}
    key = PairKeys(images)
    keys = {paths: key(*ordered[pair]) for paths, pair in by_paths.items()}
    order = {paths: ordered[pair] for paths, pair in by_paths.items()}
    checked: list[tuple[tuple[int, int], Scored, Check]] = []

    def take(chunk: Sequence[tuple[Ref, Ref]], found: Sequence[Geometry | Unread | None]) -> None:
        for paths, geometry in zip(chunk, found, strict=True):
            if isinstance(geometry, Geometry):
                pair = by_paths[paths]
                checked.append((pair, scored[pair], geometry.evidence()))

    with pair_store(cache, "check", check_version) as known:
        stored = {} if known is None else known.get(k for k in keys.values() if k)
        before = {p: geometry_of(stored[k]) for p, k in keys.items() if k in stored}
        take(list(before), list(before.values()))
        # Chunks hold whole groups of connected pairs, so each worker reads a picture ~once.
        jobs = by_image([p for p in by_paths if p not in before], VERIFY.chunk)
        done = len(before)
        if progress and done:
            progress(done, len(by_paths))
        for chunk, found in engine.map(VERIFY, jobs):
            if known is not None:  # kept chunk by chunk: an interrupted run resumes
                known.put(_lasting_checks(key, order, keys, chunk, found))
            done += len(chunk)
            if progress:
                progress(done, len(by_paths))
            take(chunk, found)
    for (pair, _, _), rescored in zip(
        checked, add_geometry_many(images, checked, methods), strict=True
    ):
        scored[pair] = rescored


def _check_order(images: Sequence[Features], a: int, b: int, scored: Scored) -> tuple[int, int]:
    """The pair as the check takes it: a screenshot after the picture it frames."""
    return (b, a) if picture_first(scored.scores, images[a], images[b]) else (a, b)


def _refs(images: Sequence[Features], a: int, b: int) -> tuple[Ref, Ref]:
    return ref_of(images[a].path, images[a].frame), ref_of(images[b].path, images[b].frame)


def _lasting_checks(
    key: PairKeys,
    order: dict[tuple[Ref, Ref], tuple[int, int]],
    keys: dict[tuple[Ref, Ref], Key | None],
    chunk: Sequence[tuple[Ref, Ref]],
    found: Sequence[Geometry | Unread | None],
) -> Iterator[tuple[Key, list[float] | None]]:
    """The findings of a chunk the pair store may keep: not a pair the check could not read,
    nor one whose files changed while it ran (their hashes would name other contents)."""
    for paths, geometry in zip(chunk, found, strict=True):
        k = keys[paths]
        if k is None or isinstance(geometry, Unread):
            continue
        if key.still(*order[paths], k):
            yield k, geometry_value(geometry)
