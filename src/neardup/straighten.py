"""Pictures turned by a small angle on a canvas of one colour, found and turned back, so a copy
saved by a rotate-and-fill (Pillow's `rotate(expand=True)`, ImageMagick's `-rotate`) is
compared by the picture it holds, as a bordered copy is (`neardup.borders`).

Such a canvas has a right triangle of the fill colour in each corner. The four triangles'
legs give the angle (short leg / long leg = tan of it), the way they alternate gives its
direction, and their hypotenuses must be straight lines of one rectangle; only then is the
picture turned back. Two shapes are recognised:
- expanded: the turned picture touches all four sides (the canvas grew to hold it); turned
  back, the picture inside is cut out whole;
- same size: the turned picture was cut to its old frame; turned back, it fills that frame
  with four corners of fill colour, and is kept so.
A turned-and-expanded canvas may then have been padded with margins of its fill (saved onto a
larger page, or padded to a square): the turned picture then touches the four sides of a box
inside the canvas, and that box is read as an expanded canvas.
A picture that merely has flat corners (clip art on white, a vignette) fails the straight-line
or one-angle tests and is left alone. Video frames and the check's pictures are not turned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from PIL import Image

RGBArray = npt.NDArray[np.uint8]

FILL_TOLERANCE = 16
"""How far (0-255, any channel) a fill pixel may stray from the fill colour (JPEG rings)."""
MIN_DEGREES = 1.0
MAX_DEGREES = 40.0
"""Turns recognised; beyond 40 degrees a quarter turn and a small one cannot be told apart."""
ANGLE_AGREEMENT = 2.0
"""Degrees by which the four corners' angles may differ (legs are whole pixels)."""
MIN_LEG = 4
"""Pixels: a shorter leg is too coarse to give an angle."""
MIN_SIDE = 48
ON_LINE = 11
"""Of the 15 runs measured across a corner's triangle, how many must end on its hypotenuse."""


@dataclass(frozen=True, slots=True)
class Turn:
    """A picture found turned on a canvas: by how much, and what it looks like turned back."""

    degrees: float
    """Counter-clockwise, as `PIL.Image.rotate` takes it: the turn that made the canvas."""
    picture: Image.Image
    """The picture turned back (expanded: cut out; same size: in its old frame)."""
    expanded: bool
    centre: tuple[float, float]
    """(x, y) of the turned picture's centre on the canvas given, in its pixels: the canvas's
    centre, unless margins of fill were added around the turned picture."""


def straighten(rgb: RGBArray) -> Turn | None:
    """The picture turned back, if `rgb` is a picture turned by 1-40 degrees on a flat canvas."""
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        return None
    corners = np.array([rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]], dtype=np.int16)
    ordered = np.sort(corners, axis=0)  # the median of four, as np.median (at a tenth the cost)
    colour = (ordered[1] + ordered[2]) // 2
    if int(np.abs(corners - colour).max()) > FILL_TOLERANCE:
        return None
    if _corner_runs(rgb, colour):
        return _turned(rgb, colour)
    # Most flat-cornered pictures (clip art) end here; a padded turned canvas is read inside
    # its margins, where it must have the expanded shape.
    box = _inside_margins(rgb, colour)
    if box is None:
        return None
    left, top, right, bottom = box
    inner = rgb[top:bottom, left:right]
    if not _corner_runs(inner, colour):
        return None
    turn = _turned(inner, colour)
    if turn is None or not turn.expanded:
        return None
    return replace(turn, centre=(turn.centre[0] + left, turn.centre[1] + top))


def _inside_margins(
    rgb: RGBArray, colour: npt.NDArray[np.int16]
) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) slice bounds of what lies inside margins of fill (rows and
    columns with at most `STRAY` other pixels: JPEG noise), or None without such margins or
    when too little is left inside (`MIN_SIDE`, `MIN_INSIDE`)."""
    h, w = rgb.shape[:2]
    other = ~_fill(rgb, colour)
    rows = np.flatnonzero(np.count_nonzero(other, axis=1) > STRAY)
    cols = np.flatnonzero(np.count_nonzero(other, axis=0) > STRAY)
    if rows.size == 0 or cols.size == 0:
        return None
    left, top, right, bottom = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    if max(left, top, w - right, h - bottom) < MIN_MARGIN:
        return None
    if min(right - left, bottom - top) < MIN_SIDE:
        return None
    if (right - left) * (bottom - top) < MIN_INSIDE * w * h:
        return None
    return left, top, right, bottom


STRAY = 1
"""Pixels of a margin's row or column that may stray from the fill (JPEG rings)."""
MIN_MARGIN = 2
"""Pixels: a canvas with no margin this wide is read as it is."""
MIN_INSIDE = 0.5
"""Share of the canvas's area the box inside the margins must hold: a small turned picture
placed on a page (a card, a photo in a layout) is a picture on a page, not a padded copy."""


def _turned(rgb: RGBArray, colour: npt.NDArray[np.int16]) -> Turn | None:
    """The picture turned back, `rgb` being a canvas whose corners are fill runs."""
    h, w = rgb.shape[:2]
    fill = _fill(rgb, colour)
    found = _legs(fill)
    if found is None:
        return None
    degrees, expanded = found
    fill_rgb = tuple(int(v) for v in colour)
    image = Image.fromarray(rgb)
    back = image.rotate(-degrees, Image.Resampling.BILINEAR, expand=expanded, fillcolor=fill_rgb)
    centre = (w / 2, h / 2)
    if not expanded:
        return Turn(degrees, back, expanded, centre)
    inner = _cut_out(back, w, h, degrees)
    return None if inner is None else Turn(degrees, inner, expanded, centre)


def _fill(rgb: RGBArray, colour: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    """Which pixels are within `FILL_TOLERANCE` of `colour` in every channel."""
    # Compared as bounds in uint8, channel by channel: a third of the cost of widening every
    # pixel to int16 (this runs on each flat-cornered picture of a scan).
    wide = colour.astype(np.int16)  # so the bounds cannot wrap before they are clipped
    low = np.clip(wide - FILL_TOLERANCE, 0, 255).astype(np.uint8)
    high = np.clip(wide + FILL_TOLERANCE, 0, 255).astype(np.uint8)
    inside = (rgb >= low) & (rgb <= high)
    near: npt.NDArray[np.bool_] = inside[..., 0] & inside[..., 1] & inside[..., 2]
    return near


def _corner_runs(rgb: RGBArray, colour: npt.NDArray[np.int16]) -> bool:
    """Whether fill runs in from every corner along both sides, neither too short to give an
    angle nor the whole side: read from four lines, before the whole picture is."""
    h, w = rgb.shape[:2]
    top, bottom = _fill(rgb[1], colour), _fill(rgb[-2], colour)
    left, right = _fill(rgb[:, 1], colour), _fill(rgb[:, -2], colour)
    for line, size in ((top, w), (bottom, w), (left, h), (right, h)):
        for run in (_run(line), _run(line[::-1])):
            if run < MIN_LEG or run > 0.95 * size:
                return False
    return True


def _run(line: npt.NDArray[np.bool_]) -> int:
    """How many leading pixels of a line are fill."""
    stop = np.flatnonzero(~line)
    return int(stop[0]) if stop.size else len(line)


def _legs(fill: npt.NDArray[np.bool_]) -> tuple[float, bool] | None:
    """(degrees, expanded) from the four corner triangles of fill, or None if they are not
    the corners of one turned rectangle."""
    h, w = fill.shape
    # Per corner (TL, TR, BR, BL), the fill turned so the corner is at the top left:
    views = [fill, fill[:, ::-1], fill[::-1, ::-1], fill[::-1]]
    legs = []  # (along the horizontal side, along the vertical side)
    for view in views:
        fitted = _triangle(view)
        if fitted is None:
            return None
        legs.append(fitted)
    # Turned counter-clockwise, the long leg runs along the top at the top left corner, down
    # the right side at the top right, and so round; turned clockwise, the other way.
    pattern = [a > b for a, b in legs]
    if pattern == [True, False, True, False]:
        sign = 1.0
    elif pattern == [False, True, False, True]:
        sign = -1.0
    else:
        return None
    angles = [math.degrees(math.atan(min(a, b) / max(a, b))) for a, b in legs]
    if max(angles) - min(angles) > ANGLE_AGREEMENT:
        return None
    degrees = float(np.median(angles))
    if not MIN_DEGREES <= degrees <= MAX_DEGREES:
        return None
    # Expanded: the turned picture touches every side, so each side is all fill but a point.
    along_top = legs[0][0] + legs[1][0]
    along_left = legs[0][1] + legs[3][1]
    expanded = along_top >= 0.85 * w and along_left >= 0.85 * h  # measured: 1.0 or 0.5-0.7
    return sign * degrees, expanded


def _triangle(view: npt.NDArray[np.bool_]) -> tuple[float, float] | None:
    """The legs (along the top, down the left side) of the triangle of fill in the top left
    corner of `view`, fitted to its hypotenuse, or None if the fill there is not a triangle
    with a straight hypotenuse."""
    along, down = _run(view[1]), _run(view[:, 1])  # rough: one pixel in (JPEG rings)
    if min(along, down) < MIN_LEG or along > 0.95 * view.shape[1] or down > 0.95 * view.shape[0]:
        return None
    lines = view if along >= down else view.T
    long_leg = max(along, down)
    # Runs of fill across the long leg at points along it: a straight line down to zero.
    xs = np.linspace(0.1 * long_leg, 0.8 * long_leg, 15).round().astype(int)
    runs = np.array([_run(lines[:, x]) for x in xs], dtype=np.float64)
    # Where the picture near the edge has the fill's colour a run overshoots: a few such
    # points are dropped (fitted again without them); most must lie on the line.
    slope, intercept = np.polyfit(xs, runs, 1)
    for _ in range(2):
        off = np.abs(runs - (slope * xs + intercept))
        on_line = off <= 1.5 + 0.03 * max(intercept, 0.0)
        if np.count_nonzero(on_line) < ON_LINE:
            return None
        slope, intercept = np.polyfit(xs[on_line], runs[on_line], 1)
    if slope >= 0 or intercept < MIN_LEG:
        return None
    short, long = float(intercept), float(intercept / -slope)
    return (long, short) if along >= down else (short, long)


def _cut_out(back: Image.Image, w: int, h: int, degrees: float) -> Image.Image | None:
    """The turned-back picture of an expanded canvas: the rectangle whose turn by `degrees`
    just fits a `w` x `h` canvas, centred, less its resampled edge (`EDGE`)."""
    t = math.radians(abs(degrees))
    cos, sin = math.cos(t), math.sin(t)
    cos2 = cos * cos - sin * sin
    inner_w = (w * cos - h * sin) / cos2
    inner_h = (h * cos - w * sin) / cos2
    if inner_w < MIN_SIDE / 2 or inner_h < MIN_SIDE / 2:
        return None
    cx, cy = back.width / 2, back.height / 2
    box = (
        round(cx - inner_w / 2) + EDGE,
        round(cy - inner_h / 2) + EDGE,
        round(cx + inner_w / 2) - EDGE,
        round(cy + inner_h / 2) - EDGE,
    )
    return back.crop(box)


EDGE = 2
"""Pixels cut from each side of a picture turned back: its edge was resampled three times
(turned, reduced, turned back) and blends with the fill there, which would also hide a
border of its own from `neardup.borders`."""
