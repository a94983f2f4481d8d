"""Two aligned pictures cut into tiles of strokes and compared tile by tile: what the words'
comparison (`neardup.detail_compare`) reads at each scale.

A tile holds strokes where the variance of its gradient (Sobel, along the rows for letters'
stems, or across them) reaches `STROKES` in both pictures; it is compared by its best
correlation with the other picture's tile moved up to `SHIFT` pixels (what an affine fit
leaves unaligned), and disagrees below `DISAGREE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TILE = 24
"""Pixels a side of a tile: a few letters at `detail_compare.FINE_SIDE`."""
SHIFT = 2
"""Pixels a tile may move to find its best match: what an affine fit leaves unaligned."""
STROKES = 20.0
"""Standard deviation of a tile's horizontal gradient (Sobel, 0-255 grey levels) from which it
holds strokes: paper and rules hold none."""
DISAGREE = 0.5
"""A tile whose best correlation is below this disagrees."""
MAP_TILES = 1024
"""Tiles read of a whole map: a page at `detail_compare.FINE_SIDE` holds up to about 1,500
places."""


class Views:
    """The aligned pictures (a warped, b, a's cover) at each reduction, each made once."""

    def __init__(self, cv2: Any, pictures: list[Any]) -> None:
        self._cv2, self._made = cv2, {1: pictures}

    def at(self, reduction: int) -> list[Any]:
        """The pictures reduced `reduction` times (1: as aligned)."""
        if reduction not in self._made:
            height, width = self._made[1][1].shape
            size = (max(8, round(width / reduction)), max(8, round(height / reduction)))
            self._made[reduction] = [
                self._cv2.resize(p, size, interpolation=self._cv2.INTER_AREA) for p in self._made[1]
            ]
        return self._made[reduction]


def tiles_share(best: Any) -> tuple[int, float]:
    """(tiles, share of them disagreeing) of tiles' best correlations."""
    return (len(best), float(np.mean(best < DISAGREE))) if len(best) else (0, 0.0)


@dataclass(frozen=True, slots=True)
class Strokes:
    """One scale of the aligned pictures (a warped, b) cut into tiles: the gradients, each
    tile's variance of them in a and in b, and which tiles a covers (with `SHIFT` to spare)."""

    grid: tuple[int, int]
    """(rows, columns) of tiles."""
    gradients: tuple[Any, Any]
    variance: tuple[Any, Any]
    """Each tile's variance of the gradient, in a and in b (rows x columns)."""
    covered: Any

    def places(self) -> Any:
        """(row, column) of each covered tile with strokes in both pictures."""
        strokes = STROKES * STROKES
        return np.argwhere(
            self.covered & (self.variance[0] >= strokes) & (self.variance[1] >= strokes)
        )


def stroke_tiles(cv2: Any, pictures: list[Any], *, vertical: bool = False) -> Strokes:
    """The tiles of one scale of the aligned pictures (a warped, b, a's cover) and their
    strokes along the rows (letters), or across them (`vertical`)."""
    warped, grey_b, cover = pictures
    step = (0, 1) if vertical else (1, 0)
    dx_a = cv2.Sobel(warped.astype(np.float32), cv2.CV_32F, *step, ksize=3)
    dx_b = cv2.Sobel(grey_b.astype(np.float32), cv2.CV_32F, *step, ksize=3)
    # Tiles start SHIFT pixels in, so each can move SHIFT pixels any way; a tile is kept
    # where a covers it with that margin and both hold strokes (statistics of whole tiles at
    # once: one call a tile cost more than the matching).
    rows, cols = (grey_b.shape[0] - 2 * SHIFT) // TILE, (grey_b.shape[1] - 2 * SHIFT) // TILE
    if rows < 1 or cols < 1:
        empty = np.zeros((0, 0))
        return Strokes((0, 0), (dx_a, dx_b), (empty, empty), empty.astype(bool))
    inside = cv2.erode(cover, np.ones((2 * SHIFT + 1, 2 * SHIFT + 1), np.uint8))
    grid = (slice(SHIFT, SHIFT + rows * TILE), slice(SHIFT, SHIFT + cols * TILE))

    def means(picture: Any) -> Any:  # each tile's mean: an exact area reduction
        return cv2.resize(picture[grid], (cols, rows), interpolation=cv2.INTER_AREA)

    variance = [means(dx * dx) - means(dx) ** 2 for dx in (dx_a, dx_b)]
    covered = means(inside.astype(np.float32)) >= 254.5
    return Strokes((rows, cols), (dx_a, dx_b), (variance[0], variance[1]), covered)


def matched(strokes: Strokes, places: Any, cv2: Any) -> Any:
    """Each tile's best correlation (b's tile within a's, moved up to `SHIFT` pixels)."""
    dx_a, dx_b = strokes.gradients
    best = []
    for i, j in places:
        y, x = SHIFT + int(i) * TILE, SHIFT + int(j) * TILE
        around = dx_a[y - SHIFT : y + TILE + SHIFT, x - SHIFT : x + TILE + SHIFT]
        tile = dx_b[y : y + TILE, x : x + TILE]
        found = cv2.matchTemplate(around, tile, cv2.TM_CCOEFF_NORMED)
        best.append(cv2.minMaxLoc(found)[1])  # a tenth of numpy's max on 25 numbers
    return np.array(best, dtype=np.float64)


def spread_evenly(places: Any, most: int) -> Any:
    """At most `most` of `places`, spread evenly over them."""
    if len(places) <= most:
        return places
    return places[np.linspace(0, len(places) - 1, most).round().astype(int)]


def correlations(
    cv2: Any, pictures: list[Any], most: int, *, vertical: bool = False
) -> tuple[tuple[int, int], Any, Any]:
    """((rows, columns) of the grid of tiles, (row, column) of each tile with strokes in both
    and a covering it, and its best correlation) at one scale of the aligned pictures (a
    warped, b, a's cover), for at most `most` tiles spread evenly over those."""
    strokes = stroke_tiles(cv2, pictures, vertical=vertical)
    places = spread_evenly(strokes.places(), most)
    return strokes.grid, places, matched(strokes, places, cv2)
