"""A copy under an overlay told from another frame of one scene, where the check's spot could
not tell them (`checked_scores.spot_rescored`).

Both keep the frame whole and disagree in one region: a logo, a caption or a sticker on a
copy; a subject that moved between two frames of a clip. The check compares them at 64 px,
where an overlay's spot joins the lines of a drawing and a moved subject looks like a spot.
Here the pair is compared at `OVERLAY_SIDE`, and the disagreeing pixels are asked whether
local motion explains them: dense optical flow (Farneback), each picture's pixels moved onto
the other's. A moved subject is found again a little further on, an overlay nowhere (nothing
in the picture below looks like the logo); on the picture calibration halves (RESULTS.md,
session 40) motion explained a median 0.14 of a copy's disagreeing pixels and 0.28 of a burst
frame's. What a subject uncovers as it moves is found nowhere either, so the test is a
tendency, not a proof: the gate's share was chosen where it raised no look-alike.

    keypoint frame found whole, not raised by the spot, not two pages, neither mostly paper
        --OVERLAY--> the check's transform and pictures (`verify.Verifier.framed`)
        --`overlay_of` at OVERLAY_SIDE--> Overlay (the spot, the share motion explains)
        --overlay_rescored--> raised to the spot's confidence where it passes OVERLAY_GATE
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

import numpy as np

from neardup.aligned_pixels import (
    AGREE_WITHIN,
    Spot,
    aligned_samples,
    robust_scale,
    spot_of,
    tone_matched,
)
from neardup.checked_scores import SPOT_CONFIDENCE, SPOT_GATE
from neardup.detail_check import two_pages
from neardup.engines.base import Stage
from neardup.features.page import mostly_paper
from neardup.item_pixels import Ref
from neardup.pair_checks import FramedChecker, checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry, Unread, check_version

OVERLAY_VERSION = 1
"""Bumped whenever a change would make the findings on the same pixels differ (the pair store
keeps them under kind "overlay" with this version)."""
OVERLAY_SIDE = 128
"""Side at which the aligned pictures are compared: twice the check's, so a logo's spot stays
apart from the lines around it, still coarse enough that noise and compression agree."""
FLOW = (0.5, 3, 15, 3, 5, 1.2, 0)
"""Farneback's pyramid scale, levels, window, iterations, neighbourhood, its Gaussian and
flags: OpenCV's documented example, a window of 15 px (a tenth of the side) following a
subject that moved a few of them."""
OVERLAY_FLOOR = 0.5
"""The confidence from which a pair is read here: the spot's floor until session 46 (R88 read
from 0.3 raised a look-alike); the spot's gate now reads from lower (`checked_scores.SPOT_FLOOR`),
this stage's motion test does not."""
OVERLAY_GATE = (0.15, 0.9, 3.0)
"""The share of the disagreeing pixels motion explains (under), the agreeing share of the rest
(at least) and how crowded the spot is (at most; `aligned_pixels.Spot`) for a frame found
whole to read as a copy under an overlay. The share is the largest of 0.10, 0.15 and 0.20 at
which the stage raised no look-alike on the 60 calibration halves (R76: 184 copies; at 0.20,
302 copies and 9 burst frames of three sources: what a moving subject uncovers is found
nowhere either). The rest as the calibration pairs showed it (below 0.9, menus of one
template, disagreeing all over); the crowding as the spot's gate has it (signs of one set
hold their detail in the spot)."""


@dataclass(frozen=True)
class Overlay:
    """Where two aligned pictures disagree at `OVERLAY_SIDE`, and how much of it motion explains."""

    spot: Spot
    explained: float
    """Share of the disagreeing pixels that agree once one picture's pixels follow the optical
    flow onto the other's, the larger of the two ways (1 where nothing disagrees)."""


def overlay_version() -> str:
    """This code's version of the overlay check, with the check's (whose transform it uses)."""
    return f"{OVERLAY_VERSION}-{check_version()}"


def overlay_value(found: Overlay | None) -> list[float] | None:
    """A finding as the pair store keeps it (None: no transform, or too little shared)."""
    if found is None:
        return None
    return [*astuple(found.spot), found.explained]


def overlay_of_value(value: list[float] | None) -> Overlay | None:
    """The finding `overlay_value` gave."""
    if value is None:
        return None
    *spot, explained = value
    return Overlay(Spot(*spot), explained)


def overlay_wanted(scored: Scored, geometry: Geometry, a: Features, b: Features) -> bool:
    """Whether a pair's keypoint finding is read for an overlay here: the frame found whole
    (not densely: no keypoints to follow), from `OVERLAY_FLOOR`, not already raised, neither
    of them mostly paper (`features.page.mostly_paper`: on a mostly blank page one changed field,
    or other words blurred past reading, is such a spot; read on every picture, the stage raised
    10 copies and 10 look-alikes of the documents calibration halves, blurred or darkened pages
    of one template; R75) and not two pages (`detail_check.two_pages`): pages are told apart by
    their words (`neardup.detail_check`)."""
    return (
        not mostly_paper(a.page)
        and not mostly_paper(b.page)
        and not two_pages(a, b)
        and not geometry.dense
        and geometry.score >= SPOT_GATE[0]
        and OVERLAY_FLOOR <= scored.confidence < SPOT_CONFIDENCE
    )


def overlay_rescored(scored: Scored, found: Overlay) -> Scored:
    """A pair raised to `SPOT_CONFIDENCE` where `found` passes `OVERLAY_GATE`, else as it was."""
    most_explained, least_rest, most_crowded = OVERLAY_GATE
    passed = (
        found.explained < most_explained
        and found.spot.rest >= least_rest
        and found.spot.crowded <= most_crowded
    )
    if not passed or scored.confidence >= SPOT_CONFIDENCE:
        return scored
    shown = scored.scores | {"spot": round(found.spot.share, 4)}
    return Scored(scored.similarity, SPOT_CONFIDENCE, shown, "geometry", scored.inliers)


def overlay_of(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> Overlay | None:
    """Grey picture `grey_a`, moved by `matrix` onto `grey_b`, compared with it at
    `OVERLAY_SIDE`; None where they share too few pixels."""
    small_a, small_b, inside = aligned_samples(cv2, matrix, grey_a, grey_b, OVERLAY_SIDE)
    if inside.sum() < 64:
        return None
    x, y = tone_matched(small_a[inside], small_b[inside]), small_b[inside]
    return Overlay(spot_of(x, y, inside), _explained(cv2, x, small_b, inside))


def _explained(cv2: Any, x: Any, small_b: Any, inside: Any) -> float:
    """The share of the pixels where `x` (A's tone-matched levels inside) and B disagree that
    agree once either picture follows the optical flow onto the other, the larger way."""
    a = np.zeros(inside.shape, np.float32)
    a[inside] = x
    y = small_b[inside]
    za, zb = _scaled(x), _scaled(y)
    apart = np.abs(za(x) - zb(y)) >= AGREE_WITHIN
    if not apart.any():
        return 1.0
    a8, b8 = (np.clip(p, 0, 255).astype(np.uint8) for p in (a, small_b))
    height, width = inside.shape
    gx, gy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    shares = []
    ways = ((a, a8, za, b8, zb, y), (small_b, b8, zb, a8, za, x))
    for moved, moved8, z_moved, onto8, z_onto, levels in ways:
        # The flow of each pixel of `onto` to where it lies in `moved`.
        flow = cv2.calcOpticalFlowFarneback(onto8, moved8, None, *FLOW)
        follows = cv2.remap(
            moved,
            gx + flow[..., 0],
            gy + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        gap = np.abs(z_moved(follows[inside]) - z_onto(levels))
        shares.append(float(np.mean(gap[apart] < AGREE_WITHIN)))
    return max(shares)


def _scaled(sample: Any) -> Any:
    """Robust z-scores by `sample`'s median and interquartile range, as a function
    (`aligned_pixels.agreeing` reads each picture so)."""
    mid, spread = robust_scale(sample)
    return lambda v: (v - mid) / spread


class OverlayChecker(FramedChecker[Overlay]):
    """Overlay findings: `overlay_of` on the pictures the check's transform aligns."""

    def __init__(self) -> None:
        super().__init__(overlay_of)


OVERLAY: Stage[tuple[Ref, Ref], OverlayChecker, Overlay | Unread | None] = Stage(
    "overlay", OverlayChecker, checked_chunk, chunk=16
)
"""The overlay check as an engine stage: pairs (in the check's order) in, findings out."""


def overlay_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Overlay | None]:
    """The overlay finding of each pair, in this process."""
    return in_process(OverlayChecker(), pairs)
