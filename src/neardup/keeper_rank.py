"""Which copy of a picture to keep, by each image's own facts (`neardup.groups` rule 5): its
resolution without borders, its format, its file, and whether it shows another picture of
its group inside a frame (a screenshot of it, found through its inset)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from neardup import fusion
from neardup.checked_scores import picture_first
from neardup.records import Features, Pair

BORDER_HANDICAP = 0.9
"""A copy with added borders (a tenth of its frame or more, or turned on a canvas) must hold
over 1/0.9 as many picture pixels to be kept over one without."""

LOSSY_FORMATS = ("JPEG", "MPO", "HEIF", "HEIC", "AVIF")
"""Formats re-encoded with loss. WebP may be either (the features do not say which): it ranks
between these and the lossless ones, so a PNG original is kept over its WebP copy."""


def framed(images: Sequence[Features], pairs: Iterable[Pair], cut: float) -> set[int]:
    """Images that show the other image of a pair at `cut` inside a frame (the frame the
    check takes second: `neardup.checked_scores.picture_first`). A phone screenshot of a
    photograph may have more pixels than it; it is still the copy, and never kept over an
    image of its group that is not framed."""
    out: set[int] = set()
    for pair in pairs:
        if pair.confidence < cut:
            continue
        a, b = images[pair.a], images[pair.b]
        if picture_first(pair.scores, a, b):
            out.add(pair.a)
        elif picture_first(pair.scores, b, a):
            out.add(pair.b)
    return out


def same_frame(
    images: Sequence[Features], pairs: Iterable[Pair], cut: float
) -> set[tuple[int, int]]:
    """Pairs at `cut` (positions, smaller first) whose whole frames agree by their PDQ hashes
    and thumbnails as closely as the fitted rule that settles a pair without the check
    (`neardup.fusion.Settled`): one picture at two sizes, not a picture and a larger canvas
    around it (a banner or a turn on a canvas changes the whole frame's hash). A tester's
    three 160-px thumbnails of a 320-px PNG were more like one another (0.99) than like it
    (0.91-0.93, noise the downscale smoothed away), so a thumbnail was kept."""
    settled = fusion.fitted().settled
    if settled is None:
        return set()
    kept = [pair for pair in pairs if not pair.confidence < cut]  # as `framed` reads the cut
    holds = settled.holds(  # all at once: one call a pair was most of a hash-only pass's groups
        [pair.scores.get("pdq", math.nan) for pair in kept],
        [pair.scores.get("thumb", math.nan) for pair in kept],
        [min(images[pair.a].pdq_quality, images[pair.b].pdq_quality) for pair in kept],
    )
    return {
        (min(pair.a, pair.b), max(pair.a, pair.b))
        for pair, held in zip(kept, holds, strict=True)
        if held
    }


def lossy(image: Features) -> int:
    """2 for a lossy format (a re-encode of a lossless original, as a rule, not the other way
    round), 1 for WebP (either), 0 for a lossless one."""
    name = image.format.split(" ")[0]
    return 2 if name in LOSSY_FORMATS else 1 if name == "WEBP" else 0


def keeper_rank(image: Features) -> tuple[int, bool, int, bool, str, int]:
    """Sort key: highest resolution (borders excluded, within 2 %; bordered copies handicapped
    by `BORDER_HANDICAP`), then no added borders, then largest file, then a path outside
    hidden folders (`.ipynb_checkpoints`, `.thumbnails`), then path, then the earliest frame.
    `neardup.groups.choose_keeper` puts centrality before file size, so a run of
    near-identical video frames keeps its most central frame, the earliest on a tie."""
    bordered = image.content_pixels < 0.9 * image.pixels or image.turned_back < 1.0
    pixels = image.content_pixels * (BORDER_HANDICAP if bordered else 1.0)
    steps = int(math.log(max(pixels, 1.0)) / math.log(1.02))
    return (-steps, bordered, -image.size, hidden(image.path), image.path, image.frame or 0)


def hidden(path: str) -> bool:
    """Whether a folder or the file on `path` is hidden (its name begins with a dot)."""
    parts = path.replace("\\", "/").split("/")
    return any(p.startswith(".") and p not in (".", "..") for p in parts)
