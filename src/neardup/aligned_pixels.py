"""How well two aligned grey samples agree: the geometric check's `aligned` and `agree`.

The check (`neardup.verify`) warps one picture onto the other and compares the grey levels of
the pixels both cover. A copy whose tones were changed (brightened until the light parts
clip, darkened, a gamma or contrast change) keeps every pixel's order of brightness but not
its level, and a correlation of levels read it as other content (brightened screenshots:
0.54-0.74). So the first sample's levels are mapped onto the second's distribution, rank for
rank (`tone_matched`), before they are compared: a monotone tone change then costs nothing,
while other content (another page of a template, a moved subject, an overlay) still
disagrees.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

AGREE_WITHIN = 0.5
"""Robust z-scores (median, interquartile range) closer than this count as agreeing."""


def tone_matched(x: Any, y: Any) -> Any:
    """`x` (float32 grey levels) mapped onto `y`'s distribution by rank (two 1-D samples of one
    length, without NaN: the aligned pixels both pictures cover): the k-th smallest of
    x takes the k-th smallest of y; equal levels of x take the mean of their ranks' values,
    so the map is a function of the level (float32, x's order)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    sums = np.concatenate([[0.0], np.cumsum(np.sort(y).astype(np.float64))])
    return ((sums[ends] - sums[ends - counts]) / counts)[inverse].astype(np.float32)


def correlation(x: Any, y: Any) -> float:
    """Pearson correlation of two samples, floored at 0 (0 where either is flat)."""
    xc, yc = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((xc * xc).sum() * (yc * yc).sum()))
    return 0.0 if norm < 1e-6 else max(0.0, float((xc * yc).sum()) / norm)


def agreeing(x: Any, y: Any) -> float:
    """Share of positions where two aligned grey samples agree after robust normalisation."""

    def robust(v: Any) -> Any:
        low, mid, high = _quartiles(v)
        return (v - mid) / max(float(high - low), 1.0)

    return float(np.mean(np.abs(robust(x) - robust(y)) < AGREE_WITHIN))


def _quartiles(v: Any) -> tuple[np.float64, np.float64, np.float64]:
    """`np.percentile(v, (25, 50, 75))` of a 1-D float32 sample, to the last bit, for a tenth
    of its cost (numpy's general quantile machinery dominated the aligned comparison).

    The same steps as numpy's default ("linear") method: virtual index (n - 1) q, the two
    order statistics around it, and numpy's `_lerp` (difference in the sample's float32, the
    interpolation in float64, from the upper neighbour when the weight is >= 0.5).
    """
    n = len(v)
    places = [(n - 1) * q for q in (0.25, 0.5, 0.75)]
    below = [math.floor(p) for p in places]
    above = [min(b + 1, n - 1) for b in below]
    ordered = np.partition(v, sorted(set(below + above)))
    out = []
    for place, lo, hi in zip(places, below, above, strict=True):
        a, b = ordered[lo], ordered[hi]
        t = place - lo
        step = float(b - a)  # float32 difference, as numpy's _lerp takes it
        out.append(np.float64(float(b) - step * (1 - t) if t >= 0.5 else float(a) + step * t))
    return out[0], out[1], out[2]


def aligned_samples(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any, side: int) -> Any:
    """(a warped by `matrix` into b's frame, b, where a covers b): both reduced so the longer
    side is `side` pixels, as float32, and the covered mask (booleans). What the check's
    aligned comparison and the dense alignment's edge comparison read."""
    hb, wb = grey_b.shape
    warped = cv2.warpAffine(grey_a, matrix, (wb, hb), flags=cv2.INTER_AREA)
    cover = cv2.warpAffine(
        np.full(grey_a.shape, 255, np.uint8), matrix, (wb, hb), flags=cv2.INTER_NEAREST
    )
    scale = side / max(hb, wb)
    size = (max(8, round(wb * scale)), max(8, round(hb * scale)))
    small_a = cv2.resize(warped, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_b = cv2.resize(grey_b, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    inside = cv2.resize(cover, size, interpolation=cv2.INTER_AREA) >= 250
    return small_a, small_b, inside
