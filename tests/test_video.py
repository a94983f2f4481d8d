"""Videos as a source: found by content, frames sampled by time or at cuts, broken videos
give their good frames and a reason, and frames flow through scan, JSON, CSV and the table."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from media import scene_pictures, truncate, write_video
from PIL import Image

import neardup
from neardup.cli import main
from neardup.output import csv as csv_out
from neardup.output import json as json_out
from neardup.output import table
from neardup.records import FileRef
from neardup.sources import collect
from neardup.sources.video import FrameReader, Sampling, looks_like_video


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two-scene clips (astronaut then coffee, 2 s each at 10 fps) as mp4 and mkv, a mkv cut
    at 70 % of its bytes, an mp4 cut likewise (its index is at the end), and a fake .mp4."""
    folder = tmp_path_factory.mktemp("videos")
    scenes = scene_pictures(["astronaut", "coffee"])
    mkv = write_video(folder / "clip.mkv", scenes, container="matroska")
    mp4 = write_video(folder / "clip.mp4", scenes, seed=1)
    truncate(mkv, folder / "cut.mkv", 0.7)
    truncate(mp4, folder / "cut.mp4", 0.7)
    (folder / "notes.mp4").write_text("not a video at all, just words\n" * 4)
    return folder


def _ref(path: Path) -> FileRef:
    st = os.stat(path)
    return FileRef(str(path), st.st_size, st.st_mtime_ns, video=True)


def test_found_by_content_not_name(videos: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "footage.bin"
    renamed.write_bytes((videos / "clip.mp4").read_bytes())
    (tmp_path / "readme.txt").write_text("hello")
    found = collect([tmp_path])
    assert [(Path(f.path).name, f.video) for f in found.files] == [("footage.bin", True)]
    assert found.ignored == 1
    assert looks_like_video((videos / "clip.mkv").read_bytes()[:32])
    heic_head = b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00"
    assert not looks_like_video(heic_head)  # a HEIF photo is an image, not a video


def test_fake_video_is_skipped_with_reason(videos: Path) -> None:
    found = collect([videos / "notes.mp4"])
    assert not found.files
    [skip] = found.skipped
    assert "not a video we read" in skip.reason


def test_sampling_by_time_and_at_cuts(videos: Path) -> None:
    reader = FrameReader(_ref(videos / "clip.mp4"), Sampling(fps=1.0))
    kept = [(f.ref.frame, f.ref.time) for f in reader]
    assert kept == [(0, 0.0), (10, 1.0), (20, 2.0), (30, 3.0)]
    assert reader.problem is None and reader.decoded == 40
    two = [f.ref.frame for f in FrameReader(_ref(videos / "clip.mp4"), Sampling(fps=2.0))]
    assert two == [0, 5, 10, 15, 20, 25, 30, 35]
    cuts = [f.ref.frame for f in FrameReader(_ref(videos / "clip.mkv"), Sampling(scenes=True))]
    assert cuts == [0, 20]
    with pytest.raises(ValueError, match="fps"):
        Sampling(fps=0)
    with pytest.raises(ValueError, match="fps"):
        Sampling(fps=float("inf"))  # every video would be skipped as broken


def test_truncated_video_keeps_good_frames(videos: Path) -> None:
    reader = FrameReader(_ref(videos / "cut.mkv"), Sampling(fps=1.0))
    kept = [f.ref.frame for f in reader]
    assert 1 <= len(kept) < 4
    assert reader.problem is not None and "truncated" in reader.problem
    broken = FrameReader(_ref(videos / "cut.mp4"))
    assert list(broken) == []
    assert broken.problem is not None and "cannot open video" in broken.problem


def test_scan_collapses_runs_of_near_identical_frames(videos: Path) -> None:
    result = neardup.scan([videos / "clip.mp4", videos / "cut.mkv"], cache=False, workers=1)
    frames = [(Path(f.path).name, f.frame) for f in result.images]
    assert ("clip.mp4", 0) in frames and ("clip.mp4", 30) in frames
    runs = sorted(
        sorted((Path(result.images[i].path).name, result.images[i].frame) for i in _members(g))
        for g in result.groups
    )
    # Each scene is one group holding its frames from both videos; the two scenes stay apart.
    astronaut = [g for g in runs if ("clip.mp4", 0) in g]
    coffee = [g for g in runs if ("clip.mp4", 20) in g]
    assert astronaut and coffee and astronaut != coffee
    assert {("clip.mp4", 0), ("clip.mp4", 10)} <= set(astronaut[0])
    assert {("clip.mp4", 20), ("clip.mp4", 30)} <= set(coffee[0])
    assert not {("clip.mp4", 20), ("clip.mp4", 30)} & set(astronaut[0])
    keeper = result.images[result.groups[0].keeper]
    assert keeper.frame is not None
    [skip] = result.skipped
    assert skip.path.endswith("cut.mkv") and "truncated" in skip.reason

    doc = json.loads(json_out.dumps(result))
    member = doc["groups"][0]["members"][0]
    assert isinstance(member["frame"], int) and isinstance(member["time"], float)
    assert isinstance(doc["groups"][0]["keeper"]["frame"], int)
    pair = doc["pairs"][0]
    assert {"a_frame", "a_time", "b_frame", "b_time"} <= set(pair)
    rows = list(csv.DictReader(io.StringIO(csv_out.dumps(result))))
    assert rows and rows[0]["a_frame"].isdigit() and float(rows[0]["b_time"]) >= 0
    assert "[frame " in table.render(result)
    # What differs is measured on the frames themselves, decoded from their video (it once
    # decoded the video as an image, blamed its name, and gave every pair one result).
    framed = [p for p in result.pairs if result.images[p.a].frame is not None]
    measured = [p.differences for p in framed if p.differences is not None]
    assert measured and all(d.note == "" for d in measured), measured
    assert all(d.identical == "pixels" or d.aligned_by is not None for d in measured)
    assert member["differences"]["note"] == ""


def _members(group: neardup.records.Group) -> list[int]:
    return [group.keeper, *(i for i, _ in group.members)]


def test_cli_scan_video_json(videos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(videos / "clip.mkv"), "--no-cache", "--scenes", "--json", "-"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"]["video"] == {"fps": 1.0, "scenes": True}
    assert doc["stats"]["images"] == 2 and doc["groups"] == []  # one frame per scene
    assert main(["scan", str(videos / "clip.mkv"), "--no-cache", "--fps", "-1"]) == 2


def test_index_stores_frames_as_scan_sees_them(videos: Path, tmp_path: Path) -> None:
    """Frames go into the persistent index (keyed path#frame), give scan's groups after a
    reopen, and removing the video removes every frame."""
    clip = videos / "clip.mp4"
    scanned = neardup.scan([clip], cache=False, workers=1)
    index, report = neardup.ImageIndex.build(tmp_path / "idx", [clip], cache=False, workers=1)
    index.close()
    assert report.skipped == [] and len(report.entries) == len(scanned.images) > 2

    def groups(result: neardup.ScanResult) -> set[frozenset[tuple[str, int | None]]]:
        return {
            frozenset(
                (result.images[i].path, result.images[i].frame)
                for i in [g.keeper, *(m for m, _ in g.members)]
            )
            for g in result.groups
        }

    with neardup.ImageIndex.open(tmp_path / "idx") as reopened:
        listed = reopened.duplicates(workers=1)
        assert groups(listed) == groups(scanned) and scanned.groups
        assert {f.time for f in reopened.images} == {f.time for f in scanned.images}
        removed = reopened.remove([str(clip)])
        assert len(removed) == len(scanned.images) and len(reopened.images) == 0


def test_compare_finds_the_matching_frame(videos: Path, tmp_path: Path) -> None:
    still = tmp_path / "coffee.png"
    Image.fromarray(scene_pictures(["coffee"])[0]).save(still)
    result = neardup.compare(still, videos / "clip.mp4")
    assert result.b == str(videos / "clip.mp4") and result.a_frame == (None, None)
    frame, when = result.b_frame
    assert frame is not None and frame >= 20 and when == frame / 10  # a coffee frame
    assert result.verdicts["default"]
    assert result.differences is not None and result.differences.note == ""
    assert result.differences.aligned_by is not None  # the still against the frame's pixels
    both = neardup.compare(videos / "clip.mp4", videos / "clip.mkv")
    assert both.a_frame[0] is not None and both.b_frame[0] is not None
    assert both.similarity is not None and both.similarity > 0.95
    assert main(["compare", str(still), str(videos / "cut.mp4")]) == 3  # unreadable: says why


def test_frames_are_cached_by_path_and_frame(videos: Path, tmp_path: Path) -> None:
    cache = tmp_path / "features.sqlite"
    paths = [videos / "clip.mp4", videos / "cut.mkv"]
    first = neardup.scan(paths, cache=cache, workers=1)
    again = neardup.scan(paths, cache=cache, workers=1)
    assert first.stats.from_cache == 0 and again.stats.from_cache == len(first.images) == 6
    assert [(f.path, f.frame, f.time) for f in again.images] == [
        (f.path, f.frame, f.time) for f in first.images
    ]
    assert [s.reason for s in again.skipped] == [s.reason for s in first.skipped]
    assert len(again.groups) == len(first.groups)
    other_rate = neardup.scan(paths, cache=cache, workers=1, video=Sampling(fps=2.0))
    assert other_rate.stats.from_cache < len(other_rate.images)  # new frames were read
    moved = tmp_path / "clip.mp4"
    moved.write_bytes((videos / "clip.mp4").read_bytes())
    assert neardup.scan([moved], cache=cache, workers=1).stats.from_cache == 0


def test_max_pixels_holds_for_cached_frames_and_a_refusal_is_not_cached(
    videos: Path, tmp_path: Path
) -> None:
    """A video refused under a low --max-pixels is read when the limit is raised, and frames
    from the cache are refused (once per video) when it is lowered again."""
    cache = tmp_path / "features.sqlite"
    paths = [videos / "clip.mp4"]
    low = 1000
    refused = neardup.scan(paths, cache=cache, workers=1, max_pixels=low)
    assert refused.images == [] and "--max-pixels" in refused.skipped[0].reason
    read = neardup.scan(paths, cache=cache, workers=1)
    assert read.images and read.skipped == []
    again = neardup.scan(paths, cache=cache, workers=1, max_pixels=low)
    assert again.images == [] and again.stats.from_cache == len(read.images)
    assert [s.reason for s in again.skipped] == [s.reason for s in refused.skipped]


def test_check_and_differences_read_frames_from_their_video(videos: Path, tmp_path: Path) -> None:
    """The per-pair stages take (video, frame) items: the frame is decoded from the video."""
    from neardup.differences import measure_pairs
    from neardup.verify import check_pairs

    clip = str(videos / "clip.mp4")
    still = tmp_path / "coffee.png"
    Image.fromarray(scene_pictures(["coffee"])[0]).save(still)
    same_scene, other_scene, with_still = check_pairs(
        [((clip, 0), (clip, 10)), ((clip, 0), (clip, 20)), ((clip, 30), str(still))]
    )
    assert same_scene is not None and same_scene.score > 0.9
    assert other_scene is None or other_scene.score < 0.5
    assert with_still is not None and with_still.score > 0.5
    frames, unrelated, gone = measure_pairs(
        [((clip, 20), (clip, 30)), ((clip, 0), (clip, 20)), ((clip, 0), (clip, 10_000))]
    )
    assert frames.note == "" and (frames.identical == "pixels" or frames.aligned_by)
    assert unrelated.note == "" or "align" in unrelated.note
    assert "cannot decode frame 10000" in gone.note


def test_frames_decoded_again_in_forked_workers(videos: Path, tmp_path: Path) -> None:
    """Frames are decoded in the parent for the features and again in forked workers for the
    per-pair stages: this once deadlocked (swscale's threads do not survive a fork). Run in a
    child process with a time limit, so a deadlock fails instead of hanging the suite."""
    out = tmp_path / "result.json"
    command = [
        sys.executable,
        "-m",
        "neardup",
        "scan",
        str(videos / "clip.mp4"),
        str(videos / "clip.mkv"),
        *("--fps", "10", "--workers", "2", "--no-cache", "-q", "--json", str(out)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(out.read_text())
    members = [m for g in doc["groups"] for m in g["members"]]
    assert len(members) >= 24  # enough pairs for the stages to run in the worker pool
    assert all(m["differences"]["note"] == "" for m in members)


def test_a_damaged_stretch_loses_its_frames_not_the_rest(tmp_path: Path) -> None:
    """A tester: bytes zeroed a tenth into a 5-minute clip kept 26 of its 300 sampled frames;
    decoding stopped at the first packet that failed. The packets after it decode, and the
    frames kept are the ones decoded again later (by one pass or by seeking)."""
    from neardup.sources.video_frames import frames_at

    clip = write_video(
        tmp_path / "clip.mp4",
        scene_pictures(["astronaut", "coffee", "chelsea"]),
        frames_per_scene=50,
        keyint=10,
    )
    # Where damage makes packets fail depends on the encoder's bytes: try a few places.
    for share in (0.4, 0.3, 0.5, 0.6):
        data = bytearray(clip.read_bytes())
        start = int(len(data) * share)
        data[start : start + 4000] = bytes(4000)
        damaged = tmp_path / "damaged.mp4"
        damaged.write_bytes(bytes(data))
        reader = FrameReader(_ref(damaged), Sampling(fps=10.0))
        kept = {f.ref.frame: f.rgb for f in reader}
        if reader.problem is not None:
            break
    assert reader.problem is not None and "damaged" in reader.problem, reader.problem
    assert len(kept) >= 120 and max(kept) == 149, sorted(set(range(150)) - set(kept))
    late = {i for i in kept if i >= 130}
    again = frames_at(str(damaged), late, None) | frames_at(str(damaged), {3, 140}, None)
    assert all(np.array_equal(again[i], kept[i]) for i in late | {3, 140})


QUARTER_TURN = (0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
MIRROR = (-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)


def _turned_in_its_header(clip: Path, out: Path, matrix: tuple[int, ...] = QUARTER_TURN) -> Path:
    """The clip with its track's display matrix set to a quarter turn (a phone's portrait
    clip: stored sideways, shown upright): the tkhd box's 3 x 3 matrix, patched."""
    import struct

    data = bytearray(clip.read_bytes())
    box = data.find(b"tkhd")
    version = data[box + 4]
    at = box + 8 + (20 if version == 0 else 32) + 8 + 8
    data[at : at + 36] = struct.pack(">9i", *matrix)
    out.write_bytes(bytes(data))
    return out


def test_a_clip_stored_sideways_is_read_as_it_is_shown(tmp_path: Path) -> None:
    """A tester: a clip whose display matrix turns it (every portrait phone video) was read
    as stored, sideways: 160 x 120 where it shows 120 x 160, and "identical pixels" with the
    unturned clip. Its frames are now turned as shown, here and when decoded again."""
    from neardup.sources.video_frames import frames_at

    clip = write_video(tmp_path / "clip.mp4", scene_pictures(["astronaut"]), frames_per_scene=10)
    turned = _turned_in_its_header(clip, tmp_path / "portrait.mp4")
    [plain] = [f.rgb for f in FrameReader(_ref(clip), Sampling(fps=1.0))]
    reader = FrameReader(_ref(turned), Sampling(fps=1.0))
    [shown] = [f.rgb for f in reader]
    assert reader.problem is None
    assert shown.shape == (plain.shape[1], plain.shape[0], 3)
    assert np.array_equal(shown, np.rot90(plain, -1))  # a quarter turn clockwise, as players do
    again = frames_at(str(turned), {0}, None)[0]
    small = frames_at(str(turned), {0}, 40)[0]
    assert np.array_equal(again, shown) and small.shape[1] == 40 and small.shape[0] > 40
    result = neardup.scan([clip, turned], cache=False, workers=1)
    sizes = {(Path(f.path).name, f.width, f.height) for f in result.images}
    assert ("portrait.mp4", plain.shape[0], plain.shape[1]) in sizes
    assert all(
        "identical pixels" not in (p.differences.kinds if p.differences else ())
        for p in result.pairs
    )
    # A mirroring matrix (PyAV's rotation reads it as a half turn): mirrored, not turned.
    mirrored = _turned_in_its_header(clip, tmp_path / "mirrored.mp4", MIRROR)
    [flipped] = [f.rgb for f in FrameReader(_ref(mirrored), Sampling(fps=1.0))]
    assert np.array_equal(flipped, plain[:, ::-1])


LOSSES = {
    "keyframe": None,  # a scene's keyframe and its neighbours, x264's defaults
    # A P-frame the B-frames decoded after it lean on (a reviewer: those B-frames, shown
    # before it, were kept, showing the scene before).
    "p_frame": "keyint=10:min-keyint=10:scenecut=0:bframes=3:b-pyramid=none:b-adapt=0",
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_frames_predicted_from_lost_data_are_dropped_and_numbers_stay_true(
    tmp_path: Path, loss: str
) -> None:
    """A tester zeroed the packets around a scene's first keyframe: the frames after it, up to
    the next keyframe, were decoded against the scene before and kept (one scene's frames in
    another's cluster), and every frame after the loss was numbered 30 too high (frame 60 at
    3.0 s, at 10 frames a second)."""
    import av

    params = LOSSES[loss]
    pictures = scene_pictures(["astronaut", "coffee", "chelsea"])
    per = 50 if loss == "keyframe" else 55  # a cut between keyframes 50 and 60
    clip = write_video(tmp_path / "clip.mp4", pictures, per, keyint=10, x264=params)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        packets = [(p.pts, p.pos, p.size, p.is_keyframe) for p in container.demux(stream) if p.size]
    order = sorted(packets)  # presentation order: frame i is order[i]
    if loss == "keyframe":
        assert order[50][3], "the coffee scene must start with a keyframe"
        lost = [order[i] for i in range(49, 52)]
    else:  # the P-frame after the cut that the B-frames of the cut, decoded next, lean on
        shown = {pts: i for i, (pts, *_) in enumerate(order)}
        rank = [shown[p[0]] for p in packets]
        at = next(j for j in range(len(packets) - 1) if 55 < rank[j] < 60 and rank[j + 1] < 56)
        lost = [packets[at]]
    data = bytearray(clip.read_bytes())
    for _, pos, size, _ in lost:
        data[pos : pos + size] = bytes(size)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    reader = FrameReader(_ref(damaged), Sampling(fps=10.0))
    kept = {f.ref.frame: (f.ref.time, f.rgb) for f in reader}
    assert reader.problem is not None and "frames dropped" in reader.problem, reader.problem
    assert all(frame == round(time * 10) for frame, (time, _) in kept.items())
    # A frame or two the decoder held back at the loss may go with it.
    assert {*range(0, 45), *range(60, 3 * per)} <= set(kept), sorted(kept)
    for frame, (_, rgb) in kept.items():  # each shows its own scene
        error = np.abs(rgb.astype(np.int16) - pictures[frame // per].astype(np.int16)).mean()
        assert error < 12, (frame, error)


def test_damage_the_decoder_conceals_is_named(tmp_path: Path) -> None:
    """A tester's clip with bytes overwritten mid-file decoded every frame, some with a patch
    of another scene, and neardup said nothing: FFmpeg conceals a damaged slice and tells only
    its log. Two bytes are overwritten in each of a few predicted frames here: most clips are
    named damaged by the decoder's concealed errors (damage that decodes as valid data cannot
    be seen)."""
    import av

    picture = scene_pictures(["astronaut"], (240, 180))[0]
    clip = tmp_path / "pan.mp4"
    with av.open(str(clip), "w") as out:  # a slow pan: predicted frames carry real data
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"crf": "20"}
        for i in range(40):
            view = np.ascontiguousarray(picture[20:140, i * 2 : i * 2 + 160])
            for packet in stream.encode(av.VideoFrame.from_ndarray(view, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        packets = [(p.pos, p.size) for p in container.demux(stream) if p.size > 200][1:6]
    problems = []
    for n, (pos, size) in enumerate(packets):
        data = bytearray(clip.read_bytes())
        data[pos + size // 2 : pos + size // 2 + 2] = b"\xa5\x5a"
        damaged = tmp_path / f"damaged{n}.mp4"
        damaged.write_bytes(bytes(data))
        reader = FrameReader(_ref(damaged), Sampling(fps=10.0))
        assert sum(1 for _ in reader) > 0
        problems.append(reader.problem)
    assert sum("concealed" in p for p in problems if p) >= 2, problems
    # A tester's MKV lost a second and was told "all 80 frames read": the count is never
    # called all; an MP4 says of how many its container states.
    assert all(" of 40 frames read" in p for p in problems if p and "concealed" in p), problems


def test_a_cut_between_scenes_of_one_brightness_is_a_cut(tmp_path: Path) -> None:
    """A tester's clip: a cut between two scenes of about equal brightness and other colours
    (29 grey levels apart at 32 x 32, under `SCENE_CHANGE`; 82 in colour) was not a scene."""
    red = np.zeros((120, 160, 3), np.uint8)
    red[...] = (200, 60, 60)
    red[30:90, 40:120] = (40, 160, 40)
    green = np.zeros_like(red)
    green[...] = (40, 120, 150)  # about red's grey level, other colours
    green[30:90, 40:120] = (190, 90, 120)
    clip = write_video(tmp_path / "two.mp4", [red, green])
    grey = [scene.astype(np.float32) @ np.float32([0.299, 0.587, 0.114]) for scene in (red, green)]
    assert np.abs(grey[0] - grey[1]).mean() < 30  # no cut in grey
    cuts = [f.ref.frame for f in FrameReader(_ref(clip), Sampling(scenes=True))]
    assert cuts == [0, 20]


def test_an_audio_file_named_mp4_is_said_to_be_audio(tmp_path: Path) -> None:
    """A tester's AAC file named `.mp4` was skipped as "unrecognised content"."""
    head = b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00isomiso2\x00\x00\x00\x08free"
    (tmp_path / "song.mp4").write_bytes(head + bytes(200))
    [skip] = collect([tmp_path / "song.mp4"]).skipped
    assert skip.reason.startswith("an audio file")
