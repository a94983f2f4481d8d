"""The picture placed on a plain page: a slide's figure beside its title and bullets.

A slide shows a copy at 10-40 % of its area on a plain or gradient background, with lines of
text around it. The whole slide embeds far from the copy (SSCD 0.45 at the median on the
blind generator's 62 calibration slide copies), and `features.inset.find_inset`, which looks
for four straight edges, finds no rectangle where the picture's sides fade into the page (a
drawing on white, a dark photograph on a dark slide) and a wrong one where text lines bound
one. So the page is read as a page: its background is a quadratic surface fitted to its outer
ring (a plain colour, a linear gradient; not a radial one, whose centre departs from any
quadratic), what departs from the surface is content, and of the content the short, wide and
inked runs are text; the picture is the box around the rest, and a page is only taken for one
where at least `MIN_LINES` lines of text lie outside that box (a sky photograph with birds in
it has a smooth ring and short blobs too, but no lines of text beside a picture).

    frame --fit a surface to the ring--> background --departs by FOREGROUND--> content
        --grow by CLOSE, components; short, wide, inked ones are text--> the box around the rest

Known limits: a title taller than `TEXT_HEIGHT`'s upper bound (over 8 % of the slide) is
taken for a part of the picture, and a paragraph whose lines merge into one block too (a
screenshot of a document beside a photograph: the box then holds both).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.channels import largest_channel
from neardup.decode import RGBArray

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive."""

RING = 0.03
"""The outer ring the background is fitted to, as a share of the shorter side."""
SURFACE = 24
"""The most a ring pixel may depart from the fitted background (any channel, 0-255) to count
as background: JPEG and a gradient's banding stay well under it."""
PLAIN = 0.85
"""The share of the ring that must be background: a photograph's edge is not a page's."""
FOREGROUND = 12
"""Departure from the background from which a pixel is content: a light window on a cream
slide departs by 15-20."""
PAGE = 0.35
"""The least share of the frame that is background: a page has room beside its picture."""
CLOSE = 0.012
"""How far content is grown before its components are taken (share of the shorter side): a
line's letters merge, a figure's parts too."""
TEXT_HEIGHT = (0.015, 0.08)
"""The height of a line of text as a share of the frame's: a title to a footnote."""
TEXT_WIDE = 2.5
"""A line of text is at least this much wider than high (a blob in a sky is not)."""
INK = 64
"""The least departure from the background somewhere in a line of text: letters are inked
(a dark photograph's wood grain, smooth enough at its ring to read as a page, departs 20-40)."""
MIN_LINES = 2
"""Lines of text outside the picture's box from which the frame is a page."""
SPECK = 0.02
"""A component taller than a line but narrower than this share of the width is neither part
of the picture nor text (a bullet's mark, a stray stroke)."""
SHARE = (0.04, 0.7)
"""The picture's share of the frame: smaller is too small to embed, larger is the frame."""
MIN_PIXELS = 24
"""The picture's least side in pixels."""
BLEND = 1
"""Pixels left out on each side of the box: a side that falls between two pixels of the
reduced frame is a blend of picture and page, and a one-pixel line of it costs SSCD 0.05-0.2
(a photograph on a generated slide: 0.79-0.93 with it, 0.94-0.99 without)."""


def find_page_picture(rgb: RGBArray) -> Box | None:
    """The box of the picture on `rgb` where `rgb` is a page (a smooth background, lines of
    text beside the picture), else None."""
    height, width = rgb.shape[:2]
    if min(height, width) < 2 * MIN_PIXELS:
        return None
    background = _background(rgb)
    if background is None:
        return None
    departure = largest_channel(np.abs(rgb.astype(np.float32) - background))
    content = departure > FOREGROUND
    if 1.0 - content.mean() < PAGE:
        return None
    parts, lines = _parts(content, departure)
    if not parts:
        return None
    boxes = np.array(parts)
    left, top = int(boxes[:, 0].min()) + BLEND, int(boxes[:, 1].min()) + BLEND
    right, bottom = int(boxes[:, 2].max()) - BLEND, int(boxes[:, 3].max()) - BLEND
    share = (right - left) * (bottom - top) / float(height * width)
    if not SHARE[0] <= share <= SHARE[1] or min(right - left, bottom - top) < MIN_PIXELS:
        return None
    beside = sum(x1 <= left or x0 >= right or y1 <= top or y0 >= bottom for x0, y0, x1, y1 in lines)
    return (left, top, right, bottom) if beside >= MIN_LINES else None


def _background(rgb: RGBArray) -> npt.NDArray[np.float32] | None:
    """The page's background, a quadratic surface per channel fitted to the outer ring (a plain
    colour, a linear gradient), or None where the ring is not mostly that."""
    height, width = rgb.shape[:2]
    side = _ring(height, width)
    ring = np.zeros((height, width), dtype=bool)
    ring[:side] = ring[-side:] = True
    ring[:, :side] = ring[:, -side:] = True
    ys, xs = np.nonzero(ring)
    terms = _terms(ys, xs, height, width)
    values = rgb[ys, xs].astype(np.float64)
    kept = np.ones(len(ys), dtype=bool)
    for _ in range(3):  # refit on the pixels the last fit explains: text on the ring is not page
        coefficients = _fit(terms[kept], values[kept])
        fitted = np.einsum("nk,kc->nc", terms, coefficients)
        kept = largest_channel(np.abs(fitted - values)) <= SURFACE
        if kept.sum() < terms.shape[1]:
            return None
    if kept.mean() < PLAIN:
        return None
    # Summed term by term over a row and a column: a (pixels x 6) matrix of terms would cost
    # 0.5 s and 100 MB on a tall screenshot (224 x 4000 at the features' size).
    u = (np.arange(width) / width - 0.5)[None, :, None]
    v = (np.arange(height) / height - 0.5)[:, None, None]
    c = coefficients
    surface: npt.NDArray[np.float64] = (
        c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v
    )
    return surface.astype(np.float32)


def _fit(
    terms: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The least-squares coefficients (terms x channels), from the normal equations summed by
    `einsum`: a BLAS product here starts its threads in every worker beside the embedding's
    (the features stage of a scan of 1,366 pictures took 24.7 s with `lstsq`, 13.6 s with one
    BLAS thread)."""
    normal = np.einsum("nk,nj->kj", terms, terms)
    # 6 x 6, solved by least squares too: where the kept pixels leave a term undetermined
    # (a ring of two rows and columns on a tiny picture) it takes the smallest solution.
    solved = np.linalg.lstsq(normal, np.einsum("nk,nc->kc", terms, values), rcond=None)
    return solved[0]  # type: ignore[no-any-return]


def _ring(height: int, width: int) -> int:
    """The outer ring's width in pixels."""
    return max(2, round(RING * min(height, width)))


def _terms(
    ys: npt.NDArray[np.int64], xs: npt.NDArray[np.int64], height: int, width: int
) -> npt.NDArray[np.float64]:
    """The quadratic surface's terms (1, u, v, u², uv, v²) at pixels, u and v in -0.5..0.5."""
    u, v = xs / width - 0.5, ys / height - 0.5
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)


@cache
def _cv2() -> Any:
    """OpenCV, held to one thread: pages are read in the scan's own process too, and a thread
    pool OpenCV starts there deadlocks the engine's workers forked after it (the first
    `setNumThreads` they call waits on the pool's lock, which the fork copied held)."""
    import cv2  # a dependency; loaded only where a frame is read as a page

    cv2.setNumThreads(1)
    return cv2


def _parts(
    content: npt.NDArray[np.bool_], departure: npt.NDArray[np.float32]
) -> tuple[list[Box], list[Box]]:
    """(the picture's parts, the lines of text): the content's components once grown, a part
    taller than a line of text, a line short, wide and inked (`INK`); specks are neither."""
    cv2 = _cv2()
    height, width = content.shape
    size = max(3, round(CLOSE * min(height, width)) | 1)
    closed = cv2.dilate(content.astype(np.uint8), np.ones((size, size), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    grown = size // 2  # the dilation grew each component by this on every side
    parts, lines = [], []
    for x, y, w, h, _ in stats[1:count]:
        box = (int(x) + grown, int(y) + grown, int(x + w) - grown, int(y + h) - grown)
        if h <= TEXT_HEIGHT[1] * height:
            inked = departure[box[1] : box[3], box[0] : box[2]].max(initial=0.0) >= INK
            if h >= TEXT_HEIGHT[0] * height and w >= TEXT_WIDE * h and inked:
                lines.append(box)
        elif w > SPECK * width:
            parts.append(box)
    return parts, lines
