"""Frames decoded again by index (for the check, the differences, the cluster sheets):
seeking to the keyframe before each gives the pixels a pass from the start gives, decodes a
small part of a long video, and falls back to the pass where seeking cannot be trusted."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from media import scene_pictures, truncate, write_video

from neardup.sources import video_frames
from neardup.sources.video import frame_rgb
from neardup.sources.video_frames import frames_at

FRAMES = 240


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four scenes of 60 noisy frames, a keyframe at least every 24: H.264 with B-frames in
    mp4 and in Matroska."""
    folder = tmp_path_factory.mktemp("long")
    scenes = scene_pictures(["astronaut", "coffee", "chelsea", "rocket"], size=(96, 64))
    return [
        write_video(folder / "long.mp4", scenes, frames_per_scene=60, keyint=24, seed=3),
        write_video(
            folder / "long.mkv", scenes, frames_per_scene=60, container="matroska", keyint=24
        ),
    ]


def _every_frame(path: Path, width: int | None) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame_rgb(f, width) for f in container.decode(video=0)]


class _Counting:
    """An opened container that counts the frames its decoders give."""

    decoded = 0

    def __init__(self, container: Any) -> None:
        self._container = container

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def decode(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for frame in self._container.decode(*args, **kwargs):
            _Counting.decoded += 1
            yield frame

    def demux(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for packet in self._container.demux(*args, **kwargs):
            yield _CountingPacket(packet)


class _CountingPacket:
    """A demuxed packet whose decoded frames `_Counting` counts."""

    def __init__(self, packet: Any) -> None:
        self._packet = packet

    def __getattr__(self, name: str) -> Any:
        return getattr(self._packet, name)

    def decode(self) -> list[Any]:
        frames = list(self._packet.decode())
        _Counting.decoded += len(frames)
        return frames


@pytest.mark.parametrize("width", [None, 48])
def test_seeking_gives_the_frames_of_one_pass(
    clips: list[Path], width: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes: list[set[int]] = []
    one_pass = video_frames._one_pass
    monkeypatch.setattr(
        video_frames,
        "_one_pass",
        lambda c, w, x, out: passes.append(w) or one_pass(c, w, x, out),
    )
    rng = random.Random(0)
    for path in clips:
        every = _every_frame(path, width)
        assert len(every) == FRAMES
        for wanted in (
            {FRAMES - 1},
            {0, 121, FRAMES - 1},
            {130, 131, 132, 200},
            set(rng.sample(range(FRAMES), 12)),
        ):
            got = frames_at(str(path), wanted, width)
            assert got.keys() == wanted
            for index in wanted:
                assert np.array_equal(got[index], every[index]), (path.name, index)
    assert passes == []  # every frame came by seeking


def test_seeking_decodes_a_small_part_of_a_long_video(
    clips: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import av

    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: _Counting(real_open(*a, **k)))
    _Counting.decoded = 0
    frames_at(str(clips[0]), {FRAMES - 1}, None)
    assert 1 <= _Counting.decoded <= 24  # from the last keyframe, not from the start
    _Counting.decoded = 0
    frames_at(str(clips[0]), {125, 190, FRAMES - 2}, None)
    assert _Counting.decoded <= 3 * 24
    _Counting.decoded = 0
    frames_at(str(clips[0]), {5, 30}, None)  # near the start: one pass, 31 frames
    assert _Counting.decoded == 31


def test_seek_cost_merges_runs() -> None:
    index = video_frames._PacketIndex(list(range(0, 1000, 10)), [0, 250, 500, 750])
    assert index.keyframe_before(740) == 500 and index.keyframe_before(750) == 750
    assert video_frames._seek_cost(index, [99]) == 25  # frames 75..99
    assert video_frames._seek_cost(index, [55, 70]) == 21  # 50..70: one run goes on
    assert video_frames._seek_cost(index, [10, 60]) == 22  # 0..10, then a seek: 50..60


def test_truncated_video_gives_the_frames_before_the_cut(clips: list[Path], tmp_path: Path) -> None:
    cut = truncate(clips[1], tmp_path / "cut.mkv", 0.6)
    every = _every_frame(cut, None)
    assert 0 < len(every) < FRAMES
    last = len(every) - 1
    got = frames_at(str(cut), {3, last - 1, FRAMES - 1}, None)
    assert got.keys() == {3, last - 1}
    assert np.array_equal(got[last - 1], every[last - 1])


def test_a_failed_seek_keeps_what_it_found_and_the_pass_finds_the_rest(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "again.mp4"
    clip.write_bytes(clips[0].read_bytes())  # a file of its own: its seeking is forgotten
    every = _every_frame(clip, None)
    seeking = video_frames._by_seeking
    calls: list[set[int]] = []

    def one_then_fail(container: Any, index: Any, wanted: set[int], width: Any, out: Any) -> None:
        calls.append(wanted)
        seeking(container, index, {min(wanted)}, width, out)
        raise ValueError("a seek that failed")

    monkeypatch.setattr(video_frames, "_by_seeking", one_then_fail)
    passes: list[set[int]] = []
    one_pass = video_frames._one_pass
    monkeypatch.setattr(
        video_frames,
        "_one_pass",
        lambda c, w, x, out: passes.append(set(w)) or one_pass(c, w, x, out),
    )
    wanted = {130, 190, FRAMES - 1}
    got = frames_at(str(clip), wanted, None)
    assert got.keys() == wanted and len(calls) == 1
    assert passes == [{190, FRAMES - 1}]  # frame 130, found by seeking, is not decoded again
    assert all(np.array_equal(got[i], every[i]) for i in wanted)
    assert frames_at(str(clip), {200}, None).keys() == {200}
    assert len(calls) == 1 and passes[-1] == {200}  # read in one pass from then on
