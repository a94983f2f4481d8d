"""Scores of a pair: one score in [0, 1] per method, a graded similarity and a confidence.

What each per-method score means:
- `exact`: 1 when the files are byte-identical or decode to identical pixels, else 0.
- `pdq`: 1 - 2d/256, d the smallest Hamming distance between one image's PDQ hash and any of
  the other's 8 dihedral views (rotations, flips); unrelated images score about 0.
- `phash`, `dhash`, `ahash`, `whash`: 1 - 2d/64 on the 64-bit imagehash hashes.
- `sscd`, `sscd_distilled`: cosine similarity of SSCD copy-detection embeddings (floored at
  0), the larger of the image-to-image and mirrored-image-to-image cosines where mirrored
  views were embedded.
- `thumb`: for every pair, the correlation of the two 32 x 32 grey thumbnails in the best of
  the 8 dihedral views (`neardup.features.thumbnail`): high for a recoloured, blurred or
  re-encoded copy, low for a look-alike (two pages of one template, two frames of a scene).
- `geometry`: for pairs where it can change the verdict, the fraction of the smaller shared
  frame under a RANSAC-fitted similarity transform of matched ORB keypoints (0 when no
  consistent geometry); absent when the check could not decide (too few keypoints).
- `aligned`, `agree`: with `geometry`, the correlation of the two pictures' grey levels over
  that shared frame once aligned, and the share of its pixels that agree (`neardup.verify`):
  copies agree, look-alikes do not; an overlay lowers the first more than the second.

Two numbers come out of them, and they answer different questions:
- `similarity`: how alike the two pictures are: the embedding's cosine (the hashes' mean in a
  hash-only scan), 1.0 only for identical pixels (anything else is at most 0.999); within one
  kind of edit a stronger edit never scores higher (tests check graded series).
- `confidence`: how likely the pair is a copy, from the fitted model in `neardup.fusion`.
  Calibrated: of the pairs at about 0.9, about 90 % are duplicates. Presets are cuts on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup import fusion
from neardup.features.exact import identical
from neardup.features.hashes import hamming, hash_similarity
from neardup.features.thumbnail import thumb_similarity_of
from neardup.fusion import PairFacts
from neardup.records import Features

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EMBEDDING_METHODS = ("sscd_distilled", "sscd")
HASH_METHODS = ("phash", "dhash", "ahash", "whash")
ALL_METHODS = ("exact", "pdq", *HASH_METHODS, *EMBEDDING_METHODS)
DEFAULT_METHODS = ("exact", "pdq", "sscd_distilled")

PRESETS: dict[str, float] = fusion.fitted().presets
"""Cuts on the confidence, fitted with the fusion (docs/presets.md has their precision and
recall per edit kind)."""

IDENTICAL = 1.0
NEAR_IDENTICAL = 0.999
"""The highest similarity of two pictures whose pixels differ."""


@dataclass(frozen=True, slots=True)
class Scored:
    similarity: float
    confidence: float
    scores: dict[str, float]
    evidence: str
    inliers: float = float("nan")
    """RANSAC inliers of the geometric check, NaN where it did not run or decide."""


def raw_scores(
    images: Sequence[Features],
    pairs: Sequence[tuple[int, int]],
    methods: tuple[str, ...],
    stacks: dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]] | None = None,
) -> dict[str, FloatArray]:
    """Each method's similarity for every pair, as arrays (NaN where an image lacks it).

    Vectorised: scoring thousands of candidate pairs is a few array operations per method.
    """
    a = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    b = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    out: dict[str, FloatArray] = {}
    cache = {} if stacks is None else stacks

    def _stack(
        key: str, values: Callable[[], list[npt.NDArray[Any] | None]], shape: Any, dtype: type
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        if key not in cache:
            cache[key] = stack_feature(values(), shape, dtype)
        return cache[key]

    thumbs, has_thumb = _stack("small", lambda: [f.small for f in images], (32, 32), np.uint8)
    rows = np.flatnonzero(has_thumb[a] & has_thumb[b])
    thumb = np.full(len(pairs), np.nan)
    for start in range(0, len(rows), 8192):  # bounded memory: 8192 x 2 x 4 KiB
        part = rows[start : start + 8192]
        thumb[part] = thumb_similarity_of(thumbs, a[part], b[part])
    out["thumb"] = thumb
    for method in methods:
        if method == "exact":
            out["exact"] = _exact(images, a, b)
        elif method == "pdq":
            codes, present = _stack("pdq", lambda: [f.pdq for f in images], (8, 32), np.uint8)
            rows = np.flatnonzero(present[a] & present[b])
            d = np.minimum(
                hamming(codes[a[rows]], codes[b[rows], :1]).min(axis=1),
                hamming(codes[b[rows]], codes[a[rows], :1]).min(axis=1),
            )
            out["pdq"] = _fill(len(pairs), rows, hash_similarity(d, 256))
        elif method in HASH_METHODS:
            codes, present = _stack(
                method,
                lambda: [f.hashes.get(method) for f in images],  # noqa: B023 (called at once)
                (8,),
                np.uint8,
            )
            rows = np.flatnonzero(present[a] & present[b])
            d = hamming(codes[a[rows]], codes[b[rows]])
            out[method] = _fill(len(pairs), rows, hash_similarity(d, 64))
        elif method in EMBEDDING_METHODS:
            vectors, present = _stack(
                method,
                lambda: [f.embeddings.get(method) for f in images],  # noqa: B023
                None,
                np.float32,
            )
            rows = np.flatnonzero(present[a] & present[b])
            va, vb = vectors[a[rows]], vectors[b[rows]]
            cos = np.einsum("ij,ij->i", va, vb)
            flips, has_flip = _stack(
                "flip:" + method,
                lambda: [f.embeddings_flip.get(method) for f in images],  # noqa: B023
                vectors.shape[1:],
                np.float32,
            )
            if has_flip.any():
                cos = np.maximum(
                    cos, np.where(has_flip[a[rows]], np.einsum("ij,ij->i", flips[a[rows]], vb), -1)
                )
                cos = np.maximum(
                    cos, np.where(has_flip[b[rows]], np.einsum("ij,ij->i", flips[b[rows]], va), -1)
                )
            out[method] = _fill(len(pairs), rows, np.clip(cos, 0.0, 1.0))
    return out


def _exact(images: Sequence[Features], a: IntArray, b: IntArray) -> FloatArray:
    pairs = zip(a.tolist(), b.tolist(), strict=True)
    return np.asarray([identical(images[i], images[j]) for i, j in pairs], dtype=np.float64)


def stack_feature(
    values: list[npt.NDArray[Any] | None],
    shape: tuple[int, ...] | None,
    dtype: type,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """One array of a feature for all images (zeros where missing) and the presence mask."""
    present = np.array([v is not None for v in values], dtype=bool)
    if shape is None:
        shape = next((v.shape for v in values if v is not None), (0,))
    stacked: npt.NDArray[Any] = np.zeros((len(values), *shape), dtype=dtype)
    for i, v in enumerate(values):
        if v is not None:
            stacked[i] = v
    return stacked, present


def _fill(n: int, rows: IntArray, values: npt.NDArray[Any]) -> FloatArray:
    out = np.full(n, np.nan)
    out[rows] = values
    return out


def facts(
    images: Sequence[Features], pairs: Sequence[tuple[int, int]], inliers: FloatArray | None = None
) -> PairFacts:
    """The image facts the fusion uses, for each pair."""
    quality = np.array(
        [min(images[a].pdq_quality, images[b].pdq_quality) for a, b in pairs], dtype=np.float64
    )
    aspect = np.array(
        [abs(np.log(aspect_ratio(images[a]) / aspect_ratio(images[b]))) for a, b in pairs],
        dtype=np.float64,
    )
    if inliers is None:
        inliers = np.full(len(pairs), np.nan)
    return PairFacts(quality, aspect, inliers)


def aspect_ratio(image: Features) -> float:
    """Width / height of the picture inside any trimmed border."""
    left, top, right, bottom = image.trimmed or (0, 0, 0, 0)
    width = max(1, image.width - left - right)
    height = max(1, image.height - top - bottom)
    return width / height


def fuse_arrays(
    raw: dict[str, FloatArray], pair_facts: PairFacts, methods: Sequence[str]
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Similarity, confidence and deciding method for many pairs (fusing `methods` only).

    Pairs whose geometric check decided (a `geometry` score) use the geometry-aware model.
    """
    n = len(pair_facts.quality)
    key = fusion.model_key(methods)
    confidence = np.zeros(n)
    evidence = np.full(n, "none", dtype=object)
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
            evidence[rows] = _deciding(fused, part, part_facts, confidence[rows], name != key)
    similarity = graded(raw, fused, n)
    exact = np.nan_to_num(raw["exact"], nan=0.0) >= 1.0 if "exact" in raw else np.zeros(n, bool)
    confidence = np.where(exact, 1.0, confidence)
    similarity = np.where(exact, IDENTICAL, similarity)
    evidence = np.where(exact, "exact", evidence)
    return np.round(similarity, 4), np.round(confidence, 4), [str(e) for e in evidence]


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
) -> Scored:
    """Similarity and confidence of one pair from its per-method scores and facts."""
    raw = {m: np.array([v], dtype=np.float64) for m, v in scores.items()}
    pair_facts = PairFacts(np.array([pdq_quality]), np.array([aspect]), np.array([inliers]))
    similarity, confidence, labels = fuse_arrays(raw, pair_facts, methods)
    return Scored(float(similarity[0]), float(confidence[0]), scores, labels[0], inliers)


def score_pairs(
    images: Sequence[Features],
    pairs: Sequence[tuple[int, int]],
    methods: tuple[str, ...],
    *,
    chunk: int = 65536,
    stacks: dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]] | None = None,
) -> list[Scored]:
    """Per-method scores, similarity and confidence for every pair (index pairs into images).
    `stacks` keeps the images' stacked features between calls on the same images."""
    out: list[Scored] = []
    stacks = {} if stacks is None else stacks
    for start in range(0, len(pairs), chunk):  # bounded memory: chunk x 8 x 32 bytes for PDQ
        part = pairs[start : start + chunk]
        raw = raw_scores(images, part, methods, stacks)
        similarity, confidence, labels = fuse_arrays(raw, facts(images, part), methods)
        columns = [(m, raw[m].tolist()) for m in raw]
        for n in range(len(part)):
            scores = {m: values[n] for m, values in columns if values[n] == values[n]}
            out.append(Scored(float(similarity[n]), float(confidence[n]), scores, labels[n]))
    return out


def add_geometry(
    scored: Scored,
    check: tuple[float, float, float, int],
    methods: Sequence[str],
    a: Features,
    b: Features,
) -> Scored:
    """A pair rescored once its geometric check decided: (shared frame, aligned, agree,
    inliers)."""
    geometry, aligned, agree, inliers = check
    pair_facts = facts([a, b], [(0, 1)])
    return fuse(
        scored.scores
        | {"geometry": round(geometry, 4), "aligned": round(aligned, 4), "agree": round(agree, 4)},
        methods,
        pdq_quality=float(pair_facts.quality[0]),
        aspect=float(pair_facts.aspect[0]),
        inliers=float(inliers),
    )


def add_geometry_many(
    images: Sequence[Features],
    checked: Sequence[tuple[tuple[int, int], Scored, tuple[float, float, float, int]]],
    methods: Sequence[str],
) -> list[Scored]:
    """`add_geometry` for many pairs ((a, b), scored, check) at once, with the same results.

    Rescoring pair by pair cost ~3 ms each in the parent process (the fusion's array set-up
    per call), as much as the check itself; one `fuse_arrays` per set of present scores gives
    the same numbers for every pair (each pair's row is computed alone within the arrays).
    """
    out: list[Scored | None] = [None] * len(checked)
    by_keys: dict[tuple[str, ...], list[int]] = {}
    rows: list[dict[str, float]] = []
    for n, (_, scored, (geometry, aligned, agree, _inliers)) in enumerate(checked):
        row = scored.scores | {
            "geometry": round(geometry, 4),
            "aligned": round(aligned, 4),
            "agree": round(agree, 4),
        }
        rows.append(row)
        by_keys.setdefault(tuple(row), []).append(n)
    for keys, members in by_keys.items():
        raw = {m: np.array([rows[n][m] for n in members], dtype=np.float64) for m in keys}
        part = facts(images, [checked[n][0] for n in members])
        inliers = np.array([float(checked[n][2][3]) for n in members], dtype=np.float64)
        pair_facts = PairFacts(part.quality, part.aspect, inliers)
        similarity, confidence, labels = fuse_arrays(raw, pair_facts, methods)
        for i, n in enumerate(members):
            out[n] = Scored(
                float(similarity[i]), float(confidence[i]), rows[n], labels[i], float(inliers[i])
            )
    return [s for s in out if s is not None]


def needs_geometry(scored: Scored, cut: float) -> bool:
    """Whether the geometric check could change this pair's verdict at `cut`.

    Fitted with the fusion: outside the band, the check changed almost no verdict at that
    cut on the calibration halves, so it is not worth its decode and matching there.
    """
    if scored.evidence == "exact" or not any(m in scored.scores for m in EMBEDDING_METHODS):
        return False
    low, high = fusion.fitted().verify_band(cut)
    return low <= scored.confidence <= high


def score_pair(a: Features, b: Features, methods: tuple[str, ...]) -> Scored:
    return score_pairs([a, b], [(0, 1)], methods)[0]


def threshold_for(preset: str | None, threshold: float | None) -> float:
    """The fused threshold: an explicit number wins over a named preset."""
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        return threshold
    name = preset or "default"
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
