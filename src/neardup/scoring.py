"""Similarity: one score in [0, 1] per method, one fused score, and the named presets.

What each per-method score means:
- `exact`: 1 when the files are byte-identical or decode to identical pixels, else 0.
- `pdq`: 1 - 2d/256, d the smallest Hamming distance between one image's PDQ hash and any of
  the other's 8 dihedral views (rotations, flips); unrelated images score about 0.
- `phash`, `dhash`, `ahash`, `whash`: 1 - 2d/64 on the 64-bit imagehash hashes.
- `sscd`, `sscd_distilled`: cosine similarity of SSCD copy-detection embeddings (floored at
  0), the larger of the image-to-image and mirrored-image-to-image cosines where mirrored
  views were embedded.
- `geometry`: for borderline pairs decided by embeddings alone, the fraction of the smaller
  shared frame under a RANSAC-fitted similarity transform of matched ORB keypoints (0 when no
  consistent geometry); absent when the check could not decide (too few keypoints).

The fused `similarity` puts every method on one scale: each raw score is mapped through a
monotone curve calibrated on the evaluation set (`benchmarks/make_eval_set.py`, calibration
half) so that equal fused values mean roughly equal confidence whatever the method, and the
fused score is the strongest of them; `evidence` names that method. The presets are fused
thresholds; their precision and recall are in docs/presets.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.features.exact import identical
from neardup.features.hashes import hamming, hash_similarity
from neardup.records import Features

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EMBEDDING_METHODS = ("sscd_distilled", "sscd")
HASH_METHODS = ("phash", "dhash", "ahash", "whash")
ALL_METHODS = ("exact", "pdq", *HASH_METHODS, *EMBEDDING_METHODS)
DEFAULT_METHODS = ("exact", "pdq", "sscd_distilled")

PRESETS: dict[str, float] = {"strict": 0.9, "default": 0.8, "loose": 0.7}
"""Thresholds on the fused similarity."""

# Calibration curves: (raw score, fused score) anchors, linear in between, clamped at the ends.
# Fitted on the calibration half of the evaluation set; see benchmarks/calibrate.py.
CALIBRATION: dict[str, tuple[tuple[float, float], ...]] = {
    "exact": ((0.0, 0.0), (1.0, 1.0)),
    "pdq": ((0.0, 0.0), (0.5, 0.5), (0.76, 0.8), (1.0, 1.0)),
    "phash": ((0.0, 0.0), (0.6, 0.5), (0.8, 0.8), (1.0, 1.0)),
    "dhash": ((0.0, 0.0), (0.6, 0.5), (0.8, 0.8), (1.0, 1.0)),
    "ahash": ((0.0, 0.0), (0.6, 0.5), (0.85, 0.8), (1.0, 1.0)),
    "whash": ((0.0, 0.0), (0.6, 0.5), (0.85, 0.8), (1.0, 1.0)),
    "sscd_distilled": ((0.0, 0.0), (0.5, 0.5), (0.75, 0.8), (1.0, 1.0)),
    "sscd": ((0.0, 0.0), (0.5, 0.5), (0.75, 0.8), (1.0, 1.0)),
    "geometry": ((0.0, 0.0), (0.5, 0.8), (1.0, 1.0)),
}

UNVERIFIED_CAP = 0.6
"""When the geometric check could decide and found no shared frame, embedding evidence counts
for at most this much: alike, not copies (two tiles of one wall, two frames of a scene)."""
VERIFY_BAND = (0.66, 0.93)
"""Fused scores from embeddings alone in this band get the geometric check (`neardup.verify`)."""

MIN_PDQ_QUALITY = 50
"""PDQ hashes of flat, featureless pictures are unreliable (Meta's guidance); below this
quality a PDQ match is reported but does not count as evidence."""


@dataclass(frozen=True, slots=True)
class Scored:
    similarity: float
    scores: dict[str, float]
    evidence: str


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


def calibrate(method: str, raw: float | FloatArray) -> Any:
    """A method's raw score on the shared fused scale (scalar or array)."""
    anchors = CALIBRATION[method]
    mapped = np.interp(raw, [x for x, _ in anchors], [y for _, y in anchors])
    return float(mapped) if np.ndim(mapped) == 0 else mapped


def fuse_arrays(raw: dict[str, FloatArray], quality: IntArray) -> tuple[FloatArray, list[str]]:
    """Fused similarity and deciding method for many pairs: the strongest calibrated evidence.

    Exact identity gives 1; PDQ from low-quality hashes does not count; embeddings are capped
    at `UNVERIFIED_CAP` where the geometric check decided the pictures share no frame.
    """
    n = len(quality)
    best = np.zeros(n)
    evidence = np.full(n, -1)
    names = [m for m in raw if m != "exact"]
    geometry = raw.get("geometry")
    for k, method in enumerate(names):
        values = np.nan_to_num(calibrate(method, np.nan_to_num(raw[method], nan=0.0)), nan=0.0)
        values = np.where(np.isnan(raw[method]), 0.0, values)
        if method == "pdq":
            values = np.where(quality < MIN_PDQ_QUALITY, 0.0, values)
        if method in EMBEDDING_METHODS and geometry is not None:
            demote = ~np.isnan(geometry) & (np.nan_to_num(geometry, nan=1.0) < 0.5)
            values = np.where(demote, np.minimum(values, UNVERIFIED_CAP), values)
        better = values > best
        best = np.where(better, values, best)
        evidence = np.where(better, k, evidence)
    labels = [names[e] if e >= 0 else "none" for e in evidence.tolist()]
    if "exact" in raw:
        exact = np.nan_to_num(raw["exact"], nan=0.0) >= 1.0
        best = np.where(exact, 1.0, best)
        labels = ["exact" if x else label for x, label in zip(exact.tolist(), labels, strict=True)]
    return np.round(best, 6), labels


def fuse(scores: dict[str, float], *, pdq_quality: int = 100) -> Scored:
    """The fused similarity of one pair from its per-method scores."""
    raw = {m: np.array([v], dtype=np.float64) for m, v in scores.items()}
    best, labels = fuse_arrays(raw, np.array([pdq_quality]))
    return Scored(float(best[0]), scores, labels[0])


def score_pairs(
    images: Sequence[Features],
    pairs: Sequence[tuple[int, int]],
    methods: tuple[str, ...],
    *,
    chunk: int = 65536,
) -> list[Scored]:
    """Per-method scores and the fused similarity for every pair (index pairs into images)."""
    out: list[Scored] = []
    stacks: dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]] = {}
    for start in range(0, len(pairs), chunk):  # bounded memory: chunk x 8 x 32 bytes for PDQ
        part = pairs[start : start + chunk]
        raw = raw_scores(images, part, methods, stacks)
        quality = np.array(
            [min(images[a].pdq_quality, images[b].pdq_quality) for a, b in part], dtype=np.int64
        )
        best, labels = fuse_arrays(raw, quality)
        columns = [(m, raw[m].tolist()) for m in raw]
        for n in range(len(part)):
            scores = {m: values[n] for m, values in columns if values[n] == values[n]}
            out.append(Scored(float(best[n]), scores, labels[n]))
    return out


def needs_geometry(scored: Scored) -> bool:
    """Whether a pair rests on embeddings alone, close enough to a threshold to check."""
    low, high = VERIFY_BAND
    return scored.evidence in EMBEDDING_METHODS and low <= scored.similarity < high


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
