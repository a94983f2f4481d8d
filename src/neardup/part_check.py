"""A detail cut out of a picture told from a copy of it, where the check found one inside the
other with every pixel agreeing.

A tile (a quarter of a photograph) matches its source as well as a copy does: the check finds
it inside, its pixels agree, and the fusion passes a small shared share with perfect agreement
because a picture shown in a screenshot looks the same to it (the picture is a small part of
the screenshot). What tells them apart is around the part, in the picture holding it: a
screenshot frames the picture (an edge along its sides, a window around it), a detail's
sides are cuts through one continuous picture (no step across them, the same texture on both
sides). So the part's sides, where they lie inside the other picture, are read there:

    keypoint frame, the smaller shared share under PART_GATE's, the shared frame agreeing,
    not two pages of which one holds a framed picture
        --PART--> the check's transform and pictures (`verify.Verifier.framed`)
        --`part_of`--> Part (how much of the holder the part covers, the turn between them,
                       the step across the part's sides against the steps beside them, the
                       texture beyond them against within)
        --part_rescored--> lowered to PART_CONFIDENCE where the part covers under
                           PART_GATE's share of what the turn leaves (CROP_GATE's where
                           it lies wholly inside, and never then where a picture holds a
                           framed picture, `features.inset`), no seam, like texture

A copy cropped to a turn's largest upright rectangle keeps 1 / (cos t + r sin t)^2 of its
picture (r its long side over its short), so the share is read against that.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass
from typing import Any

import numpy as np

from neardup.detail_check import two_pages
from neardup.engines.base import Stage
from neardup.item_pixels import Ref
from neardup.pair_checks import FramedChecker, checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry, Unread, check_version

PART_VERSION = 3
"""Bumped whenever a change would make the findings on the same pixels differ (the pair store
keeps them under kind "part" with this version)."""
PART_GATE = (0.57, 0.95, 1.6, (0.4, 2.5))
"""The share of the holder the part covers (under, of what its turn leaves), the agreeing share
of the shared frame (at least, `verify.Geometry.agree`), the step across the part's sides
against the steps beside them (under: no seam) and the texture beyond them against within
(between: the same picture goes on). The share holds for a part partly outside its holder
(`CROP_GATE` holds for one wholly inside): there the two pictures only overlap, as a tile does
with a copy cut or turned otherwise (on 29 calibration halves such tiles passing the cut
covered up to 0.533 of what the turn leaves, copies from 0.620; R121, session 51; 0.45 before,
R77, session 41). The step and texture bounds are where the calibration halves' screenshots
(step 5-45, texture 0.1-0.4) and tiles (about 1 and 0.8-1.4) fell."""
CROP_GATE = (0.3, 0.97)
"""A part whose frame lies wholly inside its holder (`Part.inside` from the second) is a crop
of it from the first share (the issue's crops to 60 % of a side keep 36 %), not a detail
cut out: on the calibration halves the held generator's crops (0.34-0.45 of the picture,
inside 0.992 or more) were lowered as details, while the original set's tiles lowered above
0.26 lay partly outside the copy holding them (a crop cuts the tile: inside 0.65-0.95;
session 47, R109). A tile wholly inside a copy covers about a quarter of it (0.258)."""
PART_CONFIDENCE = 0.01
"""The confidence of a pair read as a detail of a picture, not a copy of it: under
`group_confidence.HOLD`, so the groups' reading never carries it back over a cut (as the words'
veto's 0.005)."""
MARGIN = 8
"""Pixels (at the check's size) a side's points keep from the holder's edges: the steps are
read 1 to 7 pixels either side."""


@dataclass(frozen=True)
class Part:
    """One picture found inside the other: what the gate reads."""

    cover: float
    """The share of the holder (the picture less covered) the other's frame covers."""
    forced: float
    """The share a copy turned by the transform's angle and cut to its largest upright
    rectangle keeps of the holder (1 where the two are upright)."""
    seam: float
    """The mean step across the part's sides inside the holder against the mean step beside
    them (about 1 inside one picture, several where a frame or another picture begins)."""
    texture: float
    """The gradient beyond the sides against within (about 1 where the same picture goes on)."""
    inside: float
    """The share of the part's frame that lies inside the holder (1: wholly, as a crop)."""


def part_version() -> str:
    """This code's version of the part check, with the check's (whose transform it uses)."""
    return f"{PART_VERSION}-{check_version()}"


def part_value(found: Part | None) -> list[float] | None:
    """A finding as the pair store keeps it (None: no transform, or no side inside)."""
    return None if found is None else list(astuple(found))


def part_of_value(value: list[float] | None) -> Part | None:
    """The finding `part_value` gave."""
    return None if value is None else Part(*value)


def part_wanted(scored: Scored, geometry: Geometry, a: Features, b: Features, cut: float) -> bool:
    """Whether a pair at or above `cut` is read for a detail: a keypoint frame covering under
    the gate's share of one picture, the shared frame agreeing, and not two pages of which one
    holds a framed picture (a screenshot of a page in a window: R123, session 51)."""
    most_cover, least_agree, _, _ = PART_GATE
    return (
        scored.confidence >= cut
        and not geometry.dense
        and 0.0 < geometry.score < most_cover
        and geometry.agree >= least_agree
        and not (two_pages(a, b) and holds_inset(a, b))
    )


def holds_inset(a: Features, b: Features) -> bool:
    """Whether either picture holds a framed picture (its inset view was taken): a screenshot
    may show the other picture whole, a part of it that no step or texture tells apart."""
    return bool(a.embeddings_inset or b.embeddings_inset)


def part_rescored(scored: Scored, found: Part, holds_frame: bool = False) -> Scored:
    """A pair lowered to `PART_CONFIDENCE` where `found` passes `PART_GATE`, else as it was.
    Where a picture holds a framed picture (`holds_inset`), only a part lying partly outside its
    holder is read: one lying wholly inside may be that picture shown in a screenshot (R122,
    session 51: on 29 calibration halves the gate would lower 18 such copies, pictures shown
    whole in screenshots, while the parts partly outside were 2 tiles against a copy of a moss
    photograph where the inset finder saw a frame in the texture, and no copy)."""
    most_cover, _, most_seam, (least_texture, most_texture) = PART_GATE
    if found.inside >= CROP_GATE[1]:
        if holds_frame:
            return scored
        most_cover = CROP_GATE[0]
    passed = (
        found.cover < most_cover * found.forced
        and found.seam < most_seam
        and least_texture < found.texture < most_texture
    )
    if not passed:
        return scored
    shown = scored.scores | {"part": round(found.cover, 4)}
    return Scored(scored.similarity, PART_CONFIDENCE, shown, "part", scored.inliers)


def part_of(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> Part | None:
    """`grey_a`'s frame moved by `matrix` onto `grey_b` (or `grey_b`'s moved back, whichever
    covers less of the other): the part's facts; None where the transform is degenerate or
    no side of the part lies inside the holder."""
    forward = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
    if abs(np.linalg.det(forward)) < 1e-9:
        return None
    # The holder is the picture the other covers less of: a's frame on b's, or b's on a's.
    ways = ((forward, grey_a.shape, grey_b), (np.linalg.inv(forward), grey_b.shape, grey_a))
    found = [(_cover(cv2, m, shape, holder.shape), m, shape, holder) for m, shape, holder in ways]
    (cover, quad), m, shape, holder = min(found, key=lambda way: way[0][0])
    # The shared area against the part's own, moved: 1 where the part lies wholly inside.
    moved = abs(np.linalg.det(m[:2, :2])) * shape[0] * shape[1]
    inside = cover * holder.shape[0] * holder.shape[1] / moved
    turn = math.atan2(m[1, 0], m[0, 0]) % (math.pi / 2)
    turn = min(turn, math.pi / 2 - turn)
    h, w = holder.shape[:2]
    long_over_short = max(h, w) / max(1, min(h, w))
    forced = 1.0 / (math.cos(turn) + long_over_short * math.sin(turn)) ** 2
    steps = seam_steps(cv2, quad, holder)
    if steps is None:
        return None
    seam, texture = steps
    return Part(cover, forced, seam, texture, min(1.0, inside))


def _cover(cv2: Any, m: Any, part_shape: Any, holder_shape: Any) -> tuple[float, Any]:
    """The share of the holder the part's frame covers once moved by `m`, and that frame."""
    h, w = part_shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    quad = corners @ m[:2, :2].T + m[:2, 2]
    hh, hw = holder_shape[:2]
    frame = np.array([[0, 0], [hw, 0], [hw, hh], [0, hh]], np.float32)
    shared, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    return float(shared) / (hw * hh), quad


def seam_steps(cv2: Any, quad: Any, holder: Any) -> tuple[float, float] | None:
    """Along the sides of `quad` inside `holder`: the step across them against the steps
    beside them, and the gradient beyond them against within."""
    grey = holder.astype(np.float32)
    h, w = grey.shape[:2]
    gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    centre = quad.mean(axis=0)
    across, beside, inner, outer = [], [], [], []
    for i in range(4):
        start, end = quad[i], quad[(i + 1) % 4]
        length = float(np.hypot(*(end - start)))
        if length < 8:
            continue
        tangent = (end - start) / length
        normal = np.array([-tangent[1], tangent[0]])
        if np.dot(centre - (start + end) / 2, normal) < 0:
            normal = -normal  # pointing into the part
        points = start + np.linspace(0.0, 1.0, max(8, int(length)))[:, None] * (end - start)
        inside = (
            (points[:, 0] > MARGIN)
            & (points[:, 0] < w - 1 - MARGIN)
            & (points[:, 1] > MARGIN)
            & (points[:, 1] < h - 1 - MARGIN)
        )
        if inside.sum() < 8:
            continue  # a side along the holder's edge: nothing beyond it to read
        points = points[inside]

        def at(picture: Any, offsets: tuple[float, ...], pts: Any = points, n: Any = normal) -> Any:
            taken = [_sampled(cv2, picture, pts + k * n) for k in offsets]
            return np.mean(taken, axis=0)

        # Four pixels apart across the side and beside it, so a picture going on (even a
        # ramp) reads at most about 1 however fast its levels change.
        near_in, near_out = at(grey, (1.0, 2.0, 3.0)), at(grey, (-1.0, -2.0, -3.0))
        far_in, far_out = at(grey, (5.0, 6.0, 7.0)), at(grey, (-5.0, -6.0, -7.0))
        across.append(np.abs(near_in - near_out))
        beside.append((np.abs(far_in - near_in) + np.abs(far_out - near_out)) / 2)
        inner.append(at(gradient, (2.0, 4.0, 6.0)))
        outer.append(at(gradient, (-2.0, -4.0, -6.0)))
    if not across:
        return None
    # +1 grey level: two flat sides of one colour are no seam, however small the steps.
    seam = float(np.concatenate(across).mean() / (np.concatenate(beside).mean() + 1.0))
    texture = float(np.concatenate(outer).mean() / (np.concatenate(inner).mean() + 1.0))
    return seam, texture


def _sampled(cv2: Any, picture: Any, points: Any) -> Any:
    """`picture` read at `points` (x, y), bilinearly."""
    xy = points.astype(np.float32)
    return cv2.remap(picture, xy[:, 0:1], xy[:, 1:2], cv2.INTER_LINEAR)[:, 0]


class PartChecker(FramedChecker[Part]):
    """Part findings: `part_of` on the pictures the check's transform aligns."""

    def __init__(self) -> None:
        super().__init__(part_of)


PART: Stage[tuple[Ref, Ref], PartChecker, Part | Unread | None] = Stage(
    "part", PartChecker, checked_chunk, chunk=16
)
"""The part check as an engine stage: pairs (in the check's order) in, findings out."""


def part_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Part | None]:
    """The part finding of each pair, in this process."""
    return in_process(PartChecker(), pairs)
