"""The geometric check where it can change a verdict (`neardup.verify`), its findings read
from and kept in the pair store (`neardup.pair_store`) so a rescan or a resumed scan checks
only what it has not checked before.

    scored pairs --needs_geometry--> borderline pairs --store or VERIFY--> Geometry
                 (a picture in a screenshot, no frame found --store or INSET--> Geometry)
                 (undecided, too smooth for keypoints --dense_wanted--> store or DENSE)
                 (no frame from keypoints, at the cut or thumbnails agreeing, not two
                 pages --store or WHOLE--> Geometry where it passes the dense gate)
                 --add_geometry_many--> rescored pairs
                 (a picture in a screenshot still below the cut --store or INSET_WHOLE-->
                 the inset compared whole, else by the dense search --dense_rescored-->
                 raised where it passes)
                 (a keypoint frame found whole, its pixels apart in one spot only
                 --spot_rescored--> raised: a copy under an overlay)
                 (a frame found whole, not so raised, not two pages, neither mostly
                 paper --store or OVERLAY--> the spot at twice the side, motion explaining
                 little of it --overlay_rescored--> raised)
                 (a keypoint frame shared --store or BANNER--> the pixels apart in one
                 band along a side only --banner_rescored--> raised)
                 (the same, from lower --store or PAINTED--> a solid region painted over one,
                 the rest agreeing --painted_rescored--> raised)
                 (under a cut, a keypoint frame holding one picture whole, agreeing, not two
                 pages --store or PART--> a seam along its sides --framed_rescored--> raised)
                 (a keypoint frame covering little of one picture, every pixel agreeing,
                 not two pages of which one holds a framed picture --store or PART--> the
                 part's sides read in the other: a detail cut out of it, not a picture shown
                 whole in a screenshot --part_rescored--> lowered)
                 (pairs of two pages from detail_check.WORDS_FLOOR that passing pairs
                 link --detail_wanted, linked--> store or DETAIL --detail_rescored-->
                 pairs whose words differ lowered, in rounds that settle most pairs of
                 sets of same-word pages uncompared: agreeing, or inheriting a veto;
                 then those no passing pair links that a lift could pass, --may_lift-->
                 compared directly: a copy none of whose pairs passed; and in rounds the
                 pairs the lifts newly link)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from neardup.banner_check import (
    BANNER,
    banner_of_value,
    banner_value,
    banner_version,
)
from neardup.checked_scores import (
    Check,
    add_geometry_many,
    dense_passes,
    dense_rescored,
    picture_first,
    spot_rescored,
)
from neardup.dense_check import (
    DENSE,
    WHOLE,
    WHOLE_THUMB,
    dense_version,
    dense_wanted,
    whole_version,
)
from neardup.detail_check import (
    DETAIL,
    LIFT_CONFIDENCE,
    detail_of,
    detail_rescored,
    detail_value,
    detail_version,
    detail_wanted,
    may_lift,
    two_pages,
    veto_inherited,
)
from neardup.detail_compare import Detail
from neardup.detail_rounds import WordRounds, linked
from neardup.engines.base import Engine, Stage
from neardup.framed_stages import FRAMED_STAGES
from neardup.inset_check import (
    INSET,
    INSET_WHOLE,
    inset_better,
    inset_version,
    inset_whole_version,
    sent_below,
    unfound,
)
from neardup.item_pixels import Ref, Shown, pair_refs, shown_key
from neardup.overlay_check import (
    OVERLAY,
    overlay_of_value,
    overlay_value,
    overlay_version,
)
from neardup.painted_check import PAINTED, painted_of_value, painted_value, painted_version
from neardup.pair_order import by_image
from neardup.pair_store import Key, PairKeys, pair_store
from neardup.part_check import (
    PART,
    part_of_value,
    part_value,
    part_version,
)
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
from neardup.window_check import WINDOW, window_of_value, window_value, window_version


def verify_pairs(
    images: Sequence[Features],
    scored: dict[tuple[int, int], Scored],
    methods: tuple[str, ...],
    cuts: float | tuple[float, ...],
    engine: Engine,
    *,
    cache: CacheSetting = False,
    shown: Shown | None = None,
    progress: Callable[[int, int], None] | None = None,
    dense_progress: Callable[[int, int], None] | None = None,
    detail_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the geometric check on the pairs where it can change the verdict at a cut; a
    pair checked before (same contents, same code) is read from the cache instead. `shown`:
    pairs whose see-through picture every stage reads over a colour (`neardup.see_through`)."""
    at = cuts if isinstance(cuts, tuple) else (cuts,)
    borderline = sorted(
        (a, b)
        for (a, b), s in scored.items()
        if any(needs_geometry(s, c, min(images[a].pdq_quality, images[b].pdq_quality)) for c in at)
    )
    # In the order the check takes each pair, and stored under that order's key: the check
    # is not symmetric, so a finding made the other way is not this one.
    ordered = {(a, b): _check_order(images, a, b, scored[a, b]) for a, b in borderline}
    by_paths = {pair_refs(images, *ordered[pair], shown): pair for pair in borderline}
    stored = _Stored(PairKeys(images), by_paths, ordered)
    plain = {
        paths: geometry
        for paths, geometry in _findings(engine, VERIFY, stored, list(by_paths), cache, progress)
        if not isinstance(geometry, Unread)
    }
    # A picture shown small in a screenshot: matched again against the inset cut out of it.
    framed = [p for p, g in plain.items() if unfound(images, by_paths[p], scored, g)]
    for paths, geometry in _findings(engine, INSET, stored, framed, cache, None):
        if isinstance(geometry, Geometry) and inset_better(plain[paths], geometry):
            plain[paths] = geometry
    checked: list[tuple[tuple[int, int], Scored, Check]] = []
    undecided: list[tuple[Ref, Ref]] = []
    unframed: list[tuple[Ref, Ref]] = []
    keypoints: dict[tuple[int, int], Geometry] = {}
    for paths, geometry in plain.items():
        if geometry is None:
            undecided.append(paths)
        elif _unframed(images, by_paths[paths], geometry, scored, min(at)):
            unframed.append(paths)
        else:
            keypoints[by_paths[paths]] = geometry
            checked.append((by_paths[paths], scored[by_paths[paths]], geometry.evidence()))
    # A pair whose keypoints found no frame (a caption's letters crowd out a blurred picture's
    # corners; stripes settle RANSAC on a collapsed transform) is compared in its whole frames;
    # the keypoints' finding stands unless that passes the dense alignment's gate.
    for paths, whole in _findings(engine, WHOLE, stored, unframed, cache, None):
        passed = isinstance(whole, Geometry) and dense_passes(whole.evidence())
        finding = whole if passed else plain[paths]
        if isinstance(finding, Geometry):  # always: an unframed pair has a keypoint finding
            checked.append((by_paths[paths], scored[by_paths[paths]], finding.evidence()))
    # Pictures too smooth for keypoints: aligned densely where that could lift the verdict.
    wanted = [p for p in undecided if dense_wanted(scored[by_paths[p]].confidence, at)]
    for paths, geometry in _findings(engine, DENSE, stored, wanted, cache, dense_progress):
        if isinstance(geometry, Geometry):
            checked.append((by_paths[paths], scored[by_paths[paths]], geometry.evidence()))
    for (pair, _, _), rescored in zip(
        checked, add_geometry_many(images, checked, methods), strict=True
    ):
        scored[pair] = rescored
    # Below the cut still: the picture and its screenshot's inset compared as whole frames.
    smooth = [p for p in plain if sent_below(images, by_paths[p], scored, min(at))]
    for paths, whole in _findings(engine, INSET_WHOLE, stored, smooth, cache, None):
        if isinstance(whole, Geometry) and dense_passes(check := whole.evidence()):
            pair = by_paths[paths]
            scored[pair] = dense_rescored(scored[pair], check, scored[pair].scores)
    # An overlay (a logo, a caption) lowers a copy's aligned pixels by its share, which the
    # model reads as other content: a frame found whole whose pixels disagree in one compact
    # spot only is a copy under one. Pages too (RESULTS.md, session 49): a form's one changed
    # field is such a spot, mostly too faint for the gate, and their words are read after.
    for (a, b), geometry in keypoints.items():
        scored[a, b] = spot_rescored(scored[a, b], geometry.score, geometry.spot)
    # The stages that read the pictures the check's transform aligns, in order
    # (`framed_stages`): each rescores the keypoint findings it wants, by the scores so far.
    for stage, reads, rescore in FRAMED_STAGES:
        todo = [
            paths
            for paths, (a, b) in by_paths.items()
            if (a, b) in keypoints
            and reads(scored[a, b], keypoints[a, b], images[a], images[b], at)
        ]
        for paths, found in _findings(engine, stage, stored, todo, cache, None):
            if found is not None and not isinstance(found, Unread):
                a, b = by_paths[paths]
                scored[a, b] = rescore(scored[a, b], found, images[a], images[b])
    # Two pages of one template pass on their shared layout: their words, compared last (from
    # `detail_check.WORDS_FLOOR`: a veto below the cut still keeps two pictures apart in the
    # grouping, where passing pairs link them),
    # in rounds (`detail_rounds`): a pair not compared agrees (inside a set of pages that
    # showed the same words), or inherits the veto of its two sets of pages.
    of_pages = [
        (a, b) for (a, b), s in scored.items() if detail_wanted(images[a], images[b], s, at)
    ]
    passing = [pair for pair, s in scored.items() if s.confidence >= min(at)]

    def surest_first(pairs: set[tuple[int, int]]) -> list[tuple[int, int]]:
        return sorted(pairs, key=lambda pair: (-scored[pair].confidence, pair))

    pages = surest_first(set(linked(of_pages, passing)))
    # A copy none of whose pairs pass, or whose group is not its original's, is linked to no
    # passing pair: its pairs that a lift could pass are compared too, directly; the pairs the
    # lifts then link are compared in rounds of their own (a look-alike joins no group
    # uncompared).
    lifts = min(at) <= LIFT_CONFIDENCE
    alone = sorted(p for p in set(of_pages) - set(pages) if lifts and may_lift(scored[p]))
    told = _Told(detail_progress, len(pages) + len(alone))
    # Mapped in rounds, the words' workers keep their pages from one round to the next; a new
    # stage object each call, so no later scan finds pages read before its files changed.
    detail = replace(DETAIL)

    def words(batch: list[tuple[int, int]]) -> Iterator[tuple[tuple[int, int], Detail | None]]:
        by_refs = {pair_refs(images, *pair, shown): pair for pair in batch}
        compared = _Stored(stored.key, by_refs, {pair: pair for pair in batch})
        for paths, found in _findings(engine, detail, compared, list(by_refs), cache, told):
            yield by_refs[paths], found if isinstance(found, Detail) else None
        told.next(len(batch))

    try:
        _in_rounds(pages, words, scored)
        for pair, found in list(words(alone)):
            if found is not None:
                scored[pair] = detail_rescored(scored[pair], found)
        lifted = [pair for pair in alone if scored[pair].confidence >= min(at)]
        if lifted:
            newly = set(linked(of_pages, passing + lifted)) - set(pages) - set(alone)
            told.more(len(newly))
            _in_rounds(surest_first(newly), words, scored)
    finally:
        engine.release(detail)
    told.finish()


def _unframed(
    images: Sequence[Features],
    pair: tuple[int, int],
    found: Geometry,
    scored: dict[tuple[int, int], Scored],
    cut: float,
) -> bool:
    """Whether the keypoints found no frame for a pair that is not two pages (a template's pages
    line up on their grid and white paper: their words decide them): at the cut (a caption's
    letters crowd out a blurred picture's corners: the finding takes a copy below it), or
    below it where the thumbnails agree (`WHOLE_THUMB`: stripes settle RANSAC on a collapsed
    transform; RESULTS.md, session 46)."""
    a, b = pair
    at_cut = scored[pair].confidence >= cut
    alike = scored[pair].scores.get("thumb", 0.0) >= WHOLE_THUMB
    return found.score == 0.0 and (at_cut or alike) and not two_pages(images[a], images[b])


Words = Callable[[list[tuple[int, int]]], Iterator[tuple[tuple[int, int], Detail | None]]]


def _in_rounds(
    pairs: list[tuple[int, int]], words: Words, scored: dict[tuple[int, int], Scored]
) -> None:
    """The words of `pairs` compared in rounds (`detail_rounds`), and each pair rescored: by
    its comparison, by the veto it inherits, or not at all (inside a set of the same words)."""
    rounds = WordRounds(pairs)
    while batch := rounds.next_round():
        for pair, found in words(batch):
            rounds.record(pair, found)
    for pair in pairs:
        found = rounds.found.get(pair)
        if found is not None:
            scored[pair] = detail_rescored(scored[pair], found)
        elif pair in rounds.inherited:
            scored[pair] = veto_inherited(scored[pair])


class _Told:
    """One progress count over the rounds of comparisons: done of the pairs wanted (the pairs
    settled without a comparison count at the end)."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self._progress, self._total, self._before = progress, total, 0

    def __call__(self, done: int, _: int) -> None:
        if self._progress:
            self._progress(self._before + done, self._total)

    def next(self, compared: int) -> None:
        self._before += compared

    def more(self, wanted: int) -> None:
        self._total += wanted

    def finish(self) -> None:
        if self._progress and self._total:
            self._progress(self._total, self._total)


Paths = tuple[Ref, Ref]
Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
STORE_KINDS: dict[str, tuple[str, Callable[[], str], Codec]] = {
    VERIFY.name: ("check", check_version, (geometry_value, geometry_of)),
    DENSE.name: ("dense", dense_version, (geometry_value, geometry_of)),
    WHOLE.name: ("whole", whole_version, (geometry_value, geometry_of)),
    DETAIL.name: ("detail", detail_version, (detail_value, detail_of)),
    INSET.name: ("inset", inset_version, (geometry_value, geometry_of)),
    INSET_WHOLE.name: ("inset_whole", inset_whole_version, (geometry_value, geometry_of)),
    OVERLAY.name: ("overlay", overlay_version, (overlay_value, overlay_of_value)),
    PART.name: ("part", part_version, (part_value, part_of_value)),
    BANNER.name: ("banner", banner_version, (banner_value, banner_of_value)),
    PAINTED.name: ("painted", painted_version, (painted_value, painted_of_value)),
    WINDOW.name: ("window", window_version, (window_value, window_of_value)),
}
"""The pair store's kind and code version for each stage's findings, and how a finding
becomes the JSON value kept (and back)."""


class _Stored:
    """Each pair's key in the pair store, under the order the check takes it."""

    def __init__(
        self,
        key: PairKeys,
        by_paths: dict[Paths, tuple[int, int]],
        ordered: dict[tuple[int, int], tuple[int, int]],
    ) -> None:
        self.key = key
        self.order = {paths: ordered[pair] for paths, pair in by_paths.items()}
        self.named = {paths: key(*self.order[paths]) for paths in by_paths}
        # A finding over a colour is not one over white: the colour is part of its key.
        self.keys = {paths: shown_key(paths, k) for paths, k in self.named.items()}

    def lasting(
        self, chunk: Sequence[Paths], found: Sequence[Any], value: Callable[[Any], Any]
    ) -> Iterator[tuple[Key, Any]]:
        """The findings of a chunk the pair store may keep: not a pair the check could not
        read, nor one whose files changed while it ran (their hashes would name other
        contents)."""
        for paths, geometry in zip(chunk, found, strict=True):
            k, named = self.keys[paths], self.named[paths]
            if k is None or named is None or isinstance(geometry, Unread):
                continue
            if self.key.still(*self.order[paths], named):
                yield k, value(geometry)


def _findings[F](
    engine: Engine,
    stage: Stage[Paths, Any, F],
    stored: _Stored,
    todo: list[Paths],
    cache: CacheSetting,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[Paths, F]]:
    """Each pair's finding by `stage`: read from the pair store where the same contents were
    checked by the same code, else found now and kept chunk by chunk (an interrupted run
    resumes)."""
    kind, version, (value, of) = STORE_KINDS[stage.name]
    with pair_store(cache, kind, version) as known:
        keys = {p: k for p in todo if (k := stored.keys[p]) is not None}
        kept = {} if known is None else known.get(keys.values())
        before = {p: of(kept[k]) for p, k in keys.items() if k in kept}
        yield from before.items()
        done = len(before)
        if progress and done:
            progress(done, len(todo))
        # Chunks hold whole groups of connected pairs, so each worker reads a picture ~once.
        jobs = by_image([p for p in todo if p not in before], stage.chunk)
        for chunk, found in engine.map(stage, jobs):
            if known is not None:
                known.put(stored.lasting(chunk, found, value))
            done += len(chunk)
            if progress:
                progress(done, len(todo))
            yield from zip(chunk, found, strict=True)


def _check_order(images: Sequence[Features], a: int, b: int, scored: Scored) -> tuple[int, int]:
    """The pair as the check takes it: a screenshot after the picture it frames."""
    return (b, a) if picture_first(scored.scores, images[a], images[b]) else (a, b)
