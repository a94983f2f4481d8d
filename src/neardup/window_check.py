"""Two frames that match around different pictures told from copies: the same window, slide or
post layout showing another picture.

An image viewer's screenshots, or the slides of one deck, share every pixel of their frame
(the title bar, the file list, the layout) whatever picture they show: the check finds the
frames whole on the frame's own corners, and where the pictures are alike at its 64 px (two
photographs of clouds or of water) or small, the fitted model passes the pair (RESULTS.md,
session 68: an image viewer showing a folder icon against the same viewer showing an arrow,
0.992). A copy of such a screenshot shows the same picture in the same place. So where both
pictures hold a framed picture (their inset views, `features.inset`) that do not embed alike
and the frames are shared whole, the pictures in them are compared at the check's size:

    keypoint frame shared whole (`WHOLE`), both pictures holding an inset view whose
    cosine is under `INSETS_ALIKE`, at or above the lowest cut
        --WINDOW--> the check's transform and grey pictures (`verify.Verifier.framed`)
        --`window_of`--> Window (one moved onto the other, the framed picture's box found in
                         either, how far both frame it; inside it at `INSIDE_SIDE`: the
                         detail, the correlation and the share of cells whose pixels agree)
        --window_rescored--> lowered to `WINDOW_CONFIDENCE` where both frame the box and
                             nothing inside it agrees (`WINDOW_GATE`)

A copy under a logo or a sticker placed over the framed picture keeps the rest of it: some
cells agree, or the levels still correlate; a picture pasted over a copy is framed in the copy
only.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

import numpy as np

from neardup.aligned_pixels import (
    AGREE_WITHIN,
    aligned_samples,
    correlation,
    robust_z,
    tone_matched,
)
from neardup.engines.base import Stage
from neardup.features.inset import STEP, find_picture
from neardup.item_pixels import Ref
from neardup.pair_checks import FramedChecker, checked_chunk, in_process
from neardup.part_check import PART_CONFIDENCE
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry, Unread, check_version

WINDOW_VERSION = 1
"""Bumped whenever a change would make the findings on the same pixels differ (the pair store
keeps them under kind "window" with this version)."""
WHOLE = 0.9
"""The least share of each frame the keypoint frame covers: the two frames are one layout."""
INSETS_ALIKE = 0.8
"""Inset views embedding this alike or more show one picture: not read."""
INSIDE_SIDE = 32
"""Side (pixels) at which the box's two pictures are compared, `CELLS` x `CELLS` cells."""
CELLS = 4
NEAR = 2
"""Pixels either side of a box's side where its step is looked for."""
CELL_AGREES = 0.7
"""A cell agrees where this share of its pixels do (robust z-scores within `AGREE_WITHIN`)."""
WINDOW_GATE = (0.8, 0.1, 6.0, 0.05, 0.3)
"""How far both pictures frame the box (`Window.sides`, at least), the box's share of the frame
(at least), the detail inside it (grey levels' deviation, at least), the correlation inside it
(under) and the share of its cells that agree (under). On the 51 calibration halves of session
68 (`tools/window_survey.py`, 1,834 pairs measured): the five frames around other pictures
passing the cut read sides 0.82-1.00, correlation 0.000-0.027, agreeing cells 0.00-0.19,
detail 7.7-25.5 (the six other look-alikes passing there, one template's pages, correlate
0.78-0.79); no copy fell under all five: 24 copies fail the correlation bound alone (0.113
and up: copies under an overlay on the framed picture, noisy copies whose cells disagree), 19
the sides bound alone (0.50 or less), the nearest others a caption's box 0.06 of the frame
(correlation 0.000, cells 0.00), a copy under a picture pasted over the box (0.054, cells
0.44) and a form's flat field compressed hard (detail 5.0, correlation 0.096, cells 0.06)."""
WINDOW_CONFIDENCE = PART_CONFIDENCE
"""The confidence of a pair read as two frames around other pictures: under
`group_confidence.HOLD`, as the part check's."""


@dataclass(frozen=True)
class Window:
    """The pictures framed in both frames, compared where their boxes meet."""

    sides: float
    """How far both pictures frame the box (`_sides`, the lesser): a box framed in one only
    is a picture pasted over a copy, or a box the finder saw in one picture's content."""
    share: float
    """The box's share of the second frame."""
    correlation: float
    """Of the grey levels inside the box (the first's tone-matched to the second's)."""
    cells: float
    """The share of the box's cells whose pixels agree (`CELL_AGREES`)."""
    detail: float
    """The lesser standard deviation of the two pictures' grey levels inside the box: in a
    flat field (a form's empty box) compression alone moves the levels apart."""


def window_version() -> str:
    """This code's version of the window check, with the check's (whose transform it uses)."""
    return f"{WINDOW_VERSION}-{check_version()}"


def window_value(found: Window | None) -> list[float] | None:
    """A finding as the pair store keeps it (None: no transform, or a box missing)."""
    return None if found is None else list(astuple(found))


def window_of_value(value: list[float] | None) -> Window | None:
    """The finding `window_value` gave."""
    return None if value is None else Window(*value)


def insets_apart(a: Features, b: Features) -> bool:
    """Whether both pictures hold a framed picture (an inset view of one model) and the two
    views embed less alike than `INSETS_ALIKE`."""
    shared = [m for m in a.embeddings_inset if m in b.embeddings_inset]
    if not shared:
        return False
    cosine = float(np.dot(a.embeddings_inset[shared[0]], b.embeddings_inset[shared[0]]))
    return cosine < INSETS_ALIKE


def window_wanted(
    scored: Scored, geometry: Geometry, a: Features, b: Features, cuts: tuple[float, ...]
) -> bool:
    """Whether a pair at or above the lowest cut is read for two frames around other pictures:
    a keypoint frame sharing `WHOLE` of each, both pictures framing pictures that embed apart."""
    return (
        scored.confidence >= min(cuts)
        and not geometry.dense
        and geometry.score >= WHOLE
        and insets_apart(a, b)
    )


def window_rescored(scored: Scored, found: Window) -> Scored:
    """A pair lowered to `WINDOW_CONFIDENCE` where `found` passes `WINDOW_GATE`, else as it
    was."""
    least_sides, least_share, least_detail, most_correlation, most_cells = WINDOW_GATE
    passed = (
        found.sides >= least_sides
        and found.share >= least_share
        and found.detail >= least_detail
        and found.correlation < most_correlation
        and found.cells < most_cells
    )
    if not passed:
        return scored
    shown = scored.scores | {"window": round(found.correlation, 4)}
    return Scored(scored.similarity, WINDOW_CONFIDENCE, shown, "window", scored.inliers)


def window_of(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> Window | None:
    """`grey_a` moved by `matrix` onto `grey_b`: the framed picture's box found in either
    (`features.inset.find_picture` on the grey levels; the finder picks one box, and in a
    window around a flat picture it may pick the file list), the one whose sides step in both
    the more, and the two compared inside it; None where neither holds a box or it is too small
    to compare."""
    height, width = grey_b.shape
    moved, target, inside = aligned_samples(cv2, matrix, grey_a, grey_b, max(height, width))
    shown = np.where(inside, moved, 0.0)
    boxes = {box for box in (_box(target), _box(shown)) if box is not None}
    if not boxes:
        return None
    sides, box = max((min(_sides(shown, box), _sides(target, box)), box) for box in boxes)
    left, top, right, bottom = box
    if right - left < INSIDE_SIDE // 2 or bottom - top < INSIDE_SIDE // 2:
        return None
    size = (INSIDE_SIDE, INSIDE_SIDE)
    x, y = (
        cv2.resize(
            np.ascontiguousarray(p[top:bottom, left:right]), size, interpolation=cv2.INTER_AREA
        )
        for p in (moved, target)
    )
    covered = (
        cv2.resize(
            np.ascontiguousarray(inside[top:bottom, left:right], dtype=np.uint8) * 255,
            size,
            interpolation=cv2.INTER_AREA,
        )
        >= 250
    )
    if covered.sum() < INSIDE_SIDE * INSIDE_SIDE // 4:
        return None
    levels = tone_matched(x[covered], y[covered])
    agree = np.zeros(size, dtype=bool)
    agree[covered] = np.abs(robust_z(levels) - robust_z(y[covered])) < AGREE_WITHIN
    return Window(
        sides,
        _area(box) / float(height * width),
        correlation(levels, y[covered]),
        _agreeing_cells(agree, covered),
        min(float(x[covered].std()), float(y[covered].std())),
    )


def _box(grey: Any) -> tuple[int, int, int, int] | None:
    """The framed picture's box in a grey picture (its level in every channel)."""
    level = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return find_picture(np.repeat(level[:, :, None], 3, axis=2))


def _sides(grey: Any, box: tuple[int, int, int, int]) -> float:
    """How far a picture frames `box`: of its four sides, the least share of pixels along it
    where the level steps by `STEP` or more across it (rows or columns two apart, the side
    looked for within `NEAR` pixels: the move's interpolation softens and shifts it)."""
    left, top, right, bottom = box
    levels = grey.astype(np.float32)
    found = []
    for line, first, last, rows in (
        (top, left, right, levels),
        (bottom, left, right, levels),
        (left, top, bottom, levels.T),
        (right, top, bottom, levels.T),
    ):
        best = 0.0
        for at in range(max(1, line - NEAR), min(len(rows) - 1, line + NEAR + 1)):
            step = np.abs(rows[at + 1, first:last] - rows[at - 1, first:last]) >= STEP
            best = max(best, float(step.mean()) if step.size else 0.0)
        found.append(best)
    return min(found)


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _agreeing_cells(agree: Any, covered: Any) -> float:
    """The share of the `CELLS` x `CELLS` cells, each half covered or more, where `CELL_AGREES`
    of the covered pixels agree."""
    step = INSIDE_SIDE // CELLS
    counted = agreeing = 0
    for i in range(0, INSIDE_SIDE, step):
        for j in range(0, INSIDE_SIDE, step):
            held = covered[i : i + step, j : j + step]
            if held.sum() * 2 < step * step:
                continue
            counted += 1
            agreeing += bool(agree[i : i + step, j : j + step][held].mean() >= CELL_AGREES)
    return agreeing / counted if counted else 1.0


class WindowChecker(FramedChecker[Window]):
    """Window findings: `window_of` on the pictures the check's transform aligns."""

    def __init__(self) -> None:
        super().__init__(window_of)


WINDOW: Stage[tuple[Ref, Ref], WindowChecker, Window | Unread | None] = Stage(
    "window", WindowChecker, checked_chunk, chunk=16
)
"""The window check as an engine stage: pairs (in the check's order) in, findings out."""


def window_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Window | None]:
    """The window finding of each pair, in this process."""
    return in_process(WindowChecker(), pairs)
