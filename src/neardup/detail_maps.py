"""Where two aligned pages disagree, read from the whole map of their tiles (`Scatter`).

`neardup.detail_compare` reads the maps where the finest scale disagrees
(`detail_compare.SCATTER_FROM`) and `neardup.detail_check` turns them into a verdict: pages of
one template with other values disagree in several separate places while their template agrees
closely; a copy's edit disagrees in one place (a banner, a logo) or, blurred or noisy, nowhere
closely. The pages' rules are taken out first (`unruled`): a sheet's grid made its tiles agree
whatever their numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neardup.detail_tiles import DISAGREE, MAP_TILES, Views, correlations, tiles_share

RULE = 41
"""Pixels (at `detail_compare.FINE_SIDE`) from which a straight dark line is a rule, not a
letter's stroke (`unruled`): longer than a letter's stem below a heading's size."""
CLOSE = 0.9
"""A tile whose best correlation is above this agrees closely (the same letters, as drawn)."""


@dataclass(frozen=True, slots=True)
class Scatter:
    """Where two aligned pages disagree, from the whole map of tiles with strokes."""

    tiles: int
    """Tiles with strokes in both and covered by a at the finest scale (at most `MAP_TILES`)."""
    finest: float
    """Share of them that disagree."""
    half: float
    """Share of the tiles at half that scale that disagree."""
    close: float
    """Share of the finest tiles that agree closely (`CLOSE`): a blurred or noisy copy has few."""
    apart: float
    """Share of the disagreeing finest tiles outside their largest patch (two tiles join when
    the squares of one tile's margin around them share an edge: up to two tiles between them
    in a row or column): a banner or a logo is one patch, a form's other values are many."""


def unruled(cv2: Any, grey: Any) -> Any:
    """A grey page with its rules removed: dark lines of `RULE` pixels or longer, across or
    down (a table's grid, a form's boxes, underlines). They carry no words, and where a sheet's
    cells hold other numbers the grid's strokes made its tiles agree."""
    ink = 255 - grey
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((RULE, 1), np.uint8))
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, RULE), np.uint8))
    return 255 - cv2.subtract(ink, cv2.max(down, across))


def scatter_map(cv2: Any, words: Views, views: Views, finest: int, half: int) -> Scatter:
    """The `finest` and the `half` scale read whole: where the pages disagree (`Scatter`; the
    finest scale holds tiles, or `detail_compare.compare` would not ask): in their words
    (`words`: the views `unruled`), and how closely the finest tiles agree with their rules
    (`views`: the template as drawn)."""
    (rows, cols), places, best = correlations(cv2, words.at(finest), MAP_TILES)
    halves = correlations(cv2, words.at(half), MAP_TILES)[2]
    drawn = correlations(cv2, views.at(finest), MAP_TILES)[2]
    disagreeing = places[best < DISAGREE]
    outside = 0.0
    if len(disagreeing):
        grid = np.zeros((rows, cols), np.uint8)
        grid[disagreeing[:, 0], disagreeing[:, 1]] = 1
        joined = cv2.dilate(grid, np.ones((3, 3), np.uint8))
        labels = cv2.connectedComponents(joined, connectivity=4)[1]
        largest = np.bincount(labels[disagreeing[:, 0], disagreeing[:, 1]]).max()
        outside = 1.0 - largest / len(disagreeing)
    return Scatter(
        len(best),
        float(np.mean(best < DISAGREE)) if len(best) else 0.0,
        tiles_share(halves)[1],
        float(np.mean(drawn > CLOSE)) if len(drawn) else 0.0,
        float(outside),
    )
