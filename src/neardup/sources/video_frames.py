"""Chosen frames of a video, decoded again after the scan (for the check, the differences and
the cluster sheets), without decoding the whole video each time.

Frames are named by their index in the order the decoder gives them (presentation order), as
`FrameReader` numbers them. A short
video, or frames near its start, are decoded in one pass from the start. Otherwise the
video's packets are read once (without decoding) to list each frame's presentation time and
the keyframes; the decoder then seeks to the keyframe at or before each wanted frame and
decodes forward from there, continuing instead when the next wanted frame's keyframe is one
it has already passed. A video whose packets may not map one to one onto frames (a packet
without a time, packets marked to be discarded, a count that disagrees with the count the
container states) is read in one pass as before; a frame that seeking did not reach is looked
for that way too, and that file is not sought in again (AVI indexes keyframes by decoding
time, and seeking there can land past a frame). The mapping assumes the decoder gives one
frame per packet; a decoder that silently drops a frame mid-stream would shift it.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.sources.video import Decoding, frame_rgb

SEEK_PAYS = 0.5
"""Seek when the frames seeking decodes are at most this share of the one pass's frames (the
packet listing costs little next to decoding)."""
SEEK_FROM = 120
"""Below this last wanted index, one pass from the start: too short for seeking to pay."""
_INDEXES: OrderedDict[tuple[str, int, int], _PacketIndex | None] = OrderedDict()
_INDEXES_KEPT = 16
_INDEXES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class _PacketIndex:
    """A video stream's frame presentation times in order, and those of its keyframes."""

    times: list[int]
    keyframes: list[int]

    def keyframe_before(self, time: int) -> int:
        """The presentation time of the last keyframe at or before `time`."""
        return self.keyframes[max(0, bisect_right(self.keyframes, time) - 1)]


def frames_at(
    path: str, wanted: set[int], width: int | None = 160
) -> dict[int, npt.NDArray[np.uint8]]:
    """The frames of `path` at the given indices (decoding order), scaled to `width` pixels
    wide (None: full size); frames that cannot be read are left out."""
    if not wanted:
        return {}
    out: dict[int, npt.NDArray[np.uint8]] = {}
    try:
        import av
    except ModuleNotFoundError:
        return out
    try:
        index = _packet_index(path) if max(wanted) >= SEEK_FROM else None
        if index is not None and _seek_cost(index, wanted) <= SEEK_PAYS * (max(wanted) + 1):
            with av.open(path) as container:
                _by_seeking(container, index, wanted, width, out)
            if wanted - out.keys():  # seeking missed (an index by decoding time): not again
                _forget_seeking(path)
    except Exception:  # seeking failed (PyAV raises many kinds): the one pass decides
        _forget_seeking(path)
    missing = wanted - out.keys()
    if missing:
        try:
            with av.open(path) as container:
                _one_pass(container, missing, width, out)
        except Exception:  # what could not be read is left out; the caller says so
            pass
    return out


def _one_pass(
    container: Any, wanted: set[int], width: int | None, out: dict[int, npt.NDArray[np.uint8]]
) -> None:
    """Put the wanted frames into `out`, decoding from the start (kept if decoding fails)."""
    last = max(wanted)
    for index, frame in Decoding().frames(container, container.streams.video[0]):
        if index in wanted:
            out[index] = frame_rgb(frame, width)
        if index >= last:
            break


def _by_seeking(
    container: Any,
    index: _PacketIndex,
    wanted: set[int],
    width: int | None,
    out: dict[int, npt.NDArray[np.uint8]],
) -> None:
    """Put the wanted frames seeking reaches into `out` (kept if a later seek fails)."""
    stream = container.streams.video[0]
    by_time = {index.times[i]: i for i in wanted if i < len(index.times)}
    frames: Iterator[Any] | None = None
    position: int | None = None  # the presentation time of the last frame decoded
    for target in sorted(by_time):
        if by_time[target] in out or (position is not None and position >= target):
            continue
        keyframe = index.keyframe_before(target)
        if frames is None or position is None or keyframe > position:
            container.seek(keyframe, stream=stream, backward=True)
            frames = iter(container.decode(stream))
            position = None
        for frame in frames:
            if frame.pts is None:
                break
            position = int(frame.pts)
            if position in by_time and by_time[position] not in out:
                out[by_time[position]] = frame_rgb(frame, width)
            if position >= target:
                break
        else:
            frames = None


def _seek_cost(index: _PacketIndex, wanted: Iterable[int]) -> int:
    """Frames decoded when seeking to each wanted frame's keyframe (merging overlapping runs)."""
    position = -1  # index of the last frame decoded
    cost = 0
    for i in sorted(w for w in wanted if w < len(index.times)):
        if i <= position:
            continue
        start = bisect_right(index.times, index.keyframe_before(index.times[i])) - 1
        start = max(start, position + 1)
        cost += i - start + 1
        position = i
    return cost


def _packet_index(path: str) -> _PacketIndex | None:
    """The video's packet index, read once per file version (kept for the last few files)."""
    try:
        status = os.stat(path)
    except OSError:  # not a local file: read in one pass
        return None
    key = (path, status.st_size, status.st_mtime_ns)
    with _INDEXES_LOCK:
        if key in _INDEXES:
            _INDEXES.move_to_end(key)
            return _INDEXES[key]
    try:
        index = _read_packet_index(path)
    except Exception:  # PyAV raises many kinds: the file is read in one pass instead
        index = None
    with _INDEXES_LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > _INDEXES_KEPT:
            _INDEXES.popitem(last=False)
    return index


def _forget_seeking(path: str) -> None:
    """Read this version of the file in one pass from now on."""
    try:
        status = os.stat(path)
    except OSError:
        return
    with _INDEXES_LOCK:
        _INDEXES[(path, status.st_size, status.st_mtime_ns)] = None


def _read_packet_index(path: str) -> _PacketIndex | None:
    """Each packet's presentation time, or None when packets may not be frames one to one."""
    import av

    times: list[int] = []
    keyframes: list[int] = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size == 0:  # the demuxer's closing empty packet
                continue
            if packet.pts is None or packet.is_discard or packet.is_corrupt:
                return None
            times.append(int(packet.pts))
            if packet.is_keyframe:
                keyframes.append(int(packet.pts))
        declared = int(stream.frames or 0)
    times.sort()
    keyframes.sort()
    if (
        not times
        or len(set(times)) != len(times)
        or (declared and declared != len(times))
        or not keyframes
        or keyframes[0] != times[0]
    ):
        return None
    return _PacketIndex(times, keyframes)
