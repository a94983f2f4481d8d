"""A copy under a logo or a caption box told from other content by the box painted over it,
where the scores so far left it under the cut.

A logo or a caption box painted on a copy replaces the pixels under it, so the check's
aligned pixels and the model's reading of them say "other content"; the overlay stage reads
it from `overlay_check.OVERLAY_FLOOR` only, since below it another frame of a shot or another
instance of a template stands against the copies, and its motion test fails a flat logo whose
grey levels the flow finds nearby. What such look-alikes seldom hold is a region painted
over: one whose local mean level moves by a quarter of the range, solid, in one place
(`painted_box`, read as for pages), with everything outside it agreeing.

    keypoint frame found whole (PAINTED_GATE's share), not two pages, from PAINTED_FLOOR
    under the highest cut a raise crosses
        --PAINTED--> the check's transform and pictures (`verify.Verifier.framed`)
        --`painted_of`, `PICTURE_REDUCTION` times reduced--> Painted (the box's share of the
                                                             picture, the rest agreeing)
        --painted_rescored--> raised to the spot's confidence where the rest agrees
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

import numpy as np

from neardup.checked_scores import SPOT_CONFIDENCE
from neardup.detail_check import two_pages
from neardup.engines.base import Stage
from neardup.item_pixels import Ref
from neardup.painted_box import painted_region, reduced
from neardup.pair_checks import FramedChecker, checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry, Unread, check_version

PAINTED_VERSION = 1
"""Bumped whenever a change would make the findings on the same pixels differ (the pair store
keeps them under kind "painted" with this version)."""
PAINTED_FLOOR = 0.05
"""The confidence from which a pair is read for a painted box (the survey's floor)."""
PICTURE_REDUCTION = 2
"""The check's pictures (`verify.VERIFY_SIDE`, 256 px a shorter side) are read for a painted
box at half that side: about the size at which pages are (`painted_box.PAINT_REDUCTION`)."""
REST_MARGIN = 4
"""Pixels (reduced) the box is grown by before the rest is read: its edge is blurred."""
REST_LEVELS = 16.0
"""Grey levels (after the tone map) within which a pixel of the rest agrees."""
PAINTED_GATE = (0.9, 0.95)
"""The smaller shared share of the keypoint frame (at least) and the share of the rest that
agrees (at least) for a copy under a painted box. On 10 calibration halves' picture pairs from
0.05 to the cut framed so, 33 held a box, 32 of them copies; with the rest at 0.95, 22 copies
and no look-alike, at 0.9 23 and two (a menu of one template at 0.931). RESULTS.md, session 44
(R94)."""


@dataclass(frozen=True)
class Painted:
    """A box painted over one of two aligned pictures, and how the rest agrees."""

    box: float
    """The box's share of the covered picture."""
    rest: float
    """Share of the covered pixels outside the box (grown by `REST_MARGIN`) that agree."""


def painted_version() -> str:
    """This code's version of the painted check, with the check's (whose transform it uses)."""
    return f"{PAINTED_VERSION}-{check_version()}"


def painted_value(found: Painted | None) -> list[float] | None:
    """A finding as the pair store keeps it (None: no transform, or no box painted)."""
    return None if found is None else list(astuple(found))


def painted_of_value(value: list[float] | None) -> Painted | None:
    """The finding `painted_value` gave."""
    return None if value is None else Painted(*value)


def painted_wanted(
    scored: Scored, geometry: Geometry, a: Features, b: Features, cuts: tuple[float, ...]
) -> bool:
    """Whether a pair's keypoint finding is read for a painted box: a frame shared from the
    gate's share, not two pages (their words decide), from `PAINTED_FLOOR` and under the
    highest of `cuts` a raise to `SPOT_CONFIDENCE` crosses."""
    crossed = max((cut for cut in cuts if cut <= SPOT_CONFIDENCE), default=0.0)
    return (
        not geometry.dense
        and geometry.score >= PAINTED_GATE[0]
        and PAINTED_FLOOR <= scored.confidence < crossed
        and not two_pages(a, b)
    )


def painted_rescored(scored: Scored, found: Painted) -> Scored:
    """A pair raised to `SPOT_CONFIDENCE` where the rest of `found` agrees (`PAINTED_GATE`)."""
    if found.rest < PAINTED_GATE[1] or scored.confidence >= SPOT_CONFIDENCE:
        return scored
    shown = scored.scores | {"painted": round(found.box, 4)}
    return Scored(scored.similarity, SPOT_CONFIDENCE, shown, "geometry", scored.inliers)


def painted_of(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> Painted | None:
    """Grey picture `grey_a`, moved by `matrix` onto `grey_b`, read for a painted box; None
    where they share too little or no box is painted."""
    height, width = grey_b.shape
    warped = cv2.warpAffine(grey_a, matrix, (width, height), flags=cv2.INTER_AREA)
    cover = cv2.warpAffine(
        np.full(grey_a.shape, 255, np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    found = reduced(cv2, [warped, grey_b, cover], PICTURE_REDUCTION)
    box = None if found is None else painted_region(cv2, *found)
    if found is None or box is None:
        return None
    a, b, inside = found
    left, top, right, bottom = box
    grown = np.zeros_like(inside)
    grown[
        max(0, top - REST_MARGIN) : bottom + REST_MARGIN,
        max(0, left - REST_MARGIN) : right + REST_MARGIN,
    ] = True
    rest = inside & ~grown
    if rest.sum() <= 16:
        return None
    agree = float(np.mean(np.abs(a[rest] - b[rest]) < REST_LEVELS))
    return Painted(float((inside & grown).sum() / inside.sum()), agree)


class PaintedChecker(FramedChecker[Painted]):
    """Painted-box findings: `painted_of` on the pictures the check's transform aligns."""

    def __init__(self) -> None:
        super().__init__(painted_of)


PAINTED: Stage[tuple[Ref, Ref], PaintedChecker, Painted | Unread | None] = Stage(
    "painted", PaintedChecker, checked_chunk, chunk=16
)
"""The painted check as an engine stage: pairs (in the check's order) in, findings out."""


def painted_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Painted | None]:
    """The painted finding of each pair, in this process."""
    return in_process(PaintedChecker(), pairs)
