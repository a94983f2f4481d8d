"""Two aligned pages that show the same words everywhere but under a box painted on one.

A banner or a logo painted on a copy of a page covers the words beneath it, so the words'
comparison (`neardup.detail_compare`) finds tiles that disagree there, and the pair is not
lifted as showing the same words (`detail_check.words_lift`) though everywhere else it does.
A form of one template with another value in one field also differs in one place, but there
both pages hold letters on paper and the local mean level barely moves; under a painted box it
moves a lot, over a solid region. So the box is found from the pages' local means, and the
words are compared outside it:

    aligned pages (a warped, b, a's cover)
        --reduced `PAINT_REDUCTION` times, a's levels tone-fitted to b's, 3 x 3 local means-->
        the places whose local means differ by `PAINT_LEVELS` or more, closed
        (`PAINT_CLOSING`) --> the largest region
        --`PAINT_GATE`: its share of the page, how solid, how much of the difference it
          holds, how far its level sits from the page's--> the box, or none
        --the finest scale's tiles outside it (grown by a tile)--> `Outside`

The same box, read on the check's pictures, tells a copy under a logo or a caption box from
other content where the rest of the two pictures agrees (`neardup.painted_check`). Chosen on
the calibration halves (RESULTS.md, session 44, R91, R92 and R94).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neardup.aligned_pixels import tone_fitted
from neardup.detail_tiles import DISAGREE, MAP_TILES, SHIFT, TILE, correlations

PAINT_REDUCTION = 8
"""The pages are compared for a painted box at this reduction of the words' scale (about 100
pixels a shorter side): a line of text is a grey smear there, a banner a block."""
PAINT_LEVELS = 64.0
"""Difference of local mean grey levels from which a place is painted over (a quarter of the
range: a line of other words moves its mean by about a tenth)."""
PAINT_CLOSING = 5
"""Side of the square the painted places are closed with before the regions are found: a
band with letters on it, see-through, falls into pieces otherwise (R92: on the calibration
halves' page pairs 214 copies passed against 182 unclosed, no look-alike at 1, 3 or 5)."""
PAINT_GATE = (0.3, 0.7, 0.1, 48.0)
"""The painted region's box: its share of the page (at most), the share of the box the region
fills (at least), the share of the painted places outside it (at most) and how far the box's
median level sits from the page's, in either picture (at least). The first setting written
down (R91); on the calibration halves each bound loosened alone by about half raised no
look-alike either, where the words outside loosened to 0.10 did."""


@dataclass(frozen=True, slots=True)
class Outside:
    """The words compared outside the painted box, at the finest scale."""

    tiles: int
    """Tiles with strokes in both pages outside the box (horizontal gradients)."""
    disagree: float
    """Share of them that disagree (`Detail.disagree`'s measure)."""
    across: float
    """Share of the tiles with vertical strokes outside it that disagree (`Detail.across`'s)."""


def reduced(cv2: Any, pictures: list[Any], reduction: int) -> tuple[Any, Any, Any] | None:
    """(a, b, covered) of two aligned pictures (a warped, b, a's cover) reduced `reduction`
    times, a's levels tone-fitted to b's (float32); None where a covers too little."""
    warped, grey_b, cover = pictures
    height, width = grey_b.shape
    size = (max(8, round(width / reduction)), max(8, round(height / reduction)))
    a = cv2.resize(warped, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(grey_b, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    inside = cv2.resize(cover, size, interpolation=cv2.INTER_AREA) >= 250
    if inside.sum() < 64:
        return None
    a[inside] = tone_fitted(a[inside], b[inside])
    return a, b, inside


def painted_region(cv2: Any, a: Any, b: Any, inside: Any) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom, in the reduced pictures' pixels) of the region painted
    over in one of two reduced aligned pictures (`reduced`), or None where none passes
    `PAINT_GATE`."""
    # Local means over the covered places only: where a does not cover, its zeros would
    # read as a painted edge.
    weight = cv2.blur(inside.astype(np.float32), (3, 3))
    means = [cv2.blur(np.where(inside, p, 0).astype(np.float32), (3, 3)) for p in (a, b)]
    ok = inside & (weight > 0.99)
    if not ok.any():
        return None
    gap = np.zeros_like(a)
    gap[ok] = np.abs(means[0][ok] - means[1][ok]) / weight[ok]
    painted = (ok & (gap >= PAINT_LEVELS)).astype(np.uint8)
    if not painted.any():
        return None
    # The letters on a band (its means dip where they are dense) break it into pieces.
    closing = np.ones((PAINT_CLOSING, PAINT_CLOSING), np.uint8)
    painted = cv2.morphologyEx(painted, cv2.MORPH_CLOSE, closing) & ok.astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(painted, connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    left, top, box_w, box_h, area = (int(v) for v in stats[largest][:5])
    box = np.zeros_like(ok)
    box[top : top + box_h, left : left + box_w] = True
    in_box = box & ok
    most_share, least_solid, most_outside, least_far = PAINT_GATE
    far = max(abs(float(np.median(p[in_box])) - float(np.median(p[ok]))) for p in (a, b))
    passed = (
        in_box.sum() <= most_share * ok.sum()
        and area >= least_solid * in_box.sum()
        and (painted.astype(bool) & ~box).sum() <= most_outside * painted.sum()
        and far >= least_far
    )
    return (left, top, left + box_w, top + box_h) if passed else None


def painted_box(
    cv2: Any, pictures: list[Any], reduction: int = PAINT_REDUCTION
) -> tuple[float, float, float, float] | None:
    """The box (left, top, right, bottom, in the pictures' pixels) of the region painted over
    in one of two aligned pictures (a warped, b, a's cover), read `reduction` times reduced,
    or None where none passes `PAINT_GATE`."""
    found = reduced(cv2, pictures, reduction)
    box = None if found is None else painted_region(cv2, *found)
    if found is None or box is None:
        return None
    height, width = pictures[1].shape
    sx, sy = width / found[1].shape[1], height / found[1].shape[0]
    left, top, right, bottom = box
    return left * sx, top * sy, right * sx, bottom * sy


def outside_box(cv2: Any, pictures: list[Any]) -> Outside | None:
    """The words of two aligned pages compared outside the box painted on one of them; None
    where no box is painted (`painted_box`)."""
    box = painted_box(cv2, pictures)
    if box is None:
        return None
    shares = []
    for vertical in (False, True):
        _, places, best = correlations(cv2, pictures, MAP_TILES, vertical=vertical)
        kept = best[_outside(places, box)] if len(places) else best
        shares.append((len(kept), float(np.mean(kept < DISAGREE)) if len(kept) else 0.0))
    return Outside(shares[0][0], shares[0][1], shares[1][1])


def _outside(places: Any, box: tuple[float, float, float, float]) -> Any:
    """Which tiles (row, column) lie wholly outside the box grown by a tile on every side."""
    left, top, right, bottom = box
    y, x = SHIFT + places[:, 0] * TILE, SHIFT + places[:, 1] * TILE
    across = (x + TILE > left - TILE) & (x < right + TILE)
    down = (y + TILE > top - TILE) & (y < bottom + TILE)
    return ~(across & down)
