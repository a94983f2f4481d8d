"""The two whole canvases for `neardup.differences`: the fitted transform between them in
full-resolution pixels, each picture's frame, and the borders one has in excess of the other."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.borders import BORDER_TOLERANCE
from neardup.difference_measures import Box, shared_boxes
from neardup.difference_pictures import Picture

BORDER_MIN = 0.01
"""Border share of the canvas (in excess of the other picture's) below which none is reported."""

_SIDES = ("left", "top", "right", "bottom")


def canvas_matrix(m: npt.NDArray[np.float64], a: Picture, b: Picture, mirrored: bool) -> Any:
    """The fitted transform between the two whole canvases in full-resolution pixels (it was
    fitted between the trimmed working pictures, b mirrored when `mirrored`)."""
    fa, fb = a.per_work_pixel, b.per_work_pixel
    to_work = np.array(
        [[1 / fa, 0, -a.trimmed[0] / fa], [0, 1 / fa, -a.trimmed[1] / fa], [0, 0, 1]]
    )
    fitted = np.vstack([m, [0.0, 0.0, 1.0]])
    unmirror = (
        np.array([[-1.0, 0, b.rgb.shape[1]], [0, 1, 0], [0, 0, 1]]) if mirrored else np.eye(3)
    )
    to_canvas = np.array([[fb, 0, b.trimmed[0]], [0, fb, b.trimmed[1]], [0, 0, 1]])
    return (to_canvas @ unmirror @ fitted @ to_work)[:2]


def picture_frame(
    p: Picture, borders: tuple[tuple[str, tuple[str, ...], float], ...], name: str
) -> Box:
    """The picture's frame: inside its borders if they are added ones, else the canvas (a
    flat background trimmed more in one copy than in the other is picture, not border)."""
    if any(image == name for image, _, _ in borders):
        left, top, right, bottom = p.trimmed
        return left, top, p.width - right, p.height - bottom
    return 0.0, 0.0, float(p.width), float(p.height)


def excess_borders(
    a: Picture, b: Picture, canvas: Any | None
) -> tuple[tuple[str, tuple[str, ...], float], ...]:
    """The borders one picture has in excess of the other, as a share of its canvas.

    With the canvas transform, a border counts only where that picture's canvas reaches
    past the other's whole canvas, or where it lies over the other's content of other colours
    (a bar painted over an edge, a crop padded back to the canvas): decoding trims a flat
    background too, and a blurred, noisy or cropped copy of a graphic on a plain background
    is trimmed differently; the other's pixels there are then the background's colour."""

    def share(p: Picture) -> float:
        width, height = p.content
        return 1.0 - (width * height) / max(1, p.width * p.height)

    out = []
    for name, own, other in (("a", a, b), ("b", b, a)):
        excess = share(own) - share(other)
        if excess >= BORDER_MIN and canvas is not None:
            to_own = canvas if name == "b" else _inverse(canvas)
            whole = (0.0, 0.0, float(other.width), float(other.height))
            _, covered = shared_boxes(
                to_own, whole, (0.0, 0.0, float(own.width), float(own.height))
            )
            if 1.0 - covered < excess / 2 and _painted_share(own, other, to_own) < excess / 2:
                continue
        if excess >= BORDER_MIN:
            sides = tuple(
                side
                for side, width, full in zip(
                    _SIDES, own.trimmed, (own.width, own.height) * 2, strict=True
                )
                if width >= BORDER_MIN * full
            )
            out.append((name, sides, round(excess, 3)))
    return tuple(out)


PAINTED_LEVELS = 36
"""How far (0-255, any channel) the other picture's pixel must be from the border's colour for
the border to cover it (the edge contrast `neardup.borders` asks of a border's inner edge)."""
SAMPLES = 96
"""Samples along the other picture's longer side for `_painted_share`."""


def _painted_share(own: Picture, other: Picture, to_own: Any) -> float:
    """Share of `own`'s canvas that its borders paint over `other`'s content of another colour,
    `to_own` taking `other`'s canvas into `own`'s (full-resolution pixels)."""
    colours = own.border_colours
    if colours is None:
        return 0.0
    rows, cols = other.rgb.shape[:2]
    step = max(1, max(rows, cols) // SAMPLES)
    ys, xs = np.mgrid[step // 2 : rows : step, step // 2 : cols : step]
    width, height = other.content
    fx, fy = width / cols, height / rows
    points = np.stack(
        [other.trimmed[0] + (xs.ravel() + 0.5) * fx, other.trimmed[1] + (ys.ravel() + 0.5) * fy]
    )
    u, v = np.asarray(to_own, dtype=np.float64)[:, :2] @ points + np.asarray(to_own)[:, 2:]
    left, top, right, bottom = own.trimmed
    inside = (u >= 0) & (u < own.width) & (v >= 0) & (v < own.height)
    sides = (u < left, v < top, u >= own.width - right, v >= own.height - bottom)
    pixels = other.rgb[ys.ravel(), xs.ravel()].astype(np.int16)
    content = inside & ~np.logical_or.reduce(sides)
    colour_map = _colour_map(pixels[content], _own_pixels(own, u[content], v[content]))
    painted = np.zeros(u.shape, dtype=bool)
    for side, colour in zip(sides, colours, strict=True):
        under = inside & side
        if colour is None or not under.any() or _background(pixels[under], colour, colour_map):
            continue  # a flat background there, whatever colour a colour change made it
        far = np.abs(pixels - np.array(colour, dtype=np.int16)).max(axis=1) > PAINTED_LEVELS
        painted |= under & far
    scale = abs(float(np.linalg.det(np.asarray(to_own, dtype=np.float64)[:, :2])))
    per_sample: float = fx * fy * step * step * scale
    return int(np.count_nonzero(painted)) * per_sample / max(1, own.width * own.height)


FLAT_SHARE = 0.9
"""Share of the pixels under a border within `BORDER_TOLERANCE` (twice, for resampling) of
their median colour from which they are a flat background, not content painted over."""


MAP_SAMPLES = 32
"""Shared samples below which no colour map is fitted (every flat area is then background)."""


def _background(pixels: Any, colour: tuple[int, int, int], colour_map: Any | None) -> bool:
    """Whether the other picture's pixels under a border are a flat background: flat, and (where
    the two pictures' colours could be related) of a colour that the change between the two
    takes to the border's own (a darkened copy's background is trimmed at another colour).
    Flat content of another colour (a sky, a wall under a bar painted over it) is not."""
    median = np.median(pixels, axis=0)
    near = np.abs(pixels - median).max(axis=1) <= 2 * BORDER_TOLERANCE
    if np.count_nonzero(near) < FLAT_SHARE * len(pixels):
        return False
    if colour_map is None:
        return True
    gain, offset = colour_map
    predicted = gain * median + offset
    return bool(np.abs(predicted - np.array(colour, dtype=np.float64)).max() <= PAINTED_LEVELS)


def _own_pixels(own: Picture, u: Any, v: Any) -> Any:
    """`own`'s working pixels at canvas points (full-resolution) inside its content."""
    rows, cols = own.rgb.shape[:2]
    width, height = own.content
    col = np.clip(((u - own.trimmed[0]) * cols / width).astype(int), 0, cols - 1)
    row = np.clip(((v - own.trimmed[1]) * rows / height).astype(int), 0, rows - 1)
    return own.rgb[row, col].astype(np.int16)


def _colour_map(source: Any, target: Any) -> tuple[Any, Any] | None:
    """Per-channel gain and offset taking `source` colours to `target` (least squares over
    shared samples), None with too few samples or no spread to fit on."""
    if len(source) < MAP_SAMPLES:
        return None
    x, y = source.astype(np.float64), target.astype(np.float64)
    spread = x.std(axis=0)
    if (spread < 1.0).any():
        return None
    gain = ((x - x.mean(axis=0)) * (y - y.mean(axis=0))).mean(axis=0) / spread**2
    return gain, y.mean(axis=0) - gain * x.mean(axis=0)


def _inverse(matrix: Any) -> Any:
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]
