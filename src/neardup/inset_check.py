"""The geometric check of a picture shown small in a screenshot, against the inset cut out.

A picture pasted at 10-40 % of a screenshot keeps few of its corners at the check's working
size for the whole frame (`verify.VERIFY_SIDE` on its shorter side): a smooth wallpaper in a
window found 4 inliers where 10 decide. So where the inset view sent a pair to the check
(`checked_scores.picture_first`: the first picture, the second frames it) and the plain check
found no frame holding most of the picture, the frame is decoded at `INSET_SIDE`, its inset
found again (`features.inset.find_picture`), cut out and matched at the check's size. The
finding is told in the frame's terms (its share of the frame is the inset's share of it), as
a plain check that found the picture would tell it.

    picture + screenshot, not found --INSET--> frame at INSET_SIDE --find_picture--> inset
        --ORB, RANSAC (`verify.Verifier`)--> Geometry, the frame's share scaled to the frame

Where the pair is still below the cut (an inset too smooth or too repetitive for keypoints:
stripes settle RANSAC on a collapsed transform; or a frame found whose pixels the fitted
model reads in the whole screenshot's terms), the picture and the inset are compared as
whole frames, measured as a dense alignment is (`dense_check.WholeChecker`), and the pair
raised to the dense alignment's confidence where that passes its gate (RESULTS.md, session
46, R107b: of 824 such calibration tries 23 passed, all copies). Where the whole frames do
not pass, the inset may be a part of the picture (a stripe or a wall's edge bounds a smaller
rectangle inside it), so the two are aligned by the dense search too (`dense_alignment.align`,
a part down to 0.55 of the side), its finding kept where it passes the same gate and one frame
lies wholly inside the other (session 47, R108b: on 16 calibration halves the search passed 50
copies' tries and 8 of a screenshot of a neighbouring tile, which overlaps the picture in
part; with the bound 49 and none):

    picture + screenshot, below the cut --INSET_WHOLE--> inset --whole frames, else the
        dense search--> Geometry
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neardup.checked_scores import dense_passes, picture_first
from neardup.decode import Decoded, DecodeSpec
from neardup.dense_check import DenseChecker, WholeChecker, dense_version, whole_version
from neardup.engines.base import Stage
from neardup.features.inset import find_picture
from neardup.item_pixels import FramePictures, Ref, read_still
from neardup.pair_checks import checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import MIN_INLIERS, VERIFY_SIDE, Geometry, Unread, Verifier, check_version

INSET_VERSION = 3
"""Bumped whenever a change would make the inset findings on the same pixels differ (the pair
store keeps them under kind "inset" with this version)."""
INSET_WHOLE_VERSION = 3
"""As `INSET_VERSION`, for the inset's whole-frame comparison (kind "inset_whole"): 2 adds the
dense search where the whole frames do not pass, 3 bounds it to frames wholly inside."""
INSET_SIDE = 768
"""Decode side of the frame whose inset is cut out: an inset at a third of the frame's side
keeps about the check's working size (on the calibration halves' example, 512 px gave 22
inliers and 768 px 28, where the whole frame at 256 px gave 4). The inset is looked for at
half that side (the search costs with the pixels; a side's place is known to a pixel or
two), and cut from the full one."""
KEPT = 64
"""Frames whose insets a worker keeps: a screenshot is often paired with several pictures."""
INSIDE = 0.97
"""The share of one frame that must lie inside the other for the dense search's finding to
count: an inset cut short lies inside its picture (49 of the calibration halves' 50 passing
copies, from 0.98), a screenshot of a neighbouring tile overlaps it in part (0.88-0.91 at
most; session 47, R108b)."""


def inset_version() -> str:
    """This code's version of the inset check, with the check's (whose matching it uses)."""
    return f"{INSET_VERSION}-{check_version()}"


def inset_whole_version() -> str:
    """This code's version of the inset's whole-frame comparison (the inset's, the whole
    frames' and the dense search's code)."""
    return f"{INSET_VERSION}.{INSET_WHOLE_VERSION}-{whole_version()}-{dense_version()}"


def unfound(
    images: Sequence[Features],
    pair: tuple[int, int],
    scored: Mapping[tuple[int, int], Scored],
    plain: Geometry | None,
) -> bool:
    """Whether a pair the inset view sent to the check (a picture, then its screenshot) found
    no frame there holding most of the picture (its score, the smaller shared share, is
    small for a found screenshot too)."""
    lost = plain is None or plain.contained < 0.5
    return sent_below(images, pair, scored, float("inf")) and lost


def sent_below(
    images: Sequence[Features],
    pair: tuple[int, int],
    scored: Mapping[tuple[int, int], Scored],
    cut: float,
) -> bool:
    """Whether the inset view sent a pair to the check (a picture, then its screenshot) and
    its confidence is under `cut`."""
    a, b = pair
    sent = picture_first(scored[a, b].scores, images[a], images[b]) or picture_first(
        scored[a, b].scores, images[b], images[a]
    )
    return sent and scored[a, b].confidence < cut


def inset_better(plain: Geometry | None, found: Geometry | None) -> bool:
    """Whether the inset's finding shows most of the picture in the frame, more of it than the
    plain check's (RANSAC can settle on a degenerate transform that covers nothing)."""
    if found is None or found.inliers < MIN_INLIERS or found.contained < 0.5:
        return False
    return plain is None or found.contained > plain.contained


class InsetChecker:
    """Checks against insets, with the plain check's keypoint cache for the pictures."""

    def __init__(self) -> None:
        import cv2

        self._cv2 = cv2
        self._verifier = Verifier(cache_size=256)
        self.cv2_error = self._verifier.cv2_error
        self.frames = FramePictures(DecodeSpec(min_side=INSET_SIDE))
        self.unread: set[Ref] = self._verifier.unread
        self._insets: OrderedDict[Ref, tuple[tuple[Any, ...], float] | None] = OrderedDict()

    def check(self, ref_a: Ref, ref_b: Ref) -> Geometry | None:
        """The finding of picture `ref_a` in the inset of frame `ref_b`; None where either
        cannot be read, the frame holds no inset or the inset too few corners."""
        picture = self._verifier.keypoints(ref_a)
        if ref_b not in self._insets:
            self._insets[ref_b] = self._inset(ref_b)
            if len(self._insets) > KEPT:
                self._insets.popitem(last=False)
        self._insets.move_to_end(ref_b)
        framed = self._insets[ref_b]
        if picture is None or framed is None:
            return None
        inset, share = framed
        found = self._verifier.match(picture, inset)
        return Geometry(
            found.matches,
            found.inliers,
            found.overlap_a,
            found.overlap_b * share,
            found.aligned,
            found.agree,
        )

    def _inset(self, ref: Ref) -> tuple[tuple[Any, ...], float] | None:
        """(the inset's keypoints, descriptors, size and grey picture at the check's size, its
        share of the frame), or None."""
        cut = cut_inset(self._cv2, ref, self.frames, self.unread)
        if cut is None:
            return None
        grey, share = cut
        described = self._verifier.describe(grey)
        return None if described is None else ((*described, grey), share)


def cut_inset(
    cv2: Any, ref: Ref, frames: FramePictures, unread: set[Ref]
) -> tuple[Any, float] | None:
    """The inset of frame `ref` (decoded at `INSET_SIDE`, looked for at half that side) cut
    out as a grey picture at the check's size, and its share of the frame; None where the
    frame cannot be read (then added to `unread`) or holds no inset."""
    decoded = _decoded(ref, frames, unread)
    if decoded is None:
        return None
    rgb = decoded.rgb
    height, width = rgb.shape[:2]
    half = cv2.resize(rgb, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    box = find_picture(half)
    if box is None:
        return None
    left, top = 2 * box[0], 2 * box[1]
    right, bottom = min(2 * box[2], width), min(2 * box[3], height)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right]), cv2.COLOR_RGB2GRAY)
    scale = VERIFY_SIDE / min(grey.shape)
    if scale < 1.0:  # never enlarged: an upsampled inset holds no more corners
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey, (right - left) * (bottom - top) / (width * height)


def _decoded(ref: Ref, frames: FramePictures, unread: set[Ref]) -> Decoded | None:
    if isinstance(ref, tuple):  # a video frame
        found = frames.get(ref)
    else:
        try:
            found = read_still(ref, DecodeSpec(min_side=INSET_SIDE))
        except OSError:
            unread.add(ref)
            return None
    if not isinstance(found, Decoded):
        unread.add(ref)
        return None
    return found


class InsetWholeChecker(WholeChecker):
    """The picture against the inset cut out of its screenshot, as whole frames, else by the
    dense search (the inset cut out may be a part of the picture)."""

    def __init__(self) -> None:
        super().__init__()
        self.inset_frames = FramePictures(DecodeSpec(min_side=INSET_SIDE))
        self._cuts: OrderedDict[Ref, tuple[Any, float] | None] = OrderedDict()
        self._searched = DenseChecker(cache_size=0)  # its measure only: no pictures kept

    def check(self, ref_a: Ref, ref_b: Ref) -> Geometry | None:
        """The finding of picture `ref_a` against frame `ref_b`'s inset, in the inset's terms:
        the whole frames', or the dense search's where only that passes the dense gate; None
        where either cannot be read or the frame holds no inset."""
        if ref_b not in self._cuts:
            self._cuts[ref_b] = cut_inset(self._cv2, ref_b, self.inset_frames, self.unread)
            if len(self._cuts) > KEPT:
                self._cuts.popitem(last=False)
        self._cuts.move_to_end(ref_b)
        cut = self._cuts[ref_b]
        if cut is None:
            return None
        picture = self._grey(ref_a)
        whole = self.measure(picture, cut[0])
        if whole is not None and dense_passes(whole.evidence()):
            return whole
        searched = self._searched.measure(picture, cut[0])
        if searched is None or max(searched.overlap_a, searched.overlap_b) < INSIDE:
            return whole  # frames overlapping in part: a neighbouring tile shown in a window
        return searched if dense_passes(searched.evidence()) else whole


INSET: Stage[tuple[Ref, Ref], InsetChecker, Geometry | Unread | None] = Stage(
    "inset", InsetChecker, checked_chunk, chunk=16
)
"""The inset check as an engine stage: (picture, frame) pairs in, findings out."""

INSET_WHOLE: Stage[tuple[Ref, Ref], InsetWholeChecker, Geometry | Unread | None] = Stage(
    "inset_whole", InsetWholeChecker, checked_chunk, chunk=16
)
"""The picture against its screenshot's inset as whole frames, as an engine stage."""


def inset_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Geometry | None]:
    """The inset check of each (picture, frame) pair, in this process."""
    return in_process(InsetChecker(), pairs)
