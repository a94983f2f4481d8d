"""The geometric check of a picture shown small in a screenshot, against the inset cut out.

A picture pasted at 10-40 % of a screenshot keeps few of its corners at the check's working
size for the whole frame (`verify.VERIFY_SIDE` on its shorter side): a smooth wallpaper in a
window found 4 inliers where 10 decide. So where the inset view sent a pair to the check
(`checked_scores.picture_first`: the first picture, the second frames it) and the plain check
found no frame holding most of the picture, or one aligned too coarsely to trust (since session
65: a picture a quarter of a slide, turned, fitted over all of it agreeing 0.79), the frame is
decoded at `INSET_SIDE`, its inset found again (`features.inset.find_picture`), cut out and
matched at the check's size; its finding replaces the plain one where it holds more of the
picture, or more of it agreeing (`inset_better`). The finding is told in the frame's terms (its
share of the frame is the inset's share of it), as a plain check that found the picture would
tell it.

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
        dense search, else the picture searched for in the frame--> Geometry

Where neither passes, the inset found may not be the picture at all (a box between two stripes
of a texture, a map cut by one of its own lines, a window's pane around a picture on white:
the finder chooses blind). The check has the picture, so it searches the frame for it, scaled
to each of `SCALES` of the frame's width (normalised correlation, `cv2.matchTemplate`), cuts
the best place out and compares that as whole frames, kept where the correlation reaches
`LOCATED` and the comparison passes the same gate (session 64: of 99 screenshot copies on five
calibration halves, the gate passed 43 with the finder's box, 78 with the true one, 76 with the
place searched for, all at `LOCATED`; 69 as the stage ran then, without the seam below, the
search only where the finder found a box and the routes before did not pass; another picture
of the same half searched for in each of those frames, none). The place found is kept only
where its sides show a seam, as a pasted picture's do (a crop inside a larger picture goes on
across them; 67 of the 99 then). A page (`a_page`) is not searched for: a page of a template
correlates with every page of it, the place found compared without its words (session 65:
an e-mail crop, a spreadsheet joined look-alikes so; with the bound 55 of the 99 pass).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neardup.checked_scores import DENSE_GATE, dense_passes, picture_first
from neardup.decode import Decoded, DecodeSpec
from neardup.dense_check import DenseChecker, WholeChecker, dense_version, whole_version
from neardup.detail_check import PAGES
from neardup.engines.base import Stage
from neardup.features.inset import find_picture
from neardup.features.page import page_facts
from neardup.item_pixels import FramePictures, Ref, read_still
from neardup.pair_checks import checked_chunk, in_process
from neardup.part_check import PART_GATE, seam_steps
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import MIN_INLIERS, VERIFY_SIDE, Geometry, Unread, Verifier, check_version

INSET_VERSION = 4
"""Bumped whenever a change would make the inset findings on the same pixels differ (the pair
store keeps them under kind "inset" with this version; 4: `cut_inset`'s untrimmed frame)."""
INSET_WHOLE_VERSION = 6
"""As `INSET_VERSION`, for the inset's whole-frame comparison (kind "inset_whole"): 2 the dense
search where whole frames do not pass, 3 bounded to frames wholly inside, 6 the picture searched
for in the frame, not a page (4-5: trials in sessions 64-65, held in the judging stores)."""
INSET_SIDE = 768
"""Decode side of the frame whose inset is cut out: an inset at a third of the frame's side
keeps about the check's working size (on the calibration halves' example, 512 px gave 22
inliers and 768 px 28, where the whole frame at 256 px gave 4). The inset is looked for at
half that side (the search costs with the pixels; a side's place is known to a pixel or
two), and cut from the full one."""
KEPT = 64
"""Frames whose insets a worker keeps: a screenshot is often paired with several pictures."""
SCALES = tuple(float(s) for s in np.geomspace(0.12, 0.98, 40))
"""The picture's widths, as shares of the frame's, at which the frame is searched for it (5.5 %
apart), then around the best of them 0.5 % apart (`FINER`): the gate fails a place a few
pixels too small or too large."""
FINER = tuple(float(s) for s in np.geomspace(0.97, 1.03, 13))
MARGIN = 6
"""Pixels around the place the coarse search found (at a quarter of `INSET_SIDE`) that the finer
one (at half) may move it by."""
TEXTURED = 8.0
"""Least spread of the picture's grey levels (standard deviation) for it to be searched for: a
flat panel correlates with any flat part of a frame and then agrees with it pixel for pixel (on
the calibration halves one such, 5.0, passed the gate in a map's screenshot; one copy of a
picture under 8 passed, at a correlation under `LOCATED`)."""
LOCATED = 0.85
"""Least correlation of the place found. Read with a search of the whole frame at half its side,
on the calibration halves' 99 screenshot copies: the places that passed the gate correlated
from 0.78 (77 of 80 from 0.85); another picture of the same half searched for in each of those
frames passed it twice, a flat game panel in a map's screenshot, at 0.80 and 0.81 (session
64). As searched here (coarse, then finer, `TEXTURED`): 76 pass, from 0.91; another, none."""
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
    small for a found screenshot too), or one aligned too coarsely to trust (under the dense
    gate's aligned share: a picture small in its frame fitted at 256 px, session 65)."""
    lost = plain is None or plain.contained < 0.5 or plain.aligned < DENSE_GATE[1]
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
    """Whether the inset's finding shows most of the picture in the frame, and more of it than
    the plain check's, or more of it agreeing (its contained share times its aligned share): RANSAC
    can settle on a degenerate transform that covers nothing, and the plain check's coarse fit
    of a picture small in its frame covers it all and agrees poorly (session 65: a turned crop
    in a slide, aligned 0.793 against the inset's 0.989)."""
    if found is None or found.inliers < MIN_INLIERS or found.contained < 0.5:
        return False
    if plain is None or found.contained > plain.contained:
        return True
    return found.contained * found.aligned > plain.contained * plain.aligned


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
    """The inset of frame `ref` (decoded at `INSET_SIDE`, looked for at half that side; in the
    untrimmed frame where the trimmed holds none: a trim can take a slide's margin to the
    picture's side) cut out as a grey picture at the check's size, and its share of the frame;
    None where the frame cannot be read (then added to `unread`) or holds no inset."""
    decoded = _decoded(ref, frames, unread)
    if decoded is None:
        return None
    rgb = decoded.rgb
    box = find_picture(_halved(cv2, rgb))
    if box is None and not isinstance(ref, tuple):
        whole = read_still(ref, DecodeSpec(min_side=INSET_SIDE, trim=False))
        if isinstance(whole, Decoded) and whole.rgb.shape != rgb.shape:
            rgb = whole.rgb
            box = find_picture(_halved(cv2, rgb))
    return None if box is None else _cut(cv2, rgb, box)


def located_inset(
    cv2: Any, ref: Ref, picture: Any, frames: FramePictures, unread: set[Ref]
) -> tuple[Any, float] | None:
    """The place in frame `ref` most like the grey `picture` scaled to one of `SCALES` (searched
    at a quarter of `INSET_SIDE`, then at half around it, `FINER`), cut out as `cut_inset` cuts
    an inset, and its correlation; None where the picture is flat (`TEXTURED`) or reads as a
    page, the frame cannot be read or no scale fits."""
    if picture is None or float(picture.std()) < TEXTURED or a_page(page_facts(picture)):
        return None
    decoded = _decoded(ref, frames, unread)
    if decoded is None:
        return None
    rgb = decoded.rgb
    half = cv2.cvtColor(_halved(cv2, rgb), cv2.COLOR_RGB2GRAY)
    quarter = cv2.resize(
        half, (max(1, half.shape[1] // 2), max(1, half.shape[0] // 2)), interpolation=cv2.INTER_AREA
    )
    coarse = _best_place(cv2, quarter, picture, SCALES)
    if coarse is None:
        return None
    _, (x, y, _, _), share = coarse
    height, width = half.shape
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for finer in (share * f for f in FINER):
        w = round(finer * width)
        h = round(w * picture.shape[0] / picture.shape[1])
        left, top = max(0, 2 * x - MARGIN), max(0, 2 * y - MARGIN)
        right, bottom = min(width, 2 * x + w + MARGIN), min(height, 2 * y + h + MARGIN)
        if h < 16 or w < 16 or bottom - top < h or right - left < w:
            continue
        template = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
        matched = cv2.matchTemplate(half[top:bottom, left:right], template, cv2.TM_CCOEFF_NORMED)
        _, score, _, (dx, dy) = cv2.minMaxLoc(matched)
        if best is None or score > best[0]:
            best = (float(score), (left + dx, top + dy, left + dx + w, top + dy + h))
    if best is None or not _pasted(cv2, half, best[1]):
        return None
    return _cut(cv2, rgb, best[1])[0], best[0]


def a_page(page: tuple[float, float]) -> bool:
    """Whether one picture's page facts (`features.page.page_facts`) meet a row of
    `detail_check.PAGES` by themselves: a page of text, which only its words tell from another
    page of its template."""
    return any(page[0] >= p and page[1] >= s for p, s in PAGES)


def _pasted(cv2: Any, frame: Any, box: tuple[int, int, int, int]) -> bool:
    """Whether the place found has a seam along its sides, as a picture pasted into a frame has
    (`part_check.seam_steps` over `PART_GATE`'s bound): a crop or a detail found inside a
    larger picture, a page inside another page, goes on across them."""
    left, top, right, bottom = box
    quad = np.array(
        [[left, top], [right - 1, top], [right - 1, bottom - 1], [left, bottom - 1]], np.float32
    )
    steps = seam_steps(cv2, quad, frame)
    return steps is not None and steps[0] >= PART_GATE[2]


def _best_place(
    cv2: Any, frame: Any, picture: Any, shares: Sequence[float]
) -> tuple[float, tuple[int, int, int, int], float] | None:
    """(correlation, box, share) of the place in grey `frame` most like `picture` scaled to
    each of `shares` of the frame's width; None where none fits."""
    height, width = frame.shape
    best = None
    for share in shares:
        w = round(share * width)
        h = round(w * picture.shape[0] / picture.shape[1])
        if not 16 <= h < height or not 16 <= w < width:
            continue
        template = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
        if template.std() < 1.0:  # a flat picture correlates with nothing
            continue
        matched = cv2.matchTemplate(frame, template, cv2.TM_CCOEFF_NORMED)
        _, score, _, (x, y) = cv2.minMaxLoc(matched)
        if best is None or score > best[0]:
            best = (float(score), (x, y, x + w, y + h), share)
    return best


def _halved(cv2: Any, rgb: Any) -> Any:
    """The frame at half its decoded side, where the inset is looked for."""
    height, width = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)


def _cut(cv2: Any, rgb: Any, box: tuple[int, int, int, int]) -> tuple[Any, float]:
    """The box (found at half the side) cut out of the frame as a grey picture at the check's
    size, and its share of the frame."""
    height, width = rgb.shape[:2]
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
        inside = searched is not None and max(searched.overlap_a, searched.overlap_b) >= INSIDE
        if searched is not None and inside and dense_passes(searched.evidence()):
            return searched  # (overlapping in part: a neighbouring tile shown in a window)
        located = located_inset(self._cv2, ref_b, picture, self.inset_frames, self.unread)
        if located is not None and located[1] >= LOCATED:
            found = self.measure(picture, located[0])
            if found is not None and dense_passes(found.evidence()):
                return found
        return whole


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
