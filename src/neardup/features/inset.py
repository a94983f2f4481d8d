"""The picture inside a frame: a screenshot's image in its window or phone, a page's figure.

A copy shown at 10-50 % of a screenshot has an embedding far from its original's (the frame is
most of the picture), so it is never a candidate. Such a picture is pasted as a rectangle: four
straight edges where the pixels change along most of each side. `find_inset` finds, among such
rectangles (not the whole picture) that hold no other, the one with the most detail inside (a
phone's body holds the picture and the flat strip above it); its embedding is a second view,
used to propose candidates and to send a pair to the geometric check, which decides. It misses
pictures whose sides match the frame's colour, and can pick a part of a picture a straight
line crosses (a wall's mortar): a reviewer's 30 framed test photographs gave 18 found.
`find_picture`, which the features and the inset check call, asks the page first
(`page_picture`: a picture on a slide, whose sides fade into it), then the edges.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neardup.decode import RGBArray
from neardup.features.page_picture import Box, find_page_picture

STEP = 24
"""Colour change (any channel, 0-255) across a side that counts as an edge there."""
COVER = 0.8
"""Share of a side's pixels that must change across it: a textured row inside a photograph
changes at about half of them, a pasted picture's side at nearly all."""
MIN_AREA, MAX_AREA = 0.06, 0.8
"""The inset's share of the picture: smaller is too small to embed, larger is the picture
itself (a trimmed border, or a frame too thin to matter)."""
MIN_SIDE = 0.2
"""The inset's sides against the picture's: a narrow strip is a bar or a text line."""
MIN_PIXELS = 48
"""Pictures (and insets) shorter than this on a side have no inset worth embedding."""
LINES = 24
"""Candidate lines kept per direction (the longest): bounds the rectangles tried."""
BOXES = 1024
"""More rectangles than this make a grid (a ruled table makes thousands), not a picture in a
frame."""


def find_picture(rgb: RGBArray) -> Box | None:
    """The box of the picture `rgb` shows: placed on a page (`find_page_picture`: a slide),
    else inside four edges (`find_inset`: a window, a phone), else None. The page is asked
    first: of the blind generator's 62 calibration slide copies, the box this way embedded at
    0.8 or more with the original in 46, the edges' box alone in 19 (RESULTS.md, session 56)."""
    return find_page_picture(rgb) or find_inset(rgb)


def find_inset(rgb: RGBArray) -> Box | None:
    """(left, top, right, bottom) of the rectangle inside `rgb` bounded on all four sides by
    edges that holds no other such rectangle and has the most detail inside, in pixels (right
    and bottom exclusive), or None."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_PIXELS:
        return None
    pixels = rgb.astype(np.int16)
    # Edge across row y + 1 (`across_rows[y]`: rows y and y + 2 differ), and across column
    # x + 1: a picture pasted at a scale the decode then reduced has a side that falls
    # between two pixels, its step split over two rows.
    across_rows = _steps(pixels[2:], pixels[:-2])
    across_columns = _steps(pixels[:, 2:], pixels[:, :-2])
    rows = _lines(across_rows, width)
    columns = _lines(across_columns.T, height)
    if len(rows) < 2 or len(columns) < 2:
        return None
    row_sums = _prefix(across_rows)  # [y, x]: edges of row-line y left of x
    column_sums = _prefix(across_columns.T)  # [x, y]: edges of column-line x above y
    top, bottom = _pairs(rows, height)
    left, right = _pairs(columns, width)
    if not len(top) or not len(left):
        return None
    # Every (top, bottom) against every (left, right): the picture is rows top+1..bottom,
    # columns left+1..right.
    t, b = top[:, None], bottom[:, None]
    lo, hi = left[None, :], right[None, :]
    span_x, span_y = hi - lo, b - t
    cover = np.minimum.reduce(
        [
            (row_sums[t, hi + 1] - row_sums[t, lo + 1]) / span_x,
            (row_sums[b, hi + 1] - row_sums[b, lo + 1]) / span_x,
            (column_sums[lo, b + 1] - column_sums[lo, t + 1]) / span_y,
            (column_sums[hi, b + 1] - column_sums[hi, t + 1]) / span_y,
        ]
    )
    area = span_x * span_y / float(height * width)
    fits = (
        (cover >= COVER)
        & (area >= MIN_AREA)
        & (area <= MAX_AREA)
        & (span_x >= max(MIN_PIXELS, MIN_SIDE * width))
        & (span_y >= max(MIN_PIXELS, MIN_SIDE * height))
    )
    i, j = np.nonzero(fits)
    if not len(i):
        return None
    boxes = np.stack([left[j] + 1, top[i] + 1, right[j] + 1, bottom[i] + 1], axis=1)
    if len(boxes) > BOXES:  # a grid (a table, a calendar, a tiled page): no one inset
        return None
    detail = np.zeros((height, width), dtype=bool)
    detail[1:-1] |= across_rows
    detail[:, 1:-1] |= across_columns
    return _innermost(boxes, _inside(detail, boxes))


def _inside(detail: npt.NDArray[np.bool_], boxes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Edge pixels inside each box, its own sides (2 pixels in) left out."""
    table = np.zeros((detail.shape[0] + 1, detail.shape[1] + 1), dtype=np.int64)
    table[1:, 1:] = detail.cumsum(axis=0).cumsum(axis=1)
    lo, t, hi, b = (boxes[:, k] for k in range(4))
    lo, t, hi, b = lo + 2, t + 2, np.maximum(hi - 2, lo + 2), np.maximum(b - 2, t + 2)
    return table[b, hi] - table[t, hi] - table[b, lo] + table[t, lo]  # type: ignore[no-any-return]


def _steps(one: npt.NDArray[np.int16], other: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    """Where any channel changes by `STEP` or more between two pictures (channel by channel:
    a reduction over the last axis costs 5x more)."""
    out = np.abs(one[..., 0] - other[..., 0]) >= STEP
    for channel in (1, 2):
        out |= np.abs(one[..., channel] - other[..., channel]) >= STEP
    return out


def _innermost(boxes: npt.NDArray[np.int64], detail: npt.NDArray[np.int64]) -> Box:
    """Of the boxes that hold no other, the one with the most detail inside: a phone's body
    holds the picture shown in it (and the flat strip above it), a window the picture in
    its pane."""
    lo, t, hi, b = (boxes[:, k] for k in range(4))
    holds = (
        (lo[:, None] <= lo[None, :])
        & (t[:, None] <= t[None, :])
        & (hi[:, None] >= hi[None, :])
        & (b[:, None] >= b[None, :])
    )
    np.fill_diagonal(holds, False)
    inner = ~holds.any(axis=1)
    best = int(np.argmax(np.where(inner, detail, -1)))
    left, top, right, bottom = (int(v) for v in boxes[best])
    return left, top, right, bottom


def _lines(edges: npt.NDArray[np.bool_], length: int) -> npt.NDArray[np.int64]:
    """The edge lines (rows of `edges`) with the most changing pixels, at least a fifth of
    `length`: the only places a side can be."""
    counts = edges.sum(axis=1)
    # One line per side: a side's step split over two rows marks both, and a rectangle
    # would be found once for each.
    padded = np.pad(counts, 2)
    peak = np.ones(len(counts), dtype=bool)
    for shift in (1, 2):
        peak &= counts >= padded[2 - shift : 2 - shift + len(counts)]
        peak &= counts > padded[2 + shift : 2 + shift + len(counts)]
    keep = np.flatnonzero(peak & (counts >= MIN_SIDE * length * COVER))
    return np.sort(keep[np.argsort(-counts[keep], kind="stable")[:LINES]])


def _prefix(edges: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
    """Cumulative edge counts along each line, with a leading zero column."""
    out = np.zeros((edges.shape[0], edges.shape[1] + 1), dtype=np.int32)
    np.cumsum(edges, axis=1, out=out[:, 1:])
    return out


def _pairs(
    lines: npt.NDArray[np.int64], length: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every (first, second) pair of lines at least a `MIN_SIDE` share of `length` apart."""
    first, second = np.meshgrid(lines, lines, indexing="ij")
    apart = second - first >= max(MIN_PIXELS, MIN_SIDE * length)
    return first[apart], second[apart]
