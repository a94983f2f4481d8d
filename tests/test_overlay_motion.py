"""A copy under an overlay the check's 64 px spot missed, told from moved content by whether
local motion explains where the pictures disagree (`neardup.overlay_check`: RESULTS.md,
session 40, R74-R76)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from test_overlay_spot import BELOW, scene

from neardup.aligned_pixels import pixels_compared, tone_matched
from neardup.api import compare, scan
from neardup.checked_scores import SPOT_CONFIDENCE, spot_rescored
from neardup.features.page import MOSTLY_PAPER
from neardup.item_pixels import Ref
from neardup.overlay_check import (
    Overlay,
    OverlayChecker,
    _explained,
    overlay_of_value,
    overlay_pairs,
    overlay_rescored,
    overlay_value,
    overlay_wanted,
)
from neardup.records import Features
from neardup.scoring import PRESETS, Scored
from neardup.verify import Geometry, Verifier


def with_label(picture: Image.Image) -> Image.Image:
    """A grey label on an eighth of the picture: the check's 64 px spot reads the rest as
    disagreeing where the label shifted the tone map."""
    copy = picture.copy()
    draw = ImageDraw.Draw(copy)
    draw.rounded_rectangle((400, 280, 620, 460), radius=14, fill=(128, 128, 128))
    draw.text((412, 310), "LOGO", font=ImageFont.load_default(size=30), fill=(230, 230, 230))
    return copy


@pytest.fixture
def labelled(tmp_path: Path) -> tuple[str, str]:
    scene().save(tmp_path / "original.png")
    with_label(scene()).save(tmp_path / "labelled.jpg", quality=88)
    return str(tmp_path / "original.png"), str(tmp_path / "labelled.jpg")


def test_a_label_the_spot_missed_is_read_as_an_overlay(labelled: tuple[str, str]) -> None:
    found = Verifier().check(*labelled)
    assert found is not None and found.score >= 0.97  # the frame is found whole
    assert spot_rescored(BELOW, found.score, found.spot) is BELOW  # the 64 px spot missed it
    overlay = overlay_pairs([labelled])[0]
    assert overlay is not None and overlay.explained < 0.15 and overlay.spot.rest >= 0.9
    raised = overlay_rescored(BELOW, overlay)
    assert raised.confidence == SPOT_CONFIDENCE >= PRESETS["default"]
    assert raised.scores["spot"] == round(overlay.spot.share, 4)
    above = Scored(0.8, 0.999, {}, "geometry")
    assert overlay_rescored(above, overlay) is above  # never lowered


def test_scan_and_compare_both_read_the_overlay(labelled: tuple[str, str]) -> None:
    """One pipeline: `compare` and `scan` drive the same stage and agree."""
    compared = compare(*labelled)
    assert compared.confidence == SPOT_CONFIDENCE
    assert compared.scores["spot"] > 0
    scanned = scan(list(labelled), cache=False, workers=1, differences=False)
    assert [p.own_confidence for p in scanned.pairs] == [SPOT_CONFIDENCE]  # before its group


def test_moved_content_is_not_read_as_an_overlay(tmp_path: Path) -> None:
    """Shapes shifted all over (a camera's next frame), or one subject moved: the pictures
    disagree outside any one spot at 128 px too."""
    scene().save(tmp_path / "frame.png")
    scene(moved=12).save(tmp_path / "next.jpg", quality=88)
    subject = scene()
    ImageDraw.Draw(subject).ellipse((200, 150, 300, 260), fill=(200, 60, 60))
    subject.save(tmp_path / "subject.png")
    later = scene()
    ImageDraw.Draw(later).ellipse((230, 160, 330, 270), fill=(200, 60, 60))
    later.save(tmp_path / "later.jpg", quality=88)
    pairs: list[tuple[Ref, Ref]] = [
        (str(tmp_path / "frame.png"), str(tmp_path / "next.jpg")),
        (str(tmp_path / "subject.png"), str(tmp_path / "later.jpg")),
    ]
    for overlay in overlay_pairs(pairs):
        assert overlay is not None
        assert overlay_rescored(BELOW, overlay) is BELOW


def test_motion_explains_a_moved_subject_and_not_a_pasted_block() -> None:
    """Measured on aligned grids directly: a textured subject moved a few pixels is found
    again by the flow; a flat block pasted on the ground is found nowhere."""
    rows, cols = np.mgrid[0:96, 0:128]
    ground = (120 + 50 * np.sin(cols / 9) * np.cos(rows / 7)).astype(np.float32)
    rng = np.random.default_rng(1)
    import cv2

    texture = cv2.GaussianBlur(rng.uniform(0, 255, (40, 40)).astype(np.float32), (0, 0), 1.5)
    texture = np.clip((texture - texture.mean()) * 4 + 128, 0, 255)

    def with_subject(y: int, x: int) -> Any:
        grid = ground.copy()
        grid[y : y + 40, x : x + 40] = texture
        return grid

    inside = np.ones(ground.shape, bool)
    a = with_subject(30, 40)
    for dy, dx in ((1, 2), (3, 4), (4, 6)):
        b = with_subject(30 + dy, 40 + dx)
        assert _explained(cv2, tone_matched(a[inside], b[inside]), b, inside) >= 0.7
    block = a.copy()
    block[10:40, 80:120] = 230.0
    assert _explained(cv2, tone_matched(a[inside], block[inside]), block, inside) < 0.2
    assert _explained(cv2, a[inside], a, inside) == 1.0  # nothing disagrees: not an overlay


def test_pages_and_paper_are_not_read_here() -> None:
    """Mostly paper (a blurred page of one template reads as one spot of other words) and two
    pages (told apart by their words) are left to the words; a dense finding has no keypoints."""
    whole = Geometry(200, 150, 1.0, 1.0, 0.7, 0.9)
    below = Scored(0.7, 0.7, {}, "geometry")

    def picture(paper: float, strokes: float = 0.0) -> Features:
        return Features("x", 0, 0, 640, 480, "PNG", "", None, page=(paper, strokes))

    photo, paper = picture(0.2), picture(MOSTLY_PAPER + 0.05)
    assert overlay_wanted(below, whole, photo, photo)
    assert not overlay_wanted(below, whole, photo, paper)
    assert not overlay_wanted(below, whole, picture(0.4, 0.01), picture(0.45, 0.01))  # pages
    dense = Geometry(0, 0, 1.0, 1.0, 0.9, 0.9, True, 0.9)
    assert not overlay_wanted(below, dense, photo, photo)
    assert not overlay_wanted(Scored(0.7, 0.3, {}, "geometry"), whole, photo, photo)
    assert not overlay_wanted(Scored(0.9, SPOT_CONFIDENCE, {}, "geometry"), whole, photo, photo)


def test_the_pair_store_keeps_the_finding(labelled: tuple[str, str]) -> None:
    overlay = overlay_pairs([labelled])[0]
    assert isinstance(overlay, Overlay)
    assert overlay_of_value(overlay_value(overlay)) == overlay
    assert overlay_value(None) is None and overlay_of_value(None) is None


def test_a_pair_it_cannot_compare_is_kept_undecided(
    labelled: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding of None (no transform, an OpenCV error) is stored and read back as None,
    the pair left as it was; a second scan reads it from the store instead of checking."""
    calls: list[tuple[str, str]] = []

    def cannot(self: OverlayChecker, a: str, b: str) -> None:
        calls.append((a, b))
        return None

    monkeypatch.setattr(OverlayChecker, "check", cannot)
    compared = compare(*labelled).confidence
    assert compared is not None and compared < SPOT_CONFIDENCE  # not raised
    cache = tmp_path / "cache.sqlite"
    for _ in range(2):
        result = scan(list(labelled), cache=str(cache), workers=1, differences=False)
        assert [p.own_confidence for p in result.pairs] == [compared]
    assert len(calls) == 2  # `compare` and the first scan; the second read the store


def test_the_transform_is_the_one_the_check_found(tmp_path: Path) -> None:
    """`Verifier.framed` gives `check`'s finding, and its transform and pictures reproduce the
    finding's aligned pixels, as found directly and as found in the mirror."""
    import cv2

    scene().save(tmp_path / "original.png")
    with_label(scene()).save(tmp_path / "labelled.jpg", quality=88)
    with_label(scene()).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "flip.jpg")
    verifier = Verifier()
    for other in ("labelled.jpg", "flip.jpg"):
        a, b = str(tmp_path / "original.png"), str(tmp_path / other)
        framed = verifier.framed(a, b)
        assert framed is not None and framed[0] == verifier.check(a, b)
        found, matrix, source, target = framed
        assert found.score >= 0.97
        aligned, agree, spot = pixels_compared(cv2, matrix, source, target)
        assert (aligned, agree, spot) == (found.aligned, found.agree, found.spot)
