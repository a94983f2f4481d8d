"""The dense alignment as an engine stage, for the pairs the keypoint check left undecided.

    pairs ORB could not read (too few corners) --DENSE--> Geometry(dense=True) or None

`neardup.checking` runs it after the keypoint check, on its undecided pairs whose confidence
it could still lift over the cut (`dense_wanted`): it only ever raises a pair, to
`checked_scores.DENSE_CONFIDENCE`, and the pairs far below the cut are neighbouring tiles
and other look-alikes it would not pass (RESULTS.md, session 24). The measures are the
check's (`neardup.verify`): the shared frame, aligned pixels and their agreement, and the
aligned pictures' edges (`neardup.dense_alignment`).

    a pair whose keypoints found no frame, at the cut or its thumbnails agreeing
        --WHOLE--> Geometry(dense=True) or None

`WHOLE` measures the same on the two whole frames as they are (`dense_alignment.whole`: no
search), for a copy that keeps its frame under an overlay whose letters crowded out the
picture's corners, or whose stripes settled RANSAC on a collapsed transform; `neardup.checking`
keeps its finding only where it passes the gate (below the cut too since session 46, where
the thumbnails agree: of 4,270 such calibration pairs, 62 passed, all copies, all of them
among the 284 whose thumbnails agree).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from neardup.aligned_pixels import frame_shares, pixels_agree
from neardup.checked_scores import DENSE_CONFIDENCE
from neardup.decode import DecodeSpec
from neardup.dense_alignment import Found, align, edges_agree, whole
from neardup.engines.base import Stage
from neardup.item_pixels import FramePictures, Ref
from neardup.pair_checks import checked_chunk, in_process
from neardup.verify import VERIFY_SIDE, Geometry, Unread, check_version, read_grey

DENSE_VERSION = 1
"""Bumped whenever a change would make the dense findings on the same pixels differ (the pair
store keeps them under kind "dense" with this version)."""
DENSE_FLOOR = 0.1
"""Undecided pairs below this confidence are not aligned densely: on the calibration halves
they were nearly all neighbouring tiles and other look-alikes (of photos' 600 pairs aligned
densely, 255 sat below 0.1, 4 of them copies passing the gate, already grouped through other
pairs), and every half's groups were the same with this floor as with none (RESULTS.md,
session 24)."""


def dense_version() -> str:
    """This code's version of the dense alignment, with the check's (whose measures it
    takes: `neardup.verify`) and OpenCV's."""
    return f"{DENSE_VERSION}-{check_version()}"


WHOLE_VERSION = 1
"""As `DENSE_VERSION`, for the whole-frame comparison (`WHOLE`, pair store kind "whole")."""


WHOLE_THUMB = 0.9
"""The thumbnail score (`thumb`) from which a pair below the cut whose keypoints found no frame
is compared whole: the whole frames are compared as they are, as the thumbnails are. On the
calibration halves (RESULTS.md, session 46, R106b) every pair passing the gate so had 0.916 or
more, and the bound leaves 284 of 4,270 such pairs to compare (the comparisons cost +6 % of a
photos scan's CPU without it)."""


def whole_version() -> str:
    """This code's version of the whole-frame comparison, with the check's and OpenCV's."""
    return f"{WHOLE_VERSION}-{check_version()}"


def dense_wanted(confidence: float, cuts: tuple[float, ...]) -> bool:
    """Whether aligning a pair densely could change its verdict at one of `cuts`: it would
    lift it to `DENSE_CONFIDENCE`, so only a pair below a cut that this reaches."""
    return confidence >= DENSE_FLOOR and any(confidence < c <= DENSE_CONFIDENCE for c in cuts)


class DenseChecker:
    """Dense alignments with a small cache of grey pictures (one per worker)."""

    def __init__(self, cache_size: int = 256) -> None:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the engine's processes
        self._cv2 = cv2
        self.cv2_error: type[Exception] = cv2.error
        self._greys: OrderedDict[Ref, Any] = OrderedDict()
        self._cache_size = cache_size
        self.frames = FramePictures(DecodeSpec(min_side=VERIFY_SIDE))
        self.unread: set[Ref] = set()

    def _grey(self, ref: Ref) -> Any:
        if ref not in self._greys:
            self._greys[ref] = read_grey(self._cv2, ref, self.frames, self.unread)
            if len(self._greys) > self._cache_size:
                self._greys.popitem(last=False)
        self._greys.move_to_end(ref)
        return self._greys[ref]

    def check(self, ref_a: Ref, ref_b: Ref) -> Geometry | None:
        """The dense finding for a pair; None where a picture is unreadable, too small or
        flat."""
        return self.measure(self._grey(ref_a), self._grey(ref_b))

    def measure(self, grey_a: Any, grey_b: Any) -> Geometry | None:
        """The dense finding for two grey pictures (None: unread, too small or flat)."""
        if grey_a is None or grey_b is None:
            return None
        found = self._found(grey_a, grey_b)
        if found is None:
            return None
        view = found.view
        size_a, size_b = (grey_a.shape[1], grey_a.shape[0]), (view.shape[1], view.shape[0])
        overlap_a, overlap_b = frame_shares(self._cv2, found.matrix, size_a, size_b)
        aligned, agree = pixels_agree(self._cv2, found.matrix, grey_a, view)
        edges = edges_agree(self._cv2, found, grey_a)
        return Geometry(0, 0, overlap_a, overlap_b, aligned, agree, True, edges)

    def _found(self, grey_a: Any, grey_b: Any) -> Found | None:
        """The transform to measure: the dense search's (`dense_alignment.align`)."""
        return align(self._cv2, grey_a, grey_b)


class WholeChecker(DenseChecker):
    """The whole frames compared as they are (`dense_alignment.whole`), measured as a dense
    alignment is: for a pair whose keypoints found no frame though its pictures keep theirs."""

    def _found(self, grey_a: Any, grey_b: Any) -> Found | None:
        """The transform to measure: the whole frames as they are (`dense_alignment.whole`)."""
        return whole(self._cv2, grey_a, grey_b)


WHOLE: Stage[tuple[Ref, Ref], WholeChecker, Geometry | Unread | None] = Stage(
    "whole", WholeChecker, checked_chunk, chunk=32
)
"""The whole-frame comparison as an engine stage (`neardup.checking`: a pair not two pages
whose keypoints found no frame)."""


def whole_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Geometry | None]:
    """The whole-frame comparison of each pair of items, in this process."""
    return in_process(WholeChecker(), pairs)


DENSE: Stage[tuple[Ref, Ref], DenseChecker, Geometry | Unread | None] = Stage(
    "dense", DenseChecker, checked_chunk, chunk=32
)
"""The dense alignment as an engine stage: pairs of items in, findings out."""


def dense_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Geometry | None]:
    """The dense alignment of each pair of items, in this process."""
    return in_process(DenseChecker(), pairs)
