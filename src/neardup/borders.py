"""Uniform borders of any colour around a picture (letterbox, pillarbox, padding, frames):
found so that a bordered copy is compared by the picture inside, as its source is.

A border is a run of lines, from an edge, within `BORDER_TOLERANCE` of that edge's colour,
flat, and ending at a sharp edge; a uniform strip of the picture itself (a sky) fades into the
content instead and is kept. `neardup.decode` trims what `find_borders` finds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RGBArray = npt.NDArray[np.uint8]

BORDER_TOLERANCE = 12
"""How far (0-255, any channel) a pixel may stray from the border colour and still be border."""
MIN_CONTENT = 0.25
"""Trimming keeps at least this share of each side: a flat picture is never trimmed to nothing."""


def find_borders(rgb: RGBArray) -> tuple[int, int, int, int] | None:
    """Widths of uniform borders of any colour as (left, top, right, bottom), or None if none.

    A row or column counts as border when at least 99 % of its pixels are within
    `BORDER_TOLERANCE` of that edge's colour: black bars, white padding, a red or grey frame,
    on one side or all four, of any width; flat (`BORDER_FLAT`) and ending at a sharp edge
    (`EDGE_SHARE`). Each axis keeps at least `MIN_CONTENT` of its size.
    """
    h, w = rgb.shape[:2]
    if h < 16 or w < 16:
        return None
    # Most pictures have no border: when no edge line is uniform, no border run can start.
    edges = (rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1])
    if not any(_uniform_line(edge.astype(np.int16) * 2) for edge in edges):
        return None
    # Doubled levels: a median of an even count is then a whole number, so every test below
    # is exact integer arithmetic (the same verdicts as in float, at a fraction of the cost).
    img = rgb.astype(np.int16)
    img *= 2
    top = _border_run(img)
    bottom = _border_run(img[::-1])
    left = _border_run(img.transpose(1, 0, 2))
    right = _border_run(img.transpose(1, 0, 2)[::-1])
    if top + bottom > h * (1 - MIN_CONTENT):
        top = bottom = 0
    if left + right > w * (1 - MIN_CONTENT):
        left = right = 0
    # Only trim borders that mean something: at least 1 % of the side.
    top, bottom = (v if v >= max(2, h // 100) else 0 for v in (top, bottom))
    left, right = (v if v >= max(2, w // 100) else 0 for v in (left, right))
    if not (top or bottom or left or right):
        return None
    return left, top, right, bottom


BORDER_FLAT = 1.5
"""Mean deviation (0-255) from the border colour inside a border: an added border is flat
(a few levels of JPEG noise at most); a noisy uniform region of the picture is not."""
EDGE_CONTRAST = 3 * BORDER_TOLERANCE
EDGE_SHARE = 0.2
"""An added border ends at an edge: within 3 lines of it, at least this share of a line's
pixels differs from the border colour by more than `EDGE_CONTRAST`. A uniform strip of the
picture itself (a sky, a microscope slide's background) fades into the content instead; not
trimming it keeps a picture and its copies trimmed alike."""


Lines = npt.NDArray[np.int16]
"""Lines of doubled levels (axis 0: line, then pixel, channel), as `find_borders` walks them."""


def _deviation(lines: Lines, colour: tuple[int, int, int]) -> npt.NDArray[np.int16]:
    """Per pixel, the largest channel difference from `colour` (all doubled levels)."""
    out = np.abs(lines[..., 0] - colour[0])
    np.maximum(out, np.abs(lines[..., 1] - colour[1]), out=out)
    np.maximum(out, np.abs(lines[..., 2] - colour[2]), out=out)
    return out


def _median_colour(line: Lines) -> tuple[int, int, int]:
    """The per-channel median of one line of doubled levels (a whole number: see above)."""
    ordered = np.sort(line, axis=0)
    n = len(ordered)
    middle = ordered[n // 2].astype(np.int64)
    if n % 2 == 0:
        middle = (middle + ordered[n // 2 - 1]) // 2
    red, green, blue = (int(v) for v in middle)
    return red, green, blue


def _share_at_least(mask: npt.NDArray[np.bool_], share: float) -> npt.NDArray[np.bool_]:
    """Per line (axis 0), whether at least `share` of its pixels are set."""
    found: npt.NDArray[np.bool_] = np.count_nonzero(mask, axis=1) / mask.shape[1] >= share
    return found


def _border_run(lines: Lines) -> int:
    """How many leading lines (doubled levels) are a flat border ending at a sharp edge."""
    colour = _median_colour(lines[0])
    limit = int(len(lines) * (1 - MIN_CONTENT)) + 1
    step = 8
    count = 0
    while count < limit:  # a few lines at a time: most pictures stop at the first
        block = lines[count : min(count + step, limit)]
        uniform = _share_at_least(_deviation(block, colour) <= 2 * BORDER_TOLERANCE, 0.99)
        bad = np.flatnonzero(~uniform)
        if bad.size:
            count += int(bad[0])
            break
        count += len(block)
        step *= 2
    if not count or not _sharp(lines[count : count + 3], colour):
        return 0
    flat = lines[: max(1, count - 2)]  # the last lines may ring at the edge (JPEG)
    spread = int(np.abs(flat - np.array(colour, dtype=np.int16)).sum(dtype=np.int64))
    return count if spread <= 2 * BORDER_FLAT * flat.size else 0


def _uniform_line(line: Lines) -> bool:
    """Whether one line (doubled levels) is uniform as `_border_run` tests its first line."""
    near = _deviation(line[None], _median_colour(line)) <= 2 * BORDER_TOLERANCE
    return bool(_share_at_least(near, 0.99)[0])


def _sharp(lines: Lines, colour: tuple[int, int, int]) -> bool:
    if len(lines) == 0:
        return False
    far = _deviation(lines, colour) > 2 * EDGE_CONTRAST
    return bool(_share_at_least(far, EDGE_SHARE).any())


Colour = tuple[int, int, int]
SideColours = tuple[Colour | None, Colour | None, Colour | None, Colour | None]
"""A colour per side (left, top, right, bottom), None where that side has no border."""


def side_colours(rgb: RGBArray, box: tuple[int, int, int, int]) -> SideColours:
    """The median colour of each trimmed strip of `box` (left, top, right, bottom; None where
    that side has none): what the differences compare the other picture's content with."""
    h, w = rgb.shape[:2]
    left, top, right, bottom = box
    strips = (rgb[:, :left], rgb[:top], rgb[:, w - right :], rgb[h - bottom :])
    out: list[Colour | None] = []
    for width, strip in zip(box, strips, strict=True):
        if not width or not strip.size:
            out.append(None)
            continue
        red, green, blue = (int(v) for v in np.median(strip.reshape(-1, 3), axis=0))
        out.append((red, green, blue))
    return out[0], out[1], out[2], out[3]


def symmetric_only(box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The opposite borders of `box` that match each other (within a tenth, or 2 px): the shape
    of a letterbox, a pillarbox or padding. An icon's flat background, which a JPEG copy
    trims otherwise, is trimmed on one side or unevenly (`neardup.decode.MIN_TRIM_SIDE`)."""
    if box is None:
        return None
    left, top, right, bottom = box

    def matched(a: int, b: int) -> tuple[int, int]:
        return (a, b) if a and b and abs(a - b) <= max(2, 0.1 * (a + b)) else (0, 0)

    left, right = matched(left, right)
    top, bottom = matched(top, bottom)
    return (left, top, right, bottom) if left or top or right or bottom else None
