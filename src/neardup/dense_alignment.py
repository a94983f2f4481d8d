"""Alignment of two pictures too smooth for keypoints (skies, gradients, flat wallpapers).

ORB finds corners; a smooth wallpaper tile has a few dozen at best, so the geometric check
(`neardup.verify`) could not decide its crops, turns and banners, and they stayed at the
embedding's verdict, where a neighbouring tile of the same wallpaper scores as high. Here the
pictures' grey levels themselves are aligned: one picture, scaled, turned and cut to the
largest upright rectangle inside it, is slid over the other (normalised cross-correlation,
OpenCV's `matchTemplate`), in each of the other's 8 dihedral views and both ways round (a
crop lies inside its source; a source lies inside a copy turned without crop or padded).

    grey a, grey b --coarse grid at COARSE_SIDE px--> best few (view, way, scale, turn)
                   --finer grid at FINE_SIDE px around them--> transform a -> b's view

The caller (`neardup.verify`) measures the shared frame and compares the aligned pixels, as
for a keypoint transform; what the correlation itself found is not a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neardup.aligned_pixels import aligned_samples

COARSE_SIDE = 32
"""Longer side of the picture slid over at the coarse step: smooth pictures keep their
shapes at this size, and the grid's ~900 correlations cost a few milliseconds."""
FINE_SIDE = 64
BASE_SIDE = 256
"""Longer side of the one reduction of each picture the searched sizes are taken from (the
check decodes at a shorter side of 256; a reduction to 128 moved the calibration halves'
verdicts near the gate, this one none)."""
COARSE_TURNS = tuple(range(-20, 21, 4))
"""Small turns searched (degrees): the copies' 3-20 degrees either way and none."""
COARSE_SCALES = tuple(float(s) for s in np.geomspace(0.55, 1.0, 5))
"""Longer side of the slid picture as a share of the other's: down to a crop of about 30 %
of the area (a side of 0.55)."""
KEEP = 3
"""Coarse candidates refined."""
VIEWS_TURNED = 2
"""Views (with the way round) searched for every small turn: the best over `RANKING_TURNS`."""
RANKING_TURNS = (-15.0, 0.0, 15.0)
"""Turns every view is tried at first: untilted alone, a turn of 15-20 degrees of a picture
with some texture ranked the right view third (a reviewer's case)."""
MIN_TEMPLATE = 8
"""Pixels a side the slid rectangle needs at the coarse size to mean anything."""


@dataclass(frozen=True, slots=True)
class Found:
    """The best alignment: correlation, the 2 x 3 matrix from a's pixels to the chosen view
    of b, and that view (b's grey turned `turns` quarter turns after an optional mirror)."""

    correlation: float
    matrix: Any
    view: Any
    turns: int = 0
    mirror: bool = False

    def to_picture(self, grey_b: Any) -> Any:
        """The matrix from a's pixels to b's own (mirrored where `mirror`), the view's quarter
        turns undone: what `neardup.differences` measures a turn and a crop from."""
        back = np.eye(3)
        h, w = grey_b.shape[:2]
        for _ in range(self.turns):
            # np.rot90 once: the turned picture's (x, y) is the unturned's (w - 1 - y, x).
            back = back @ np.array([[0.0, -1.0, w - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
            h, w = w, h
        return (back @ np.vstack([self.matrix, [0.0, 0.0, 1.0]]))[:2]


Small = tuple[Any, float]
"""A grey picture reduced (float32), with its factor from the full picture."""
Pictures = tuple[Small, list[Small]]
"""Picture a and the 8 views of picture b, each reduced once to `BASE_SIDE`."""
Candidate = tuple[float, int, int, float, float]
"""(correlation, view, way round, scale, turn) of a coarse match."""


def align(cv2: Any, grey_a: Any, grey_b: Any) -> Found | None:
    """The transform under which `grey_a` best matches a dihedral view of `grey_b` (both uint8
    at the check's working size); None where either is too small or flat."""
    if min(*grey_a.shape, *grey_b.shape) < MIN_TEMPLATE * 2:
        return None
    views = [_view(grey_b, turns, mirror) for mirror in (False, True) for turns in range(4)]
    # Every size searched is reduced from these (one area reduction of each full picture).
    base_b, factor_b = _small(cv2, (grey_b, 1.0), BASE_SIDE)
    bases = [
        (_view(base_b, turns, mirror), factor_b) for mirror in (False, True) for turns in range(4)
    ]
    pictures = (_small(cv2, (grey_a, 1.0), BASE_SIDE), bases)
    reduced = _Reduced(cv2)
    coarse = _coarse(reduced, pictures)
    if not coarse:
        return None
    best = _refined(cv2, reduced, pictures, sorted(coarse, reverse=True)[:KEEP])
    if best is None:
        return None
    v = best[2]
    return Found(best[0], best[1], views[v], turns=v % 4, mirror=v >= 4)


def whole(cv2: Any, grey_a: Any, grey_b: Any) -> Found | None:
    """`grey_a` stretched onto the whole frame of the dihedral view of `grey_b` it correlates
    with best (no shift, scale or turn searched): a copy that keeps its frame under an overlay,
    which keypoints failed to align (RESULTS.md, session 34); None where either is too small.
    Neighbouring tiles and other crops of one picture do not line up so."""
    if min(*grey_a.shape, *grey_b.shape) < MIN_TEMPLATE * 2:
        return None
    small_a = _small(cv2, (grey_a, 1.0), FINE_SIDE)[0]
    best: tuple[float, int] | None = None
    views = [_view(grey_b, turns, mirror) for mirror in (False, True) for turns in range(4)]
    for v, view in enumerate(views):
        small_b = cv2.resize(
            _small(cv2, (view, 1.0), FINE_SIDE)[0],
            (small_a.shape[1], small_a.shape[0]),
            interpolation=cv2.INTER_AREA,
        )
        score = float(cv2.matchTemplate(small_b, small_a, cv2.TM_CCOEFF_NORMED)[0, 0])
        if best is None or score > best[0]:
            best = (score, v)
    if best is None:
        return None
    view = views[best[1]]
    (ha, wa), (hb, wb) = grey_a.shape[:2], view.shape[:2]
    matrix = np.array([[wb / wa, 0.0, 0.0], [0.0, hb / ha, 0.0]])
    return Found(best[0], matrix, view, turns=best[1] % 4, mirror=best[1] >= 4)


def _ways(pictures: Pictures, v: int, way: int) -> tuple[Small, Small]:
    """(the picture slid, the picture it is slid over) for view `v`, one way round or the
    other."""
    base_a, bases = pictures
    return (base_a, bases[v]) if way == 0 else (bases[v], base_a)


class _Reduced:
    """`_small` for one alignment, each size of each picture made once: one way round slides
    a at the same sizes over every view of b, the other every view over a at one size."""

    def __init__(self, cv2: Any) -> None:
        self.cv2 = cv2
        self._made: dict[tuple[int, float], Small] = {}

    def __call__(self, picture: Small, side: float) -> Small:
        # The pictures searched live as long as the alignment: their ids stay theirs.
        key = (id(picture[0]), side)
        if key not in self._made:
            self._made[key] = _small(self.cv2, picture, side)
        return self._made[key]


def _coarse(reduced: _Reduced, pictures: Pictures) -> list[Candidate]:
    """Coarse matches at `COARSE_SIDE`. Every view, both ways round, at every scale, at the
    `RANKING_TURNS` first: the right view and way stand out there; only the best
    `VIEWS_TURNED` are searched at every turn."""
    cv2 = reduced.cv2
    smalls: dict[tuple[int, int], tuple[Small, list[Small]]] = {}
    upright: list[tuple[float, int, int]] = []
    best_of: dict[tuple[int, int], float] = {}
    for v in range(len(pictures[1])):
        for way in (0, 1):
            src, dst = _ways(pictures, v, way)
            small_dst = reduced(dst, COARSE_SIDE)
            small_srcs = [reduced(src, COARSE_SIDE * scale) for scale in COARSE_SCALES]
            smalls[v, way] = (small_dst, small_srcs)
            for small_src in small_srcs:
                for turn in RANKING_TURNS:
                    slid = _slide(cv2, small_src, small_dst, turn)
                    if slid is not None:
                        upright.append((slid[0], v, way))
                        best_of[v, way] = max(best_of.get((v, way), -1.0), slid[0])
    ranked = {(v, way) for _, v, way in sorted(upright, reverse=True)}
    chosen = sorted(ranked, key=lambda key: -best_of[key])[:VIEWS_TURNED]
    coarse: list[Candidate] = []
    for v, way in chosen:
        small_dst, small_srcs = smalls[v, way]
        for scale, small_src in zip(COARSE_SCALES, small_srcs, strict=True):
            for turn in COARSE_TURNS:
                slid = _slide(cv2, small_src, small_dst, float(turn))
                if slid is not None:
                    coarse.append((slid[0], v, way, scale, float(turn)))
    return coarse


def _refined(
    cv2: Any, reduced: _Reduced, pictures: Pictures, candidates: list[Candidate]
) -> tuple[float, Any, int] | None:
    """The best of the candidates searched again at `FINE_SIDE`, half a scale step and 2
    degrees around each: (correlation, matrix from a's pixels to the view's, view)."""
    best: tuple[float, Any, int] | None = None
    step = COARSE_SCALES[1] / COARSE_SCALES[0]
    for _, v, way, scale, turn in candidates:
        src, dst = _ways(pictures, v, way)
        small_dst = reduced(dst, FINE_SIDE)
        for fine_scale in (scale / step**0.5, scale, min(1.0, scale * step**0.5)):
            small_src = reduced(src, FINE_SIDE * fine_scale)
            for fine_turn in np.arange(turn - 2.0, turn + 2.01, 1.0):
                slid = _slide(cv2, small_src, small_dst, float(fine_turn))
                if slid is None or (best is not None and slid[0] <= best[0]):
                    continue
                matrix = slid[1] if way == 0 else cv2.invertAffineTransform(slid[1])
                best = (slid[0], matrix, v)
    return best


def _view(grey: Any, turns: int, mirror: bool) -> Any:
    return np.ascontiguousarray(np.rot90(grey[:, ::-1] if mirror else grey, turns))


def _slide(cv2: Any, src: Small, dst: Small, turn: float) -> tuple[float, Any] | None:
    """`src` turned by `turn` degrees and cut to its largest upright rectangle, slid over
    `dst`: the best correlation and the matrix from the full-size source's pixels to the
    full-size destination's (None where it does not fit)."""
    (small_src, to_src), (small_dst, to_dst) = src, dst
    h, w = small_src.shape
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), turn, 1.0)
    angle = math.radians(turn)
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    canvas_w, canvas_h = math.ceil(w * cos + h * sin), math.ceil(w * sin + h * cos)
    rotation[0, 2] += canvas_w / 2 - w / 2
    rotation[1, 2] += canvas_h / 2 - h / 2
    inner_w, inner_h = _upright_inside(w, h, angle)
    tw, th = int(inner_w) - 1, int(inner_h) - 1
    if min(tw, th) < MIN_TEMPLATE or th > small_dst.shape[0] or tw > small_dst.shape[1]:
        return None
    canvas = cv2.warpAffine(small_src, rotation, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR)
    ox, oy = (canvas_w - tw) // 2, (canvas_h - th) // 2
    template = canvas[oy : oy + th, ox : ox + tw]
    if (
        float(cv2.meanStdDev(template)[1][0, 0]) < 0.5
    ):  # flat: every place correlates equally (or not at all)
        return None
    scores = cv2.matchTemplate(small_dst, template, cv2.TM_CCOEFF_NORMED)
    _, peak, _, at = cv2.minMaxLoc(scores)
    if not math.isfinite(peak):
        return None
    # src pixels -> small src (to_src) -> canvas (rotation) -> template (-offset) -> small dst
    # (+ where it matched) -> dst pixels (/ to_dst)
    matrix = np.empty((2, 3), dtype=np.float64)
    matrix[:, :2] = rotation[:, :2] * to_src / to_dst
    matrix[:, 2] = (rotation[:, 2] - (ox, oy) + at) / to_dst
    return float(peak), matrix


def _small(cv2: Any, picture: Small, side: float) -> Small:
    """A reduced picture reduced further, so its longer side is `side` pixels (float32), with
    its factor from the full picture."""
    grey, done = picture
    h, w = grey.shape
    factor = min(1.0, side / max(h, w))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return small, done * factor


def _upright_inside(w: float, h: float, angle: float) -> tuple[float, float]:
    """Width and height of the largest upright rectangle inside a w x h rectangle turned by
    `angle` (radians)."""
    sin, cos = abs(math.sin(angle)), abs(math.cos(angle))
    if sin < 1e-9:
        return w, h
    long_side, short_side = max(w, h), min(w, h)
    if short_side <= 2 * sin * cos * long_side or abs(sin - cos) < 1e-9:
        half = 0.5 * short_side
        return (half / sin, half / cos) if w >= h else (half / cos, half / sin)
    cos2 = cos * cos - sin * sin
    return (w * cos - h * sin) / cos2, (h * cos - w * sin) / cos2


EDGE_SIDE = 64
"""Side at which the aligned pictures' edges are compared (the check's `ALIGNED_SIDE`)."""


def edges_agree(cv2: Any, found: Found, grey_a: Any) -> float:
    """Correlation (floored at 0) of the two pictures' gradient magnitudes, mean removed, over
    the frame they share once aligned: near 1 where the alignment puts shapes and their edges
    in register; low for two ramps, which match in grey levels under many crops and scales
    (a ramp's edge strength is nearly constant), so look-alike gradients are not taken for
    copies."""
    small_a, small_b, inside = aligned_samples(cv2, found.matrix, grey_a, found.view, EDGE_SIDE)
    # Eroded: the frame's own border would be an edge in one picture only.
    inside = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if inside.sum() < 16:
        return 0.0
    x, y = _edge_strength(cv2, small_a)[inside], _edge_strength(cv2, small_b)[inside]
    x, y = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return 0.0 if norm < 1e-6 else max(0.0, float((x * y).sum()) / norm)


def _edge_strength(cv2: Any, grey: Any) -> Any:
    dx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(dx * dx + dy * dy)
