"""The pixel measures behind `neardup.differences`: colour map and overlay, sharpness, JPEG
quality from the quantisation tables, greyness, and the dihedral view of whole frames.

Each is a plain function of arrays (the caller aligns the pictures), so each can be tested on
its own. OpenCV is imported where used, as in `neardup.verify`, so `import neardup` stays light.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.difference_resample import Reduce, area_reduce, warp_small

Array = npt.NDArray[Any]

# The IJG (libjpeg) luminance table that quality settings scale (JPEG standard, Annex K).
_IJG_LUMINANCE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
).ravel()


def _ijg_table(quality: int) -> Array:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((_IJG_LUMINANCE * scale + 50) // 100, 1, 255)


_SUMS = np.array([_ijg_table(q).sum() for q in range(1, 101)], dtype=np.float64)


def jpeg_quality(tables: Mapping[int, Sequence[int]] | None) -> int | None:
    """The IJG quality (1-100) whose luminance table is closest to the file's, by the tables'
    sums (order-free, exact for libjpeg's own tables, an estimate for a camera's)."""
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
    total = float(np.sum(np.asarray(tables[0], dtype=np.float64)))
    return int(np.argmin(np.abs(_SUMS - total))) + 1


GREY_SPREAD = 3.0
"""Mean spread between a pixel's channels (0-255) under which a picture is grey: JPEG chroma
noise in a grey picture stays near 1."""
COLOUR_SPREAD = 8.0
"""Spread above which a picture clearly has colour: a muted photograph whose heavy JPEG lost
most of its chroma is not reported as made grey."""


def colour_spread(rgb: Array) -> float:
    """Mean spread between a pixel's channels (0-255): 0 for a grey picture. On every other
    row and column: element-wise maxima, not a reduction over an axis of 3 (10x faster)."""
    r, g, b = (rgb[::2, ::2, c].astype(np.int16) for c in range(3))
    return float((np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).mean())


def dihedral_view(grey_a: Array, grey_b: Array) -> tuple[int, bool] | None:
    """(quarter turns anticlockwise, mirrored) that best take a's whole frame onto b's: the
    target is b mirrored when `mirrored`. None when no view correlates (above 0.5).

    The view as is wins unless another correlates clearly better (symmetric pictures)."""

    import cv2

    def small(grey: Array) -> Array:
        out = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
        out -= out.mean()
        return out / max(float(np.sqrt((out * out).sum())), 1e-6)

    best: tuple[float, int, bool] | None = None
    for mirror in (False, True):
        target = small(grey_b[:, ::-1] if mirror else grey_b)
        for turns in range(4):
            corr = float((small(np.rot90(grey_a, turns)) * target).sum())
            if best is None or corr > best[0] + 0.05:
                best = (corr, turns, mirror)
    if best is None or best[0] < 0.5:
        return None
    return best[1], best[2]


def _warp_cover(
    cv2: Any, matrix: Array, shape_from: tuple[int, ...], size: tuple[int, int]
) -> Array:
    """Where a picture of `shape_from` lands under `matrix` in a frame of `size` (w, h)."""
    ones = np.full(shape_from[:2], 255, np.uint8)
    return np.asarray(cv2.warpAffine(ones, matrix, size, flags=cv2.INTER_NEAREST))


_LUMA = np.array([0.299, 0.587, 0.114])
OVERLAY_LEVELS = 48.0
"""Residual (0-255, RGB distance) of the colour map above which a pixel disagrees."""


_IDENTITY = np.vstack([np.eye(3), np.zeros((4, 3))])
"""The colour map that changes nothing (weights of x, x squared, constant)."""
PRIOR = 0.001
"""Pull of the fit towards the identity, per pixel fitted: where the pixels say little (a
chart's few colours on a white page) the map stays near 'no change' rather than swinging."""
KEEP_RESIDUAL = 24.0
"""Pixels fitted within this (0-255) are always kept in the refit, however many there are."""


CHANGE_PERCENTILE = 90
"""How far the colour map moves colours is read at this percentile of the pixels: a
document or chart is mostly white page, which a contrast or hue change leaves white."""


def percentile(values: Array, q: float) -> float:
    """`np.percentile(values, q)` of a 1-D array (linear, the same number to the last bit),
    from `np.partition` of the two neighbouring ranks rather than numpy's general path (half
    the time on the few thousand pixels of `_fit`)."""
    n = len(values)
    index = (n - 1) * (q / 100)
    low = math.floor(index)
    high = min(low + 1, n - 1)
    ordered = np.partition(values, (low, high))
    below, above = float(ordered[low]), float(ordered[high])
    t = index - low
    # numpy's own interpolation (`_lerp`): from the nearer end, so that t = 1 gives `above`.
    return above - (above - below) * (1 - t) if t >= 0.5 else below + (above - below) * t


def _map_fitted(chosen: Array, features: Array, y: Array) -> tuple[Array, Array]:
    """The colour map fitted on `chosen` (features then target, by pixels), applied to every
    pixel's `features` (channels by pixels), and its residual per pixel against `y` (0-255)."""
    pull = PRIOR * chosen.shape[1]
    products = chosen[:7] @ chosen.T  # features by (features, target)
    gram = products[:, :7] + pull * np.eye(7)
    weights = np.linalg.solve(gram, products[:, 7:] + pull * _IDENTITY)
    fitted = weights.T @ features
    error = fitted - y
    error *= error
    return fitted, np.sqrt(error[0] + error[1] + error[2]) * 255


def _fit(x: Array, y: Array) -> tuple[Array, float]:
    """Residual per pixel (0-255) of the colour map fitted from x to y, and how far the map
    moves x's colours (`CHANGE_PERCENTILE` of the pixels' mean over channels, 0-255). Normal
    equations: 7 unknowns a channel, refitted without the worst-fitted pixels (an overlay).

    x and y are channels by pixels (3 x n): every per-pixel step then runs along contiguous
    rows, and the features and the target are one array, so each refit selects its pixels
    once and one product gives both sides of the normal equations."""
    n = x.shape[1]
    rows = np.empty((10, n))
    rows[:3] = x
    np.multiply(x, x, out=rows[3:6])
    rows[6] = 1.0
    rows[7:] = y
    features = rows[:7]
    fitted, residual = _map_fitted(rows, features, y)
    for _ in range(2):  # refitted on the pixels the last map fitted well
        use = residual <= max(percentile(residual, 60), KEEP_RESIDUAL)
        fitted, residual = _map_fitted(np.compress(use, rows, axis=1), features, y)
    np.clip(fitted, 0, 1, out=fitted)
    fitted -= x
    np.abs(fitted, out=fitted)
    moved = (fitted[0] + fitted[1] + fitted[2]) / 3 * 255
    return residual, percentile(moved, CHANGE_PERCENTILE)


def colour_fit(
    cv2: Any,
    matrix: Array,
    rgb_a: Array,
    rgb_b: Array,
    side: int,
    grey: bool = False,
    reduce: Reduce | None = None,
) -> tuple[float, float] | None:
    """(colour change, overlay share) of b against a warped onto it; None when the two
    share too little.

    A colour map (each channel a quadratic in the three channels: brightness, contrast, gamma,
    hue, saturation, greyscale) is fitted by least squares, then refitted on the 60 % of
    pixels it fits best so that an overlay does not bend it; both ways round, since a map
    from the overlaid picture can bend the overlay's own colours onto the picture below. The
    change is the smaller of the two ways; the overlay share the larger part of the common
    area whose residual stays above `OVERLAY_LEVELS` in patches (not single pixels).
    With `grey` (one picture lost its colour) both are compared as grey: no map brings the
    colour back, and that is not an overlay. `reduce`: the area reduction to use (a worker's
    `difference_resample.Reductions`), else a plain one.
    """
    reduce = reduce or area_reduce(cv2)
    hb, wb = rgb_b.shape[:2]
    k = side / max(hb, wb)
    size = (max(8, round(wb * k)), max(8, round(hb * k)))
    small_b = reduce(rgb_b, size).astype(np.float64) / 255
    small_a, cover = warp_small(cv2, matrix, rgb_a, (wb, hb), size, reduce)
    inside = cv2.erode((cover >= 250).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if inside.sum() < 32:
        return None
    # Channels by pixels, as `_fit` takes them.
    x, y = small_a.transpose(2, 0, 1)[:, inside], small_b.transpose(2, 0, 1)[:, inside]
    if grey:
        x = np.repeat((_LUMA @ x)[None], 3, axis=0)
        y = np.repeat((_LUMA @ y)[None], 3, axis=0)
    changes, shares = [], []
    for source, target in ((x, y), (y, x)):
        residual, change = _fit(source, target)
        wrong = np.zeros(inside.shape, np.uint8)
        wrong[inside] = residual > OVERLAY_LEVELS
        wrong = cv2.morphologyEx(wrong, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        changes.append(change)
        shares.append(float(wrong[inside].mean()))
    return min(changes), max(shares)


SHARPNESS_SCALE = 0.5
"""Both pictures are reduced (area-averaged) to this share of the smaller one's scale before
the Laplacian, so neither is judged at a scale the other was not resampled to."""
TILE = 24
"""Side (reduced pixels) of the tiles whose sharpness ratios are compared."""
FLAT_TILE = 4.0
GRAIN_CONTRAST = 50.0
"""Grain is given in grey levels of a picture whose grey levels spread this much (a typical
photograph's standard deviation)."""
"""Grey standard deviation under which a tile has no detail to judge."""


def _reduced(
    cv2: Any, grey: Array, cover: Array, k: float, reduce: Reduce
) -> tuple[Array, Array, Array]:
    """(grey, Laplacian, inside mask) at scale `k`: whole numbers (uint8 grey, int16
    Laplacian), so that every sum over them is exact whatever adds it up."""
    h, w = grey.shape[:2]
    size = (max(8, round(w * k)), max(8, round(h * k)))
    small = reduce(grey, size)
    mask = cv2.resize(cover, size, interpolation=cv2.INTER_NEAREST) >= 250
    mask = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return small, cv2.Laplacian(small, cv2.CV_16S), mask


class _Boxes:
    """Sums over any TILE x TILE boxes of a picture, from integral images (one pass, then
    four lookups a box), for its grey values, their squares, the Laplacian's, and the mask.

    The planes hold whole numbers, so `cv2.integral2` (sums and sums of squares in one pass,
    no squared copies) gives exactly the sums that float planes did."""

    def __init__(self, cv2: Any, grey: Array, lap: Array, mask: Array) -> None:
        grey_sums = cv2.integral2(grey, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
        lap_sums = cv2.integral2(lap, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
        self.sums = [*grey_sums, *lap_sums, cv2.integral(mask.astype(np.uint8))]
        self.height, self.width = grey.shape[:2]
        shared = grey[mask].astype(np.float64)
        self.contrast = max(float(shared.std()) if len(shared) else 0.0, 1.0)
        """Grey standard deviation over the shared area: a brightness or contrast change
        scales the grain as much, so grain is compared in units of it."""

    def inside(self, x: Array, y: Array) -> Array:
        """Boxes at (x, y) (top-left corners) that lie in the picture and the mask."""
        fits = (x >= 0) & (y >= 0) & (x + TILE <= self.width) & (y + TILE <= self.height)
        covered = np.zeros(len(x), bool)
        covered[fits] = self._sum(4, x[fits], y[fits]) >= TILE * TILE - 0.5
        return covered

    def _sum(self, plane: int, x: Array, y: Array) -> Array:
        s = self.sums[plane]
        return np.asarray(s[y + TILE, x + TILE] - s[y, x + TILE] - s[y + TILE, x] + s[y, x])

    def spread(self, x: Array, y: Array) -> Array:
        """Grey standard deviation per box."""
        n = TILE * TILE
        variance = self._sum(1, x, y) / n - (self._sum(0, x, y) / n) ** 2
        return np.sqrt(np.maximum(variance, 0.0))

    def detail(self, x: Array, y: Array) -> Array:
        """Laplacian variance over grey variance per box (detail relative to contrast, so a
        contrast or brightness change leaves it alone); NaN for flat boxes."""
        n = TILE * TILE
        grey_var = self._sum(1, x, y) / n - (self._sum(0, x, y) / n) ** 2
        lap_var = self._sum(3, x, y) / n - (self._sum(2, x, y) / n) ** 2
        flat = grey_var < FLAT_TILE * FLAT_TILE
        return np.where(flat, np.nan, lap_var / np.maximum(grey_var, 1e-9))


def sharpness(
    cv2: Any, matrix: Array, grey_a: Array, grey_b: Array, reduce: Reduce | None = None
) -> tuple[float | None, float | None]:
    """(sharpness, grain) of b against a, over the tiles they share, at one scale.

    Sharpness (< 1: b blurrier): the median over matching tiles with detail of the ratio of
    their contrast-normalised Laplacian variances; the median ignores tiles under an overlay
    or a caption. Grain: over the tiles flat in a (a plain background, a sky), how much
    more b's grey levels spread than a's, each relative to its picture's contrast (median,
    in levels of a picture of contrast `GRAIN_CONTRAST`): added noise shows there, not in
    the detail. Tiles are matched through `matrix` but never warped (a warp would
    blur one picture)."""
    factor = float(np.hypot(matrix[0, 0], matrix[1, 0]))  # b pixels per a pixel
    hb, wb = grey_b.shape[:2]
    ha, wa = grey_a.shape[:2]
    in_b = _warp_cover(cv2, matrix, grey_a.shape, (wb, hb))
    in_a = _warp_cover(cv2, cv2.invertAffineTransform(matrix), grey_b.shape, (wa, ha))
    k_b = SHARPNESS_SCALE * min(1.0, 1.0 / factor)
    k_a = k_b * factor
    reduce = reduce or area_reduce(cv2)
    boxes_a = _Boxes(cv2, *_reduced(cv2, grey_a, in_a, k_a, reduce))
    boxes_b = _Boxes(cv2, *_reduced(cv2, grey_b, in_b, k_b, reduce))
    # A grid of tiles in b, their centres taken to a's reduced pixels through the transform.
    ys, xs = np.mgrid[0 : boxes_b.height - TILE + 1 : TILE, 0 : boxes_b.width - TILE + 1 : TILE]
    xb, yb = xs.ravel(), ys.ravel()
    back = cv2.invertAffineTransform(matrix)
    linear, shift = back[:, :2] * (k_a / k_b), back[:, 2] * k_a
    centres = np.stack([xb + TILE / 2, yb + TILE / 2], axis=1) @ linear.T + shift
    xa = np.round(centres[:, 0] - TILE / 2).astype(np.int64)
    ya = np.round(centres[:, 1] - TILE / 2).astype(np.int64)
    keep = boxes_b.inside(xb, yb) & boxes_a.inside(xa, ya)
    if not keep.any():
        return None, None
    xb, yb, xa, ya = xb[keep], yb[keep], xa[keep], ya[keep]
    spread_a, spread_b = boxes_a.spread(xa, ya), boxes_b.spread(xb, yb)
    flat = spread_a < FLAT_TILE
    relative = spread_b / boxes_b.contrast - spread_a / boxes_a.contrast
    grain = float(np.median(relative[flat])) * GRAIN_CONTRAST if flat.sum() >= 4 else None
    with np.errstate(divide="ignore", invalid="ignore"):  # a tile with no curvature (a ramp)
        ratios = boxes_b.detail(xb, yb) / boxes_a.detail(xa, ya)
    ratios = ratios[np.isfinite(ratios) & (ratios > 0)]
    if len(ratios) < 4:
        return None, grain
    return math.exp(float(np.median(np.log(ratios)))), grain


def frame_matrix(shape_a: tuple[int, ...], shape_b: tuple[int, ...], turns: int) -> Any:
    """The transform taking a's whole frame onto b's (the caller mirrors b), turned by
    `turns` quarter turns anticlockwise, scaled by the area ratio (the frame fallback)."""
    ha, wa = shape_a[:2]
    hb, wb = shape_b[:2]
    centre_a = np.array([wa / 2, ha / 2])
    factor = math.sqrt((wb * hb) / (wa * ha))
    theta = -math.radians(90 * turns)  # anticlockwise on screen is negative in image axes
    rotation = factor * np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
    )
    offset = np.array([wb / 2, hb / 2]) - rotation @ centre_a
    return np.hstack([rotation, offset[:, None]])


def full_frame_matrix(shape_a: tuple[int, ...], shape_b: tuple[int, ...], turns: int) -> Any:
    """As `frame_matrix`, but a's whole frame onto b's whole frame, each axis scaled on its
    own: the frame fallback's transform for a copy resized to other proportions."""
    ha, wa = shape_a[:2]
    hb, wb = shape_b[:2]
    turned_w, turned_h = (wa, ha) if turns % 2 == 0 else (ha, wa)
    theta = -math.radians(90 * turns)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    linear = np.diag([wb / turned_w, hb / turned_h]) @ rotation
    offset = np.array([wb / 2, hb / 2]) - linear @ np.array([wa / 2, ha / 2])
    return np.hstack([linear, offset[:, None]])


Box = tuple[float, float, float, float]
"""(left, top, right, bottom) in a picture's pixels."""


def shared_boxes(matrix: Array, box_a: Box, box_b: Box) -> tuple[float, float]:
    """Shares of box a (in a's pixels) and of box b (in b's) inside their intersection once
    box a is taken into b's pixels by `matrix` (a similarity transform)."""
    import cv2

    x0, y0, x1, y1 = box_a
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    mapped = (corners @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
    u0, v0, u1, v1 = box_b
    frame_b = np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float32)
    area, _ = cv2.intersectConvexConvex(mapped, frame_b)
    scale2 = abs(float(np.linalg.det(matrix[:, :2])))
    area_a, area_b = (x1 - x0) * (y1 - y0), (u1 - u0) * (v1 - v0)
    if area <= 0 or scale2 <= 0 or area_a <= 0 or area_b <= 0:
        return 0.0, 0.0
    return min(1.0, area / (scale2 * area_a)), min(1.0, area / area_b)
