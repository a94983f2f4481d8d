"""A chunk of pairs through a per-worker checker that reads pictures (the dense alignment, the
comparison of words): each video's frames decoded once a chunk, a picture OpenCV cannot take
leaving its pair as it was, and an unreadable picture reported as such (never stored). And
the checker of the stages that measure what the check's transform aligns (`FramedChecker`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from neardup.item_pixels import FramePictures, Ref
from neardup.verify import Unread, Verifier


class PairChecker[F](Protocol):
    """What `checked_chunk` needs of a checker."""

    frames: FramePictures
    unread: set[Ref]
    cv2_error: type[Exception]

    def check(self, a: Ref, b: Ref) -> F | None: ...


def checked_chunk[F](
    checker: PairChecker[F], pairs: list[tuple[Ref, Ref]]
) -> list[F | Unread | None]:
    """Each pair's finding, None where the checker could not tell, `Unread` where a picture
    could not be read."""
    checker.frames.fetch(ref for pair in pairs for ref in pair)  # each video once a chunk
    out: list[F | Unread | None] = []
    for a, b in pairs:
        try:
            found = checker.check(a, b)
        except checker.cv2_error:  # a picture OpenCV cannot take leaves the pair as it was
            found = None
        out.append(Unread() if found is None and {a, b} & checker.unread else found)
    return out


def in_process[F](checker: PairChecker[F], pairs: list[tuple[Ref, Ref]]) -> list[F | None]:
    """Each pair's finding, here and now (`neardup compare`): None where the checker could not
    tell or a picture could not be read."""
    return [None if isinstance(f, Unread) else f for f in checked_chunk(checker, pairs)]


class FramedChecker[F]:
    """A measure of the two grey pictures the check's transform maps one onto the other
    (`verify.Verifier.framed`: the overlay and part stages), with a keypoint cache as the check
    keeps (a picture in many pairs is read once)."""

    def __init__(self, measure: Callable[[Any, Any, Any, Any], F | None]) -> None:
        import cv2

        self._cv2 = cv2
        self._measure = measure
        self._verifier = Verifier(cache_size=256)
        self.cv2_error = self._verifier.cv2_error
        self.frames: FramePictures = self._verifier.frames
        self.unread: set[Ref] = self._verifier.unread

    def check(self, ref_a: Ref, ref_b: Ref) -> F | None:
        """The measure of a pair as the check takes it: `measure(cv2, matrix, from, onto)`;
        None where the check finds no transform (or the measure finds nothing)."""
        framed = self._verifier.framed(ref_a, ref_b)
        if framed is None or framed[1] is None:
            return None
        _, matrix, source, target = framed
        return self._measure(self._cv2, matrix, source, target)
