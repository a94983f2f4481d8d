"""The pixels of an item for the per-pair stages (the geometric check, the differences).

An item is a still image, named by its path, or a frame of a video, named by (the video's
path, the frame's index in decoding order), or a still whose see-through parts are shown over
another colour than white (`ShownOver`: the colour a pair's copy was flattened onto,
`neardup.see_through`). A still is read from its file when a stage needs it (`read_still`);
frames are decoded from their video a chunk of work at a time (`FramePictures.fetch`): each
video once per chunk (`sources/video_frames.py` seeks to the keyframe before each wanted
frame), and kept at the stage's working size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from neardup.decode import Decoded, DecodeSpec, decode, decode_array
from neardup.pixel_modes import Colour
from neardup.records import Features, Skipped
from neardup.sources.remote import read_bytes
from neardup.sources.video_frames import frames_at


@dataclass(frozen=True, slots=True)
class ShownOver:
    """A still image with see-through parts, shown over `colour` instead of white."""

    path: str
    colour: Colour


Ref = str | tuple[str, int] | ShownOver
"""A still image's path, (a video's path, a frame index), or a still shown over a colour."""
Shown = dict[tuple[int, int], tuple[int, Colour]]
"""Pairs (a, b), a < b, whose see-through picture is shown over a colour: which of the two it
is, and the colour (`neardup.see_through`)."""


def ref_of(path: str, frame: int | None) -> Ref:
    """The item reference of an image record's path and frame."""
    return path if frame is None else (path, frame)


def pair_refs(
    images: Sequence[Features], a: int, b: int, shown: Shown | None = None
) -> tuple[Ref, Ref]:
    """Pair (a, b)'s items as the per-pair stages read them: a see-through picture `shown`
    over its copy's colour as such."""
    over = None if shown is None else shown.get((min(a, b), max(a, b)))

    def ref(i: int) -> Ref:
        if over is not None and over[0] == i:
            return ShownOver(images[i].path, over[1])
        return ref_of(images[i].path, images[i].frame)

    return ref(a), ref(b)


def shown_key(refs: tuple[Ref, Ref], key: tuple[str, str] | None) -> tuple[str, str] | None:
    """A pair's content key in the pair store, naming the colour a side is shown over (a
    finding over a colour is not the finding over white)."""
    if key is None:
        return None
    a, b = (
        f"{h}@{r.colour}" if isinstance(r, ShownOver) else h for r, h in zip(refs, key, strict=True)
    )
    return a, b


def ref_order(ref: Ref) -> tuple[str, int, tuple[int, ...]]:
    """A sort key for a mix of stills and frames."""
    if isinstance(ref, str):
        return ref, -1, ()
    if isinstance(ref, ShownOver):
        return ref.path, -1, ref.colour
    return ref[0], ref[1], ()


def read_still(ref: str | ShownOver, spec: DecodeSpec) -> Decoded | Skipped:
    """A still's working picture at `spec`, shown over the ref's colour (raises OSError where
    the file cannot be read)."""
    if isinstance(ref, ShownOver):
        path, spec = ref.path, replace(spec, background=ref.colour)
    else:
        path = ref
    return decode(read_bytes(path), path, spec, hash_pixels=False)


class FramePictures:
    """Video frames decoded at one working size (`spec`), the last `size` kept."""

    def __init__(self, spec: DecodeSpec, size: int = 256) -> None:
        self._spec = spec
        self._size = size
        self._cache: OrderedDict[tuple[str, int], Decoded | Skipped] = OrderedDict()

    def fetch(self, refs: Iterable[Ref]) -> None:
        """Decode the frames among `refs` not yet kept: each video in one pass."""
        wanted: dict[str, set[int]] = {}
        for ref in refs:
            if isinstance(ref, tuple) and ref not in self._cache:
                wanted.setdefault(ref[0], set()).add(ref[1])
        for path, frames in wanted.items():
            found = frames_at(path, frames, width=None)
            for frame in sorted(frames):
                rgb = found.get(frame)
                self._cache[(path, frame)] = (
                    Skipped(path, f"frame {frame} of the video could not be decoded again")
                    if rgb is None
                    else decode_array(rgb, "video frame", self._spec)
                )
        while len(self._cache) > self._size:  # a chunk wants at most 2 x 64 frames
            self._cache.popitem(last=False)

    def get(self, ref: tuple[str, int]) -> Decoded | Skipped:
        """A frame's working picture (decoded now if it was not fetched)."""
        if ref not in self._cache:
            self.fetch([ref])
        self._cache.move_to_end(ref)
        return self._cache[ref]
