"""A copy resized to other proportions (to 224 x 224 for a model, or given a border and resized
back) is stretched: a similarity transform fits only a band of it. Where a full affine fit on
the same matches explains clearly more of them, with unequal axes and no shear, that fit is
the transform the differences describe. The geometric check does not use it: there it also
aligned look-alikes, and a test half lost precision (benchmarks/RESULTS.md, session 17)."""

from __future__ import annotations

from typing import Any

import numpy as np

STRETCH_GAIN = 1.2
"""How many times the similarity's inliers (plus 4) a stretch must explain."""
STRETCH_BAND = (0.95, 1.05)
"""Width-to-height proportions of b over a's within which b is not called stretched."""
MAX_SHEAR = 0.05
"""Cosine of the angle between the transformed axes above which the fit is a shear, which no
edit a person makes gives: RANSAC fitting noise, not a stretch."""


def stretch_fit(
    cv2: Any, src: Any, dst: Any, fit: dict[str, Any], inliers: int
) -> tuple[Any, int] | None:
    """(affine 2 x 3 transform, its inliers) where the matched points `src` -> `dst` are a
    stretch that a similarity with `inliers` inliers fitted worse (`STRETCH_GAIN`), its axes
    scaled unequally (outside `STRETCH_BAND`) and square (`MAX_SHEAR`); else None. `fit`: the
    RANSAC settings the similarity was fitted with."""
    matrix, mask = cv2.estimateAffine2D(src, dst, **fit)
    if matrix is None or mask is None:
        return None
    found = int(mask.sum())
    if found < STRETCH_GAIN * inliers + 4:
        return None
    ratio, shear = stretch_of(matrix)
    if abs(shear) > MAX_SHEAR or not 1 / 3 < ratio < 3 or in_band(ratio, STRETCH_BAND):
        return None
    return matrix, found


def stretch_of(matrix: Any) -> tuple[float, float]:
    """(b's width-to-height proportion over a's, shear) of a 2 x 3 transform: how much more
    it scales a's x axis than its y axis, and the cosine between the two axes after it."""
    m = np.asarray(matrix, dtype=np.float64)[:, :2]
    along_x = float(np.hypot(m[0, 0], m[1, 0]))
    along_y = float(np.hypot(m[0, 1], m[1, 1]))
    if along_x <= 0 or along_y <= 0:
        return 1.0, 0.0
    shear = float(m[0, 0] * m[0, 1] + m[1, 0] * m[1, 1]) / (along_x * along_y)
    return along_x / along_y, shear


def in_band(value: float, band: tuple[float, float]) -> bool:
    """Whether `value` lies within `band` (inclusive)."""
    return band[0] <= value <= band[1]
