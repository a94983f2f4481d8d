"""How well two aligned grey samples agree: the geometric check's `aligned` and `agree`.

The check (`neardup.verify`) warps one picture onto the other and compares the grey levels of
the pixels both cover. A copy whose tones were changed (brightened until the light parts
clip, darkened, a gamma or contrast change) keeps every pixel's order of brightness but not
its level, and a correlation of levels read it as other content (brightened screenshots:
0.54-0.74). So the first sample's levels are mapped onto the second's distribution, rank for
rank (`tone_matched`), before they are compared: a monotone tone change then costs nothing,
while other content (another page of a template, a moved subject, an overlay) still
disagrees.

Where they disagree tells an overlay from other content (`spot_of`): a logo or a caption on a
copy is one compact spot of strong disagreement, the rest agreeing; a moved subject in
another frame of a clip is a larger, fainter one. How much of each frame a transform shares
(`frame_shares`) says whether the pictures were found whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ALIGNED_SIDE = 64
"""Side at which aligned pixels are compared: coarse enough that blur, noise and compression
do not matter, fine enough that different text or a moved subject does."""

AGREE_WITHIN = 0.5
"""Robust z-scores (median, interquartile range) closer than this count as agreeing."""
SPOT_GROWN = 2
"""Pixels (at the compared side) by which a spot's bounding box is grown on each side: an
overlay's soft edge (a shadow, a blend) belongs to it."""


@dataclass(frozen=True, slots=True)
class Spot:
    """Where two aligned pictures disagree: the largest connected region of disagreeing
    pixels (after a 3 x 3 closing, 4-connected), its bounding box grown by `SPOT_GROWN`."""

    share: float = 0.0
    """The box's share of the pixels both pictures cover (0: they agree everywhere)."""
    rest: float = 0.0
    """Share of the covered pixels outside the box that agree (0 with fewer than 16)."""
    depth: float = 0.0
    """Mean disagreement inside the box, robust z-score units, each pixel's capped at 2."""
    held: float = 0.0
    """The smaller of the two pictures' shares of their detail (grey-level gradients) lying
    outside the box: where the rest is flat (a symbol on a plain ground) its agreeing says
    nothing, and it is the spot that holds the picture."""
    crowded: float = 0.0
    """How much denser the detail is inside the box than outside it (each share over the
    area's), the smaller of the two pictures': under an overlay the original is about as
    detailed there as elsewhere; two pictograms both hold their symbols there."""


NO_SPOT = Spot()
"""Where nothing was compared (a dense finding, a transform on too few inliers)."""
AGREEING = Spot(0.0, 1.0, 0.0, 1.0, 1.0)
"""Two samples that agree everywhere: no spot, all the rest agreeing and holding the detail."""


def tone_matched(x: Any, y: Any) -> Any:
    """`x` (float32 grey levels) mapped onto `y`'s distribution by rank (two 1-D samples of one
    length, without NaN: the aligned pixels both pictures cover): the k-th smallest of
    x takes the k-th smallest of y; equal levels of x take the mean of their ranks' values,
    so the map is a function of the level (float32, x's order)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    sums = np.concatenate([[0.0], np.cumsum(np.sort(y).astype(np.float64))])
    return ((sums[ends] - sums[ends - counts]) / counts)[inverse].astype(np.float32)


def tone_fitted(x: Any, y: Any, bins: int = 32) -> Any:
    """`x` (float32 grey levels) mapped onto `y`'s by a robust tone map: x's levels cut into
    `bins` quantile bins, y's median in each, made non-decreasing (pool adjacent violators,
    weighted by the bins' sizes) and interpolated. Where a region of `y` was painted over (a
    band, a logo), `tone_matched` gives its mass of one level to x's levels of that rank and
    bends the map for the whole picture; a median per bin ignores it while it covers less than
    half of each bin."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cuts = np.unique(np.linspace(0, len(xs), bins + 1).astype(int))  # no empty bin
    starts, sizes = cuts[:-1], np.diff(cuts)
    in_bin = np.repeat(np.arange(len(sizes)), sizes)
    ys = y[order][np.lexsort((y[order], in_bin))]  # y sorted within each bin
    low, high = starts + (sizes - 1) // 2, starts + sizes // 2  # the middle one or two
    centres = ((xs[low] + xs[high]) / np.float32(2)).astype(np.float64)
    levels = _non_decreasing(((ys[low] + ys[high]) / np.float32(2)).tolist(), sizes.tolist())
    last = np.r_[np.diff(centres) > 0, True]  # bins of one level (a flat picture): one point
    return np.interp(x, centres[last], levels[last]).astype(np.float32)


def _non_decreasing(values: list[float], weights: list[int]) -> Any:
    """The weighted least-squares non-decreasing fit of `values` (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, float(weight), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m1, w1, n1), (m2, w2, n2) = blocks[-2], blocks.pop()
            blocks[-1] = [(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
    return np.repeat([b[0] for b in blocks], [int(b[2]) for b in blocks])


def spot_of(x: Any, y: Any, inside: Any) -> Spot:
    """The spot where two aligned samples disagree: `x` and `y` the grey levels (x already
    tone-matched) of the pixels `inside` covers (a 2-D mask), as `agreeing` reads them."""
    gap = np.zeros(inside.shape, np.float32)
    gap[inside] = np.abs(robust_z(x) - robust_z(y))
    apart = inside & (gap >= AGREE_WITHIN)
    if not apart.any():
        return AGREEING
    count, labels = _regions(apart)
    if count == 0:  # a lone pixel on the grid's edge, gone in the closing
        return AGREEING
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)) + 1)
    box = np.zeros_like(inside)
    height, width = inside.shape
    box[
        max(0, rows.min() - SPOT_GROWN) : min(height, rows.max() + 1 + SPOT_GROWN),
        max(0, cols.min() - SPOT_GROWN) : min(width, cols.max() + 1 + SPOT_GROWN),
    ] = True
    within, rest = box & inside, inside & ~box
    agree = float(np.mean(gap[rest] < AGREE_WITHIN)) if rest.sum() >= 16 else 0.0
    depth = float(np.mean(np.minimum(gap[within], 2.0)))
    share = float(within.sum() / inside.sum())
    outside = (_detail_outside(x, inside, box), _detail_outside(y, inside, box))
    # Each picture's detail per unit of area inside the box over that outside it (finite
    # where the box or the rest holds none: 1e6 is as good as infinite for the gate).
    rest_share = max(1.0 - share, 1e-6)
    crowded = min(((1 - o) / share) / max(o / rest_share, 1e-6) for o in outside)
    return Spot(share, agree, depth, min(outside), crowded)


def _detail_outside(levels: Any, inside: Any, box: Any) -> float:
    """Share of a picture's gradient (central differences, |x| + |y|, the grid's outer ring
    left out; the grey levels are 0 where the picture does not cover) outside `box`."""
    grid = np.zeros(inside.shape, np.float32)
    grid[inside] = levels
    gradient = np.zeros_like(grid)
    gradient[1:-1] += np.abs(grid[2:] - grid[:-2])
    gradient[:, 1:-1] += np.abs(grid[:, 2:] - grid[:, :-2])
    inner = inside.copy()
    inner[0, :] = inner[-1, :] = inner[:, 0] = inner[:, -1] = False
    total = float(gradient[inner].sum())
    return float(gradient[inner & ~box].sum()) / total if total > 0 else 0.0


def robust_z(v: Any) -> Any:
    """Robust z-scores of a sample: (v - median) / interquartile range (at least 1)."""
    mid, spread = robust_scale(v)
    return (v - mid) / spread


def robust_scale(v: Any) -> tuple[np.float64, float]:
    """A sample's median and interquartile range (at least 1): what `robust_z` scales by, for
    a caller that scales other values by this sample's."""
    low, mid, high = _quartiles(v)
    return mid, max(float(high - low), 1.0)


def _regions(mask: Any) -> tuple[int, Any]:
    """(count, labels) of a boolean mask's 4-connected regions (labels 1..count) after a 3 x 3
    closing; outside the grid counts as agreeing for its erosion too, so a region touching the
    edge loses its edge row (as scipy's `binary_closing`, on which the gate was measured)."""
    import cv2

    closed = cv2.morphologyEx(
        mask.astype(np.uint8),
        cv2.MORPH_CLOSE,
        np.ones((3, 3), np.uint8),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    count, labels = cv2.connectedComponents(closed, connectivity=4)
    return int(count) - 1, labels


def correlation(x: Any, y: Any) -> float:
    """Pearson correlation of two samples, floored at 0 (0 where either is flat)."""
    xc, yc = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((xc * xc).sum() * (yc * yc).sum()))
    return 0.0 if norm < 1e-6 else max(0.0, float((xc * yc).sum()) / norm)


def agreeing(x: Any, y: Any) -> float:
    """Share of positions where two aligned grey samples agree after robust normalisation."""
    return float(np.mean(np.abs(robust_z(x) - robust_z(y)) < AGREE_WITHIN))


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
    aligned comparison and the dense alignment's edge comparison read. `matrix` is a 2 x 3
    transform, or a 3 x 3 homography (a copy seen in perspective, `neardup.verify`)."""
    hb, wb = grey_b.shape
    warp = cv2.warpPerspective if np.shape(matrix) == (3, 3) else cv2.warpAffine
    warped = warp(grey_a, matrix, (wb, hb), flags=cv2.INTER_AREA)
    cover = warp(np.full(grey_a.shape, 255, np.uint8), matrix, (wb, hb), flags=cv2.INTER_NEAREST)
    scale = side / max(hb, wb)
    size = (max(8, round(wb * scale)), max(8, round(hb * scale)))
    small_a = cv2.resize(warped, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_b = cv2.resize(grey_b, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    inside = cv2.resize(cover, size, interpolation=cv2.INTER_AREA) >= 250
    return small_a, small_b, inside


def frame_shares(
    cv2: Any, matrix: Any, size_a: tuple[int, int], size_b: tuple[int, int]
) -> tuple[float, float]:
    """Fractions of frame A and of frame B covered by their intersection under `matrix` (a
    2 x 3 transform, or a 3 x 3 homography mapping A's frame to a convex quadrilateral). Both
    are measured in B's pixels: under a homography A's share is that of its quadrilateral
    there, which a perspective warp does not scale evenly (a copy seen whole reads 1 either
    way; a cropped one differs by a few hundredths from its share in A's own pixels)."""
    wa, ha = size_a
    wb, hb = size_b
    corners = np.array([[0, 0], [wa, 0], [wa, ha], [0, ha]], dtype=np.float32)
    if np.shape(matrix) == (3, 3):
        mapped = cv2.perspectiveTransform(corners[None], np.asarray(matrix, np.float64))[0]
        mapped_area = abs(float(cv2.contourArea(mapped.astype(np.float32))))
    else:
        mapped = corners @ matrix[:, :2].T + matrix[:, 2]
        mapped_area = abs(float(np.linalg.det(matrix[:, :2]))) * wa * ha
    frame_b = np.array([[0, 0], [wb, 0], [wb, hb], [0, hb]], dtype=np.float32)
    area, _ = cv2.intersectConvexConvex(mapped.astype(np.float32), frame_b)
    if area <= 0 or mapped_area <= 0:
        return 0.0, 0.0
    return min(1.0, area / mapped_area), min(1.0, area / (wb * hb))


def pixels_agree(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> tuple[float, float]:
    """Correlation of B with A warped into B's frame, over the pixels both cover, and the
    share of those pixels that agree (robust to an overlay, which lowers the first), A's
    grey levels first mapped onto B's (`neardup.aligned_pixels`)."""
    return pixels_compared(cv2, matrix, grey_a, grey_b, spot=False)[:2]


def pixels_compared(
    cv2: Any, matrix: Any, grey_a: Any, grey_b: Any, *, spot: bool = True
) -> tuple[float, float, Spot]:
    """`pixels_agree`'s two measures and, if asked, where the pixels disagree."""
    small_a, small_b, inside = aligned_samples(cv2, matrix, grey_a, grey_b, ALIGNED_SIDE)
    if inside.sum() < 16:
        return 0.0, 0.0, NO_SPOT
    x, y = tone_matched(small_a[inside], small_b[inside]), small_b[inside]
    where = spot_of(x, y, inside) if spot else NO_SPOT
    return correlation(x, y), agreeing(x, y), where
