"""The pixels of an item for the per-pair stages (the geometric check, the differences).

An item is a still image, named by its path, or a frame of a video, named by (the video's
path, the frame's index in decoding order). A still is read from its file when a stage needs
it; frames are decoded from their video a chunk of work at a time (`FramePictures.fetch`):
each video once per chunk (`sources/video_frames.py` seeks to the keyframe before each wanted
frame), and kept at the stage's working size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from neardup.decode import Decoded, DecodeSpec, decode_array
from neardup.records import Skipped
from neardup.sources.video_frames import frames_at

Ref = str | tuple[str, int]
"""A still image's path, or (a video's path, a frame index)."""


def ref_of(path: str, frame: int | None) -> Ref:
    """The item reference of an image record's path and frame."""
    return path if frame is None else (path, frame)


def ref_order(ref: Ref) -> tuple[str, int]:
    """A sort key for a mix of stills and frames."""
    return (ref, -1) if isinstance(ref, str) else ref


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
            if not isinstance(ref, str) and ref not in self._cache:
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
