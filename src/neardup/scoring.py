"""Scores of a pair: one score in [0, 1] per method, a graded similarity and a confidence.

Each method's score and what it means: `neardup.method_scores`.

Two numbers come out of them, and they answer different questions:
- `similarity`: how alike the two pictures are: the embedding's cosine (the hashes' mean in a
  hash-only scan), 1.0 only for identical pixels (anything else is at most 0.999); within one
  kind of edit a stronger edit never scores higher (tests check graded series).
- `confidence`: how likely the pair is a copy, from the fitted model in `neardup.fusion`.
  Calibrated: of the pairs at about 0.9, about 90 % are duplicates. Presets are cuts on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup import fusion, methods
from neardup.fusion import PairFacts
from neardup.method_scores import (
    EMBEDDING_METHODS,
    HASH_METHODS,
    INSET,
    TURNED,
    Pairs,
    Stacks,
    facts,
    flat_apart,
    prepare_stacks,
    raw_scores,
)
from neardup.records import Features

__all__ = [
    "EMBEDDING_METHODS",
    "HASH_METHODS",
    "Pairs",
    "Stacks",
    "facts",
    "prepare_stacks",
    "raw_scores",
]

FloatArray = npt.NDArray[np.float64]

ALL_METHODS = methods.ALL
DEFAULT_METHODS = methods.DEFAULT

PRESETS: dict[str, float] = fusion.fitted().presets
"""Cuts on the confidence, fitted with the fusion (docs/presets.md has their precision and
recall per edit kind)."""

IDENTICAL = 1.0
NEAR_IDENTICAL = 0.999
"""The highest similarity of two pictures whose pixels differ."""
INSET_CHECK = 0.5
"""The `inset` score from which a pair goes to the geometric check. A phone screenshot's
picture embeds at 0.5-0.7 against its original; once the check could find a picture small in
its screenshot (`neardup.inset_check`), 0.5 raised the mixed and documents calibration halves'
screenshot recall to 1.000 for 2-4 % more checked pairs (RESULTS.md, session 27; at 0.8
before, where 0.5-0.8 had given identical results)."""


@dataclass(frozen=True, slots=True)
class Scored:
    similarity: float
    confidence: float
    scores: dict[str, float]
    evidence: str
    inliers: float = float("nan")
    """RANSAC inliers of the geometric check, NaN where it did not run or decide."""


def fuse_arrays(
    raw: dict[str, FloatArray],
    pair_facts: PairFacts,
    methods: Sequence[str],
    apart: npt.NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Similarity, confidence and deciding method for many pairs (fusing `methods` only).

    Pairs whose geometric check decided (a `geometry` score) use the geometry-aware model;
    pairs `apart` (`method_scores.flat_apart`) are no copies unless exact.
    """
    fused = _fuse(raw, pair_facts, methods, apart)
    return fused.similarity, fused.confidence, fused.evidence(raw, pair_facts)


@dataclass(frozen=True, slots=True)
class _Fused:
    """Similarity and confidence of a batch of pairs, and what naming each pair's deciding
    method needs (computed apart: only the pairs that are kept need a name)."""

    similarity: FloatArray
    confidence: FloatArray
    exact: npt.NDArray[np.bool_]
    decided: npt.NDArray[np.bool_]
    """Rows scored by the geometry-aware model."""
    model_confidence: FloatArray
    """The models' confidence before rounding (what the deciding method is measured against)."""
    fused: list[str]
    key: str | None
    geo_key: str | None

    def evidence(
        self, raw: dict[str, FloatArray], pair_facts: PairFacts, rows: Any = None
    ) -> list[str]:
        """The deciding method of each pair (of `rows` only, where given)."""
        pick = np.arange(len(self.confidence)) if rows is None else rows
        evidence = np.full(len(self.confidence[pick]), "none", dtype=object)
        decided = self.decided[pick]
        for name, part_rows in ((self.key, ~decided), (self.geo_key, decided)):
            if name is None or not part_rows.any():
                continue
            at = np.flatnonzero(part_rows)
            chosen = pick[at]
            part = {m: v[chosen] for m, v in raw.items()}
            part_facts = PairFacts(
                pair_facts.quality[chosen], pair_facts.aspect[chosen], pair_facts.inliers[chosen]
            )
            evidence[at] = _deciding(
                self.fused, part, part_facts, self.model_confidence[chosen], name != self.key
            )
        evidence = np.where(self.exact[pick], "exact", evidence)
        return [str(e) for e in evidence]


def _fuse(
    raw: dict[str, FloatArray],
    pair_facts: PairFacts,
    methods: Sequence[str],
    apart: npt.NDArray[np.bool_] | None = None,
) -> _Fused:
    n = len(pair_facts.quality)
    key = fusion.model_key(methods)
    confidence = np.zeros(n)
    decided = np.zeros(n, bool)
    geo_key = None
    fused = [] if key is None else key.split("+")
    if key is not None:
        geometry = raw.get("geometry")
        decided = np.zeros(n, bool) if geometry is None else ~np.isnan(geometry)
        geo_key = fusion.with_geometry(key)
        if geo_key is None:
            decided[:] = False
        for name, rows in ((key, ~decided), (geo_key, decided)):
            if name is None or not rows.any():
                continue
            model = fusion.models()[name]
            part = {m: v[rows] for m, v in raw.items()}
            part_facts = PairFacts(
                pair_facts.quality[rows], pair_facts.aspect[rows], pair_facts.inliers[rows]
            )
            confidence[rows] = model.predict(part, part_facts)
    if apart is not None:
        confidence = np.where(apart, 0.0, confidence)
    similarity = graded(raw, fused, n)
    if pair_facts.kept is not None:  # a picture turned back: measured as the files are
        similarity = similarity * pair_facts.kept
    exact = np.nan_to_num(raw["exact"], nan=0.0) >= 1.0 if "exact" in raw else np.zeros(n, bool)
    final = np.where(exact, 1.0, confidence)
    similarity = np.where(exact, IDENTICAL, similarity)
    return _Fused(
        np.round(similarity, 4),
        np.round(final, 4),
        exact,
        decided,
        confidence,
        fused,
        key,
        geo_key,
    )


def _deciding(
    methods: list[str],
    raw: dict[str, FloatArray],
    pair_facts: PairFacts,
    confidence: FloatArray,
    geometry: bool,
) -> npt.NDArray[Any]:
    """The method whose score alone gives the highest confidence; "geometry" where the
    geometric check lifted the pair above every method alone."""
    singles = [m for m in methods if m in fusion.models() and m in raw]
    if not singles:
        return np.full(len(confidence), "none", dtype=object)
    alone = np.stack([fusion.models()[m].predict(raw, pair_facts) for m in singles])
    names = np.array(singles, dtype=object)[np.argmax(alone, axis=0)]
    if geometry:
        names = np.where(confidence > alone.max(axis=0), "geometry", names)
    return names


def graded(raw: dict[str, FloatArray], methods: Sequence[str], n: int) -> FloatArray:
    """How alike, not how likely a copy: below 1 unless the pixels are identical.

    The copy-detection embedding's cosine where one is fused: it falls smoothly as an edit
    grows stronger (crop, rotation, blur, compression, darkening), where a hash drops to
    chance after a small crop or turn. Without an embedding, the mean of the hash scores.
    The geometric check's shared frame is left out because only some pairs have it.
    """
    embedding = next((m for m in methods if m in EMBEDDING_METHODS and m in raw), None)
    columns = [raw[embedding]] if embedding else [raw[m] for m in methods if m in raw]
    if not columns:
        return np.zeros(n)
    stacked = np.stack(columns)
    counts = np.sum(~np.isnan(stacked), axis=0)
    total = np.nansum(stacked, axis=0)
    mean: FloatArray = np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)
    return np.minimum(mean, NEAR_IDENTICAL).astype(np.float64)


def fuse(
    scores: dict[str, float],
    methods: Sequence[str],
    *,
    pdq_quality: float = 100,
    aspect: float = 0.0,
    inliers: float = float("nan"),
    kept: float = 1.0,
    apart: bool = False,
) -> Scored:
    """Similarity and confidence of one pair from its per-method scores and facts."""
    raw = {m: np.array([v], dtype=np.float64) for m, v in scores.items()}
    pair_facts = PairFacts(
        np.array([pdq_quality]), np.array([aspect]), np.array([inliers]), np.array([kept])
    )
    similarity, confidence, labels = fuse_arrays(raw, pair_facts, methods, np.array([apart]))
    return Scored(float(similarity[0]), float(confidence[0]), scores, labels[0], inliers)


def score_pairs(
    images: Sequence[Features],
    pairs: Sequence[tuple[int, int]],
    methods: tuple[str, ...],
    *,
    chunk: int = 65536,
    stacks: Stacks | None = None,
) -> list[Scored]:
    """Per-method scores, similarity and confidence for every pair (index pairs into images).
    `stacks` keeps the images' stacked features between calls on the same images."""
    return [s for _, s in score_kept(images, pairs, methods, chunk=chunk, stacks=stacks)]


def score_kept(
    images: Sequence[Features],
    pairs: Pairs,
    methods: tuple[str, ...],
    *,
    keep: float | None = None,
    band: tuple[float, float] | None = None,
    chunk: int = 65536,
    stacks: Stacks | None = None,
) -> list[tuple[int, Scored]]:
    """(position in `pairs`, scores) of the pairs with confidence at least `keep`, or inside
    `band` where the geometric check could run on them (`needs_geometry`); every pair when
    `keep` is None. The same numbers as scoring each pair, but the deciding method and the
    per-pair record are made only for the pairs kept: most candidates fall below both, and at
    a million images those two steps cost more than the scores themselves."""
    out: list[tuple[int, Scored]] = []
    stacks = {} if stacks is None else stacks
    for start in range(0, len(pairs), chunk):  # bounded memory: chunk x 8 x 32 bytes for PDQ
        part = pairs[start : start + chunk]
        raw = raw_scores(images, part, methods, stacks)
        part_facts = facts(images, part, stacks=stacks, turned=raw.get(TURNED))
        apart = flat_apart(images, part, part_facts.aspect)
        fused = _fuse(raw, part_facts, methods, apart)
        if keep is None:
            rows = np.arange(len(part))
        else:
            wanted = fused.confidence >= keep
            if band is not None:
                low, high = band
                in_band = (fused.confidence >= low) & (fused.confidence <= high)
                wanted |= in_band & _checkable(raw, fused)
                # A pair whose inset matches the other picture: the check decides it.
                inset = np.nan_to_num(raw.get(INSET, np.zeros(len(part))), nan=0.0)
                wanted |= (inset >= INSET_CHECK) & (fused.confidence < keep) & ~fused.exact
            rows = np.flatnonzero(wanted)
        labels = fused.evidence(raw, part_facts, rows)
        columns = [(m, raw[m][rows].tolist()) for m in raw]
        similarity, confidence = fused.similarity[rows].tolist(), fused.confidence[rows].tolist()
        for n, row in enumerate(rows.tolist()):
            scores = {m: values[n] for m, values in columns if values[n] == values[n]}
            out.append((start + row, Scored(similarity[n], confidence[n], scores, labels[n])))
    return out


def _checkable(raw: dict[str, FloatArray], fused: _Fused) -> npt.NDArray[np.bool_]:
    """Pairs the geometric check may run on (`needs_geometry` without the band): an
    embedding score present and not exact copies."""
    has_embedding = np.zeros(len(fused.confidence), dtype=bool)
    for method in EMBEDDING_METHODS:
        if method in raw:
            has_embedding |= ~np.isnan(raw[method])
    return has_embedding & ~fused.exact


def needs_geometry(scored: Scored, cut: float, pdq_quality: float = 0.0) -> bool:
    """Whether the geometric check could change this pair's verdict at `cut`.

    Fitted with the fusion: outside the band, the check changed almost no verdict at that
    cut on the calibration halves, so it is not worth its decode and matching there; nor
    for a pair already above the cut that its hashes settle (`fusion.Settled`; `pdq_quality`
    is the lower of the pair's two PDQ qualities). A pair below the cut whose inset matches
    the other picture (`INSET_CHECK`) is checked wherever its confidence lies: the fusion
    reads the whole pictures, which a screenshot's frame makes unlike.
    """
    if scored.evidence == "exact" or not any(m in scored.scores for m in EMBEDDING_METHODS):
        return False
    if scored.confidence < cut and scored.scores.get(INSET, 0.0) >= INSET_CHECK:
        return True
    fitted = fusion.fitted()
    low, high = fitted.verify_band(cut)
    if not low <= scored.confidence <= high:
        return False
    settled = fitted.settled
    if settled is None or scored.confidence < cut:
        return True
    pdq, thumb = scored.scores.get("pdq", math.nan), scored.scores.get("thumb", math.nan)
    return not bool(settled.holds(pdq, thumb, pdq_quality))


def score_pair(a: Features, b: Features, methods: tuple[str, ...]) -> Scored:
    return score_pairs([a, b], [(0, 1)], methods)[0]


def threshold_for(preset: str | None, threshold: float | None) -> float:
    """The fused threshold: an explicit number wins over a named preset."""
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError(f"threshold must be a number in [0, 1], got {threshold!r}")
        if not 0.0 <= threshold <= 1.0:  # NaN fails this too
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        return threshold
    name = "default" if preset is None else preset  # "" is no preset name
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
