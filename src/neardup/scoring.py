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

from dataclasses import dataclass

import numpy as np

from neardup.features.hashes import hamming, hash_similarity
from neardup.records import Features

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


def method_scores(a: Features, b: Features, methods: tuple[str, ...]) -> dict[str, float]:
    """Every requested method's similarity in [0, 1], for the methods both images carry."""
    scores: dict[str, float] = {}
    for method in methods:
        if method == "exact":
            same = a.bytes_hash == b.bytes_hash or (
                a.pixel_hash is not None and a.pixel_hash == b.pixel_hash
            )
            scores["exact"] = 1.0 if same else 0.0
        elif method == "pdq" and a.pdq is not None and b.pdq is not None:
            d = min(int(hamming(a.pdq, b.pdq[0]).min()), int(hamming(b.pdq, a.pdq[0]).min()))
            scores["pdq"] = hash_similarity(d, 256)
        elif method in HASH_METHODS and method in a.hashes and method in b.hashes:
            d = int(hamming(a.hashes[method], b.hashes[method]))
            scores[method] = hash_similarity(d, 64)
        elif method in a.embeddings and method in b.embeddings:
            cos = float(np.dot(a.embeddings[method], b.embeddings[method]))
            for flipped, other in ((a, b), (b, a)):
                if method in flipped.embeddings_flip:
                    view = flipped.embeddings_flip[method]
                    cos = max(cos, float(np.dot(view, other.embeddings[method])))
            scores[method] = min(1.0, max(0.0, cos))
    return scores


def calibrate(method: str, raw: float) -> float:
    """A method's raw score on the shared fused scale."""
    anchors = CALIBRATION[method]
    return float(np.interp(raw, [x for x, _ in anchors], [y for _, y in anchors]))


def fuse(scores: dict[str, float], *, pdq_quality: int = 100) -> Scored:
    """The fused similarity: the strongest calibrated evidence, and which method gave it."""
    best, evidence = 0.0, "none"
    geometry = scores.get("geometry")
    for method, raw in scores.items():
        if method == "exact":
            if raw >= 1.0:
                return Scored(1.0, scores, "exact")
            continue
        if method == "pdq" and pdq_quality < MIN_PDQ_QUALITY:
            continue
        value = calibrate(method, raw)
        if method in EMBEDDING_METHODS and geometry is not None and geometry < 0.5:
            value = min(value, UNVERIFIED_CAP)
        if value > best:
            best, evidence = value, method
    return Scored(round(best, 6), scores, evidence)


def needs_geometry(scored: Scored) -> bool:
    """Whether a pair rests on embeddings alone, close enough to a threshold to check."""
    low, high = VERIFY_BAND
    return scored.evidence in EMBEDDING_METHODS and low <= scored.similarity < high


def score_pair(a: Features, b: Features, methods: tuple[str, ...]) -> Scored:
    scores = method_scores(a, b, methods)
    return fuse(scores, pdq_quality=min(a.pdq_quality, b.pdq_quality))


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
