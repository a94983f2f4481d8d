"""The check's dense alignment (`neardup.dense_alignment`) for pictures too smooth for ORB: a
turned crop or a quarter-turned copy of a soft wallpaper is found and passes the gate; two
look-alike ramps and a neighbouring tile of one wallpaper do not; a pair it lifts is rescored
to the measured confidence, one it does not keeps its scores' verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from neardup.checked_scores import DENSE_CONFIDENCE, DENSE_GATE, dense_rescored
from neardup.dense_check import DENSE_FLOOR, dense_pairs, dense_wanted, whole_pairs
from neardup.scoring import PRESETS, Scored
from neardup.verify import MIN_KEYPOINTS, Geometry, Verifier, geometry_of, geometry_value


def wallpaper(width: int = 480, height: int = 320) -> Image.Image:
    """A soft wallpaper: a colour ramp, a round shape and a hill, blurred (ORB finds a few
    dozen corners at most)."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    ramp = np.stack([60 + 80 * y + 20 * x, 120 + 60 * x, 140 + 40 * y], -1)
    picture = Image.fromarray(ramp.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    w, h = width, height
    draw.ellipse((w * 0.55, h * 0.5, w * 1.3, h * 1.4), fill=(240, 180, 70))
    draw.polygon([(0, h * 0.85), (w * 0.6, h * 0.62), (w * 0.7, h), (0, h)], fill=(20, 80, 90))
    return picture.filter(ImageFilter.GaussianBlur(4))


def ramp(start: tuple[int, int, int], end: tuple[int, int, int]) -> Image.Image:
    y, x = np.mgrid[0:320, 0:480] / 480
    along = 0.7 * x + 0.3 * y
    channels = [start[i] + (end[i] - start[i]) * along for i in range(3)]
    return Image.fromarray(np.stack(channels, -1).clip(0, 255).astype(np.uint8))


def passes(found: Geometry) -> bool:
    measured = (found.score, found.aligned, found.agree, found.edges)
    return all(value >= gate for value, gate in zip(measured, DENSE_GATE, strict=True))


@pytest.fixture
def smooth(tmp_path: Path) -> Path:
    original = wallpaper()
    original.save(tmp_path / "original.png")
    w, h = original.size
    turned = original.rotate(8, resample=Image.Resampling.BICUBIC)
    turned.crop((40, 30, w - 30, h - 20)).save(tmp_path / "turned_crop.jpg", quality=85)
    quarter = original.transpose(Image.Transpose.ROTATE_90)
    quarter.crop((20, 30, 300, 440)).save(tmp_path / "quarter.jpg", quality=90)
    ramp((20, 40, 120), (200, 120, 60)).save(tmp_path / "ramp.png")
    other = ramp((30, 60, 110), (220, 100, 40)).crop((20, 10, 460, 310))
    other.save(tmp_path / "other_ramp.jpg", quality=90)
    wide = wallpaper(960, 320)
    wide.crop((0, 0, 480, 320)).save(tmp_path / "left_tile.png")
    wide.crop((480, 0, 960, 320)).save(tmp_path / "right_tile.png")
    return tmp_path


def test_a_smooth_pictures_copies_are_aligned_densely(smooth: Path) -> None:
    """ORB alone cannot decide these pairs: too few corners in the original."""
    original = str(smooth / "original.png")
    copies = [str(smooth / name) for name in ("turned_crop.jpg", "quarter.jpg")]
    verifier = Verifier()
    keypoints = verifier.keypoints(original)  # fewer corners than the check can use
    assert keypoints is None or len(keypoints[0]) < MIN_KEYPOINTS
    assert all(verifier.check(original, copy) is None for copy in copies)
    found_all = dense_pairs([(original, copy) for copy in copies])
    for copy, found in zip(copies, found_all, strict=True):
        assert found is not None and found.dense and found.inliers == 0
        assert passes(found), (copy, found)


def test_look_alike_ramps_and_neighbouring_tiles_fail_the_gate(smooth: Path) -> None:
    """Two ramps match in grey levels under many crops and scales; their edge strength is
    nearly constant, so their edges do not agree. A neighbouring tile shares no frame."""
    ramps, tiles = dense_pairs(
        [
            (str(smooth / "ramp.png"), str(smooth / "other_ramp.jpg")),
            (str(smooth / "left_tile.png"), str(smooth / "right_tile.png")),
        ]
    )
    assert ramps is not None and ramps.dense
    assert ramps.aligned >= 0.95 and ramps.agree >= 0.95  # grey levels alone would pass
    assert ramps.edges < DENSE_GATE[3] and not passes(ramps)
    assert tiles is not None and tiles.dense and not passes(tiles)


def test_dense_alignment_runs_only_where_it_could_lift_the_verdict() -> None:
    """It only raises a pair, to `DENSE_CONFIDENCE`: not above a cut already, nor above
    `DENSE_CONFIDENCE`'s reach, nor far below (look-alikes)."""
    assert dense_wanted(0.5, (0.952,))
    assert not dense_wanted(0.96, (0.952,))  # decided already
    assert not dense_wanted(0.5, (0.995,))  # a cut it cannot lift a pair to
    assert dense_wanted(0.5, (0.995, 0.952))
    assert not dense_wanted(DENSE_FLOOR / 2, (0.952,))


def test_a_scan_groups_a_smooth_pictures_turned_copy(smooth: Path, tmp_path: Path) -> None:
    """End to end: the turned crop, which its scores alone leave below the cut, is grouped
    with the original by its dense finding; neighbouring tiles stay apart. (The two ramps
    are grouped by their scores alone, whatever the check: README, "Smooth gradients look
    alike".)"""
    from neardup import scan

    told: list[tuple[int, int, str]] = []
    result = scan(
        [str(smooth)], cache=False, progress=lambda d, t, stage: told.append((d, t, stage))
    )
    assert any(stage == "dense" and done == total for done, total, stage in told)
    names = [Path(image.path).name for image in result.images]
    groups = [{names[g.keeper]} | {names[m] for m, _ in g.members} for g in result.groups]
    group = next(g for g in groups if "original.png" in g)
    assert {"turned_crop.jpg", "quarter.jpg"} <= group
    crop = next(
        p for p in result.pairs if {names[p.a], names[p.b]} == {"original.png", "turned_crop.jpg"}
    )
    assert crop.scores["dense"] == 1.0 and crop.own_confidence == DENSE_CONFIDENCE
    assert not any({"left_tile.png", "right_tile.png"} <= g for g in groups)


def test_a_dense_finding_survives_the_pair_store() -> None:
    found = Geometry(0, 0, 0.7, 1.0, 0.99, 0.98, True, 0.93)
    assert geometry_of(geometry_value(found)) == found
    assert found.swapped().dense and found.swapped().edges == found.edges


def test_a_pair_the_gate_passes_is_raised_to_the_measured_confidence() -> None:
    scored = Scored(0.81, 0.48, {"sscd_distilled": 0.81}, "sscd_distilled")
    lifted = dense_rescored(scored, (0.72, 0.99, 0.99, 0, 1.0, True, 0.95), {})
    assert lifted.confidence == DENSE_CONFIDENCE and lifted.evidence == "geometry"
    assert lifted.similarity == scored.similarity  # how alike is not what the check says
    assert lifted.scores["dense"] == 1.0 and lifted.scores["edges"] == 0.95
    failed = dense_rescored(scored, (0.72, 0.99, 0.99, 0, 1.0, True, 0.3), {})
    assert failed.confidence == scored.confidence and failed.evidence == scored.evidence
    higher = Scored(0.95, 0.999, {}, "pdq")
    assert dense_rescored(higher, (0.9, 1.0, 1.0, 0, 1.0, True, 1.0), {}).confidence == 0.999


@pytest.mark.parametrize("turn", [-15, 18])
def test_a_turn_of_15_to_20_degrees_is_found_in_the_right_view(turn: int) -> None:
    """A reviewer's case: a smooth field with some texture, turned and cropped. Ranked
    untilted only, the right view came third and was never searched for turns."""
    import cv2

    from neardup.dense_alignment import align

    cells = np.random.default_rng(3).random((22, 32)).astype(np.float32)
    field = cv2.GaussianBlur(
        cv2.resize(cells, (480, 320), interpolation=cv2.INTER_CUBIC), (0, 0), 6
    )
    grey = ((field - field.min()) / (field.max() - field.min()) * 200 + 20).astype(np.uint8)
    rotation = cv2.getRotationMatrix2D((240, 160), turn, 1.0)
    copy = np.ascontiguousarray(cv2.warpAffine(grey, rotation, (480, 320))[50:275, 70:420])
    found = align(cv2, grey, copy)
    assert found is not None and np.array_equal(found.view, copy)  # the untouched view
    truth = rotation.copy()
    truth[:, 2] -= (70, 50)
    points = np.array([[144, 96], [336, 96], [144, 224], [336, 224], [240, 160]], float)
    placed = points @ found.matrix[:, :2].T + found.matrix[:, 2]
    assert np.abs(placed - (points @ truth[:, :2].T + truth[:, 2])).max() < 8  # px at 256


def test_differences_measure_a_smooth_copys_turn_and_crop(smooth: Path) -> None:
    """Too few keypoints: the differences align the grey levels too (refined by ECC), so the
    turn and the crop are measured rather than left out ("aligned by whole frames")."""
    from neardup.differences import Differ

    found = Differ().measure(str(smooth / "original.png"), str(smooth / "turned_crop.jpg"))
    assert found.aligned_by == "dense" and not found.mirrored
    assert found.turned is not None and abs(abs(found.turned) - 8) <= 1.5
    assert "cropped" in found.kinds and "scaled" not in found.kinds
    ramps = Differ().measure(str(smooth / "ramp.png"), str(smooth / "other_ramp.jpg"))
    assert ramps.aligned_by != "dense"  # their edges do not agree: no crop made up


def captioned(tmp_path: Path) -> tuple[Path, Path]:
    """A soft wallpaper with a few faint spots, and its copy with two lines of caption: the
    letters' corners crowd out the spots' in ORB's strongest, so the keypoints find too few
    inliers for a frame (the check decided: no frame), where the pixels agree but for the
    caption."""
    original = wallpaper(640, 420)
    rng = np.random.default_rng(1)
    draw = ImageDraw.Draw(original)
    for _ in range(40):
        x, y = int(rng.integers(0, 640)), int(rng.integers(0, 420))
        draw.ellipse((x, y, x + 6, y + 6), fill=tuple(int(v) for v in rng.integers(60, 200, 3)))
    original = original.filter(ImageFilter.GaussianBlur(1.5))
    copy = original.copy()
    draw = ImageDraw.Draw(copy)
    font = ImageFont.load_default(size=30)
    for line in range(2):
        draw.text(
            (30, 40 + 90 * line),
            "photo look memories 2019",
            font=font,
            fill=(255, 255, 255),
            stroke_width=2,
            stroke_fill=(0, 0, 0),
        )
    original.save(tmp_path / "original.png")
    copy.save(tmp_path / "captioned.jpg", quality=88)
    return tmp_path / "original.png", tmp_path / "captioned.jpg"


def test_a_captioned_smooth_picture_without_a_keypoint_frame_is_compared_whole(
    tmp_path: Path,
) -> None:
    """The keypoints find no frame (score 0), a finding that lowers the pair; compared in their
    whole frames the two pass the dense gate, so the pair keeps the confidence its scores gave
    and the scan groups it with its original (RESULTS.md, session 34: R52)."""
    from neardup import scan

    original, copy = captioned(tmp_path)
    found = Verifier().check(str(original), str(copy))
    assert found is not None and found.score == 0.0
    whole = whole_pairs([(str(original), str(copy))])[0]
    assert whole is not None and passes(whole) and whole.score == 1.0
    result = scan([str(tmp_path)], cache=False)
    (pair,) = result.pairs
    assert pair.scores.get("dense") == 1.0 and pair.confidence >= PRESETS["default"]
    assert len(result.groups) == 1


def test_neighbouring_tiles_do_not_line_up_in_their_whole_frames(smooth: Path) -> None:
    """The whole frames are compared as they are, so two tiles of one wallpaper, which a
    search of shifts can overlap, fail the gate."""
    tiles = whole_pairs([(str(smooth / "left_tile.png"), str(smooth / "right_tile.png"))])[0]
    assert tiles is not None and not passes(tiles)


def test_which_pairs_without_a_keypoint_frame_are_compared_whole() -> None:
    """A template's two pages line up on their grid and white paper (RESULTS.md, session 34:
    R48 and R51 lifted spreadsheets of one template): for two pages the keypoints' no frame
    stands. Another pair whose keypoints found no frame is compared whole at the cut, and
    below it where its thumbnails agree (session 46, R106b: stripes settle RANSAC on a
    collapsed transform, 25 inliers framing nothing, and a darkened copy fell to 0.02)."""
    from dataclasses import replace

    from neardup.checking import _unframed
    from neardup.dense_check import WHOLE_THUMB
    from neardup.records import Features

    plain = Features("a", 1000, 0, 640, 420, "PNG", "bytes-a", None)
    page = replace(plain, path="b", bytes_hash="bytes-b", page=(0.9, 0.02))
    no_frame = Geometry(21, 6, 0.0, 0.0)
    collapsed = Geometry(28, 25, 0.0, 0.0, 0.0, 0.51)
    framed = Geometry(200, 180, 1.0, 1.0, 0.99, 0.99)
    at_cut = {(0, 1): Scored(0.9, 0.98, {}, "pdq")}
    below = {(0, 1): Scored(0.9, 0.5, {"thumb": WHOLE_THUMB - 0.1}, "pdq")}
    alike = {(0, 1): Scored(0.9, 0.02, {"thumb": WHOLE_THUMB}, "pdq")}
    assert _unframed([plain, page], (0, 1), no_frame, at_cut, 0.952)
    assert _unframed([plain, replace(plain, path="c")], (0, 1), collapsed, alike, 0.952)
    assert not _unframed([plain, page], (0, 1), no_frame, below, 0.952)
    assert not _unframed([page, replace(page, path="c")], (0, 1), no_frame, at_cut, 0.952)
    assert not _unframed([page, replace(page, path="c")], (0, 1), no_frame, alike, 0.952)
    assert not _unframed([plain, page], (0, 1), framed, at_cut, 0.952)


def test_each_reduction_of_a_searched_picture_is_made_once(
    smooth: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One alignment reduces each picture to each size it searches once (the picture slid
    one way round is the same for every view of the other): here 55 reductions where 110
    were made (the alignments identical on 150 pairs of pictures: RESULTS.md, session 43)."""
    import cv2

    from neardup import dense_alignment

    grey_a = np.asarray(Image.open(smooth / "turned_crop.jpg").convert("L"))
    grey_b = np.asarray(Image.open(smooth / "original.png").convert("L"))
    made: list[float] = []
    small = dense_alignment._small

    def counted(cv2_: object, picture: tuple[object, float], side: float) -> object:
        made.append(side)
        return small(cv2_, picture, side)  # type: ignore[arg-type]

    monkeypatch.setattr(dense_alignment, "_small", counted)
    found = dense_alignment.align(cv2, grey_a, grey_b)
    assert found is not None
    searched = len(made)
    monkeypatch.setattr(dense_alignment, "_small", small)
    again = dense_alignment.align(cv2, grey_a, grey_b)
    assert again is not None and again.correlation == found.correlation
    assert np.array_equal(again.matrix, found.matrix)
    # 2 base pictures, 54 coarse sizes (8 views of b at the coarse side, 5 sizes of a, a at
    # the coarse side, 40 sizes of b's views) and at most 4 refined sizes per candidate.
    assert searched <= 2 + 54 + 4 * 3
