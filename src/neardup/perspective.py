"""A copy seen in perspective: the geometric check's homography (`neardup.verify`).

The check fits a similarity transform (rotation, scale, shift) to ORB matches. A copy
photographed at an angle or keystoned (its frame a trapezoid), or resized to other
proportions, lines up only partly under it: its pixels read as other content at the far side
(the blind set's keystoned copies: aligned 0.75-0.89). Where the similarity transform leaves
the pixels apart (`worth_a_homography`), a homography fitted to the same matches is read
instead (`in_perspective`) if it gains inliers, stays a mild, unmirrored warp of frames found
whole and makes the pixels agree as a copy's do. On another frame of a clip a homography
gains few inliers and leaves the moved parts apart (RESULTS.md, session 54).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neardup.aligned_pixels import Spot, frame_shares

PERSPECTIVE_FROM = 20
"""Inliers of the similarity transform from which a homography is tried."""
PERSPECTIVE_BELOW = 0.97
"""A similarity transform whose `aligned` or `agree` is under this is tried as a homography
too (a copy seen whole and aligned is not: it costs a RANSAC fit and a comparison a pair)."""
PERSPECTIVE_GAIN = (1.1, 4)
"""A homography replaces the similarity transform with at least this many inliers: 1.1 times
theirs plus 4. On the calibration halves five of the blind set's nine keystoned copies gained
14-42 % (two were aligned already, two were not under either), another frame of a clip 0-47 %,
mostly with worse aligned pixels (RESULTS.md, session 54)."""
PERSPECTIVE_AGREES = 0.98
"""And only where under it the pixels agree as a copy's do, `aligned` and `agree` both this
high: a homography also lines up more of another frame of a panning clip (burst frames rose
to 0.61-0.95 and joined their neighbours' groups when a gain in `aligned` was all it took),
never that far on the calibration halves (RESULTS.md, session 54)."""
PERSPECTIVE_WHOLE = 0.85
"""And only for a copy seen whole: each frame shares this much under the homography (a
keystoned copy's filled corners leave about 0.91 at a 9 % keystone). Parts of a picture keep
the similarity transform: on a mixed calibration half a rotated copy against a border copy
(frame 0.57) passed under a homography, and the grouping then drew two template look-alikes
that the words comparison had lifted against that copy into its group (RESULTS.md, session 54)."""
PERSPECTIVE_MOST = 0.5
"""Bound on how far a homography's divisor moves across the frame (|h20| w + |h21| h, with
h22 = 1): a mild keystone, not a picture seen edge-on."""

Seen = tuple[int, float, float, float, float, Spot]
"""(inliers, overlap_a, overlap_b, aligned, agree, spot) under the homography."""


def worth_a_homography(inliers: int, aligned: float, agree: float) -> bool:
    """Whether a similarity finding is tried as a homography too: enough inliers, its pixels
    apart somewhere (a copy seen whole and aligned costs no RANSAC fit nor comparison)."""
    return inliers >= PERSPECTIVE_FROM and min(aligned, agree) < PERSPECTIVE_BELOW


def in_perspective(
    cv2: Any,
    src: Any,
    dst: Any,
    sizes: tuple[tuple[int, int], tuple[int, int]],
    inliers: int,
    compare: Callable[[Any], tuple[float, float, Spot]],
) -> Seen | None:
    """The finding under a homography fitted to the matches `src` -> `dst` (frames of
    `sizes`), where it explains them clearly better than the similarity transform's
    `inliers`: `PERSPECTIVE_GAIN`, `mild`, `PERSPECTIVE_WHOLE`, then the pixels as `compare`
    reads them under it (`PERSPECTIVE_AGREES`); None otherwise."""
    size_a, size_b = sizes
    fitted = gaining(cv2, src, dst, size_a, inliers, max(2.0, 0.01 * float(np.hypot(*size_b))))
    if fitted is None:
        return None
    found, homography = fitted
    overlap_a, overlap_b = frame_shares(cv2, homography, size_a, size_b)
    if min(overlap_a, overlap_b) < PERSPECTIVE_WHOLE:
        return None
    aligned, agree, spot = compare(homography)
    if min(aligned, agree) < PERSPECTIVE_AGREES:
        return None
    return found, overlap_a, overlap_b, aligned, agree, spot


def gaining(
    cv2: Any, src: Any, dst: Any, size: tuple[int, int], inliers: int, threshold: float
) -> tuple[int, Any] | None:
    """(inliers, homography) fitted by RANSAC (reprojection `threshold`) to the matches `src`
    (in a frame of `size`) -> `dst`, where it is `mild` and holds `PERSPECTIVE_GAIN` more of
    them than another transform's `inliers`; None otherwise."""
    homography, mask = cv2.findHomography(
        src, dst, cv2.RANSAC, threshold, maxIters=2000, confidence=0.995
    )
    if homography is None or mask is None or not mild(cv2, homography, size):
        return None
    found = int(mask.sum())
    if found < PERSPECTIVE_GAIN[0] * inliers + PERSPECTIVE_GAIN[1]:
        return None
    return found, homography


def mild(cv2: Any, homography: Any, size: tuple[int, int]) -> bool:
    """Whether a homography (normalised to h22 = 1, as OpenCV's `findHomography` returns it)
    maps a frame of `size` to a convex quadrilateral, not mirrored, its divisor
    (h20 x + h21 y + 1) moving by at most `PERSPECTIVE_MOST` across the frame."""
    h = np.asarray(homography, np.float64)
    width, height = size
    if abs(h[2, 0]) * width + abs(h[2, 1]) * height > PERSPECTIVE_MOST:
        return False
    corners = np.array([[[0, 0], [width, 0], [width, height], [0, height]]], np.float64)
    mapped = cv2.perspectiveTransform(corners, h)[0]
    edges = np.roll(mapped, -1, axis=0) - mapped
    following = np.roll(edges, -1, axis=0)
    turns = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    return bool((turns > 0).all())  # image y points down: a mirror turns the corners back
