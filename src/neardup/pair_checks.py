"""A chunk of pairs through a per-worker checker that reads pictures (the dense alignment, the
comparison of words): each video's frames decoded once a chunk, a picture OpenCV cannot take
leaving its pair as it was, and an unreadable picture reported as such (never stored)."""

from __future__ import annotations

from typing import Protocol

from neardup.item_pixels import FramePictures, Ref
from neardup.verify import Unread


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
