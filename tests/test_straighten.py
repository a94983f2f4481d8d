"""Pictures turned by a small angle on a flat canvas are turned back for the features; nothing
else is."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

import neardup
from neardup.decode import Decoded, DecodeSpec, decode
from neardup.straighten import straighten

if TYPE_CHECKING:
    from conftest import FileMaker

Photo = Callable[..., Image.Image]


def turned(
    picture: Image.Image, degrees: float, fill: tuple[int, int, int], expand: bool
) -> Image.Image:
    return picture.rotate(degrees, Image.Resampling.BICUBIC, expand=expand, fillcolor=fill)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    a = a.resize(b.size, Image.Resampling.BILINEAR)
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).mean())


@pytest.mark.parametrize("degrees", [3.0, -3.0, 8.5, -15.0, 30.0])
@pytest.mark.parametrize("fill", [(255, 255, 255), (40, 170, 90), (128, 128, 128)])
def test_an_expanded_canvas_is_cut_out_turned_back(
    photo: Photo, degrees: float, fill: tuple[int, int, int]
) -> None:
    picture = photo("chelsea", 300)
    turn = straighten(np.asarray(turned(picture, degrees, fill, expand=True)))
    assert turn is not None and turn.expanded
    assert turn.degrees == pytest.approx(degrees, abs=0.4)
    assert turn.picture.width / turn.picture.height == pytest.approx(
        picture.width / picture.height, rel=0.03
    )
    # Turned back, it is the picture again (twice resampled), not the canvas.
    assert mean_difference(turn.picture, picture) < 8
    assert mean_difference(turned(picture, degrees, fill, expand=True), picture) > 15


@pytest.mark.parametrize("degrees", [4.0, -12.0])
def test_a_picture_turned_within_its_frame_is_turned_back(photo: Photo, degrees: float) -> None:
    picture = photo("chelsea", 300)
    turn = straighten(np.asarray(turned(picture, degrees, (255, 255, 255), expand=False)))
    assert turn is not None and not turn.expanded
    assert turn.degrees == pytest.approx(degrees, abs=0.4)
    assert turn.picture.size == picture.size


def clip_art(shape: str) -> Image.Image:
    """Drawings on a white page whose corners are white: none is a turned canvas."""
    image = Image.new("RGB", (320, 240), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((40, 20, 280, 220), fill=(200, 40, 40))
    elif shape == "diamond":  # a square turned by 45 degrees, touching every side
        draw.polygon([(160, 0), (319, 120), (160, 239), (0, 120)], fill=(30, 90, 200))
    elif shape == "card":  # a small turned card in the middle: its corners are not the page's
        card = Image.new("RGB", (120, 80), (20, 120, 60)).rotate(
            10, expand=True, fillcolor=(255,) * 3
        )
        image.paste(card, (100, 70))
    elif shape == "rounded":  # a photo-like fill in a frame with round corners
        draw.rounded_rectangle((0, 0, 319, 239), radius=40, fill=(90, 60, 30))
    elif shape == "vignette":  # a photo darkened towards round corners
        yy, xx = np.mgrid[0:240, 0:320]
        r = np.hypot((xx - 160) / 160, (yy - 120) / 120)
        grey = (255 * np.clip(1.2 - r, 0, 1)).astype(np.uint8)
        image = Image.fromarray(np.dstack([grey] * 3))
    return image.filter(ImageFilter.GaussianBlur(1))


@pytest.mark.parametrize("shape", ["circle", "diamond", "card", "vignette", "rounded"])
def test_flat_corners_alone_are_not_a_turn(shape: str) -> None:
    assert straighten(np.asarray(clip_art(shape))) is None


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket", "camera", "coins"])
def test_photos_are_not_turned(photo: Photo, name: str) -> None:
    assert straighten(np.asarray(photo(name, 300))) is None


def test_a_tiny_turn_or_a_letterbox_is_left_alone(photo: Photo) -> None:
    picture = photo("chelsea", 300)
    assert straighten(np.asarray(turned(picture, 0.5, (255, 255, 255), expand=True))) is None
    boxed = Image.new("RGB", (300, 300), (0, 0, 0))
    boxed.paste(picture, (0, (300 - picture.height) // 2))
    assert straighten(np.asarray(boxed)) is None


def test_decode_turns_back_for_the_features_only(photo: Photo, make: FileMaker) -> None:
    picture = photo("chelsea", 400)
    data = make.encode(turned(picture, -9.0, (40, 170, 90), expand=True), "JPEG", quality=92)
    canvas = Image.open(io.BytesIO(data)).size
    features = decode(data, "t.jpg", DecodeSpec(min_side=224, straighten=True))
    assert isinstance(features, Decoded)
    assert (features.width, features.height) == canvas  # the file's size, as for borders
    h, w = features.rgb.shape[:2]
    assert w / h == pytest.approx(picture.width / picture.height, rel=0.04)
    assert features.trimmed is not None  # the canvas around the picture, centred
    left, top, right, bottom = features.trimmed
    assert canvas[0] - left - right == pytest.approx(picture.width, rel=0.03)
    assert canvas[1] - top - bottom == pytest.approx(picture.height, rel=0.03)
    assert min(h, w) >= 224  # cut out of a canvas reduced less, not smaller than asked
    plain = decode(data, "t.jpg", DecodeSpec(min_side=224))  # the check's and differences'
    assert isinstance(plain, Decoded) and plain.trimmed is None
    assert plain.rgb.shape[1] / plain.rgb.shape[0] == pytest.approx(canvas[0] / canvas[1], rel=0.02)


def test_a_turned_letterboxed_picture_is_measured_inside_its_bars(
    photo: Photo, make: FileMaker
) -> None:
    picture = photo("chelsea", 400)  # 400 x 264
    boxed = Image.new("RGB", (400, 330), (0, 0, 0))
    boxed.paste(picture, (0, 33))
    data = make.encode(turned(boxed, 10.0, (255, 255, 255), expand=True), "PNG")
    result = decode(data, "t.png", DecodeSpec(min_side=224, straighten=True))
    assert isinstance(result, Decoded) and result.trimmed is not None
    left, top, right, bottom = result.trimmed
    inner = (result.width - left - right, result.height - top - bottom)
    assert inner[0] / inner[1] == pytest.approx(400 / 264, rel=0.04)
    assert inner[0] * inner[1] == pytest.approx(400 * 264, rel=0.08)
    h, w = result.rgb.shape[:2]
    assert w / h == pytest.approx(400 / 264, rel=0.04)


def sky() -> Image.Image:
    """A sky-like gradient with one soft cloud: too few corners for the check to see a turn."""
    yy, xx = np.mgrid[0:360, 0:480].astype(np.float64)
    blue = np.dstack([60 + 0.2 * yy, 110 + 0.25 * yy + 0.05 * xx, 200 + 0.1 * yy])
    cloud = 70 * np.exp(-(((xx - 300) / 70) ** 2 + ((yy - 120) / 40) ** 2))
    return Image.fromarray(np.clip(blue + cloud[..., None], 0, 255).astype(np.uint8))


def test_a_turned_copy_of_a_smooth_picture_is_found(tmp_path: Path, make: FileMaker) -> None:
    original = sky()
    make.image(tmp_path / "sky.png", original)
    make.image(tmp_path / "sky_turned.jpg", turned(original, 11.0, (255, 255, 255), expand=True))
    result = neardup.compare(tmp_path / "sky.png", tmp_path / "sky_turned.jpg")
    # Measured: 0.49 and confidence 0.03 without turning back; 0.88 and 1.0 with it.
    assert result.scores["sscd_distilled"] >= 0.8
    assert result.verdicts["default"]


def test_the_turn_of_a_smooth_picture_is_said(tmp_path: Path, make: FileMaker) -> None:
    # Too few keypoints to align; the canvas gives the turn, in either order.
    make.image(tmp_path / "sky.png", sky())
    make.image(tmp_path / "turned.jpg", turned(sky(), 11.0, (255, 255, 255), expand=True))
    forward = neardup.compare(tmp_path / "sky.png", tmp_path / "turned.jpg").differences
    assert forward is not None and forward.aligned_by == "canvas"
    assert forward.turned == pytest.approx(11.0, abs=0.6)
    assert "turned" in forward.kinds and "cropped" in forward.kinds
    assert forward.common is not None and forward.common[0] > 0.95 > forward.common[1]
    back = neardup.compare(tmp_path / "turned.jpg", tmp_path / "sky.png").differences
    assert back is not None and back.aligned_by == "canvas"
    assert back.turned == pytest.approx(-11.0, abs=0.6)
    assert back.scale == pytest.approx(1 / forward.scale, rel=0.05)  # type: ignore[operator]


def test_a_canvas_is_no_alignment_for_another_picture(tmp_path: Path, make: FileMaker) -> None:
    # Another smooth picture turned on a canvas: the turn says nothing about the first one.
    yy, xx = np.mgrid[0:360, 0:480].astype(np.float64)
    other = Image.fromarray(
        np.dstack([40 + 0.5 * xx, 200 - 0.3 * yy, 90 + 0 * xx]).astype(np.uint8)
    )
    make.image(tmp_path / "sky.png", sky())
    make.image(tmp_path / "other.jpg", turned(other, 11.0, (255, 255, 255), expand=True))
    found = neardup.compare(tmp_path / "sky.png", tmp_path / "other.jpg").differences
    assert found is not None and found.aligned_by != "canvas" and "turned" not in found.kinds


def test_a_mirrored_turned_copy_is_said_mirrored(tmp_path: Path, make: FileMaker) -> None:
    mirrored = sky().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    make.image(tmp_path / "sky.png", sky())
    make.image(tmp_path / "turned.jpg", turned(mirrored, 11.0, (255, 255, 255), expand=True))
    # Mirrored then turned anticlockwise is turned clockwise then mirrored: in either order
    # the second is the first mirrored, then turned 11 degrees anticlockwise.
    for first, second in (("sky.png", "turned.jpg"), ("turned.jpg", "sky.png")):
        found = neardup.compare(tmp_path / first, tmp_path / second).differences
        assert found is not None and found.aligned_by == "canvas", found
        assert found.mirrored and "mirrored" in found.kinds
        assert found.turned == pytest.approx(11.0, abs=0.6)


def test_an_index_finds_a_turned_copy_too(tmp_path: Path, make: FileMaker, photo: Photo) -> None:
    # The index computes its features through the same stage as scan: the turn is undone there.
    from neardup.index.catalog import ImageIndex

    folder = tmp_path / "in"
    folder.mkdir()
    make.image(folder / "sky.png", sky())
    for name in ("astronaut", "coffee", "rocket"):
        make.image(folder / f"{name}.png", photo(name, 300))
    make.image(tmp_path / "turned.jpg", turned(sky(), 11.0, (255, 255, 255), expand=True))
    index, _ = ImageIndex.build(tmp_path / "idx", [str(folder)], cache=False, workers=1)
    with index:
        report = index.query([str(tmp_path / "turned.jpg")], cache=False, workers=1)
    found = [match.path for match in report.entries[0].duplicates]
    assert found == [str(folder / "sky.png")]
    # Its similarity is the files' (the turn counts), as scan and compare give it.
    compared = neardup.compare(folder / "sky.png", tmp_path / "turned.jpg")
    match = report.entries[0].duplicates[0]
    assert match.similarity == pytest.approx(compared.similarity, abs=0.002)
    assert match.similarity < 0.7 < compared.scores["sscd_distilled"]
    # Stored, then searched among the stored rows: the same similarity.
    with ImageIndex.open(tmp_path / "idx") as index:
        index.add([str(tmp_path / "turned.jpg")], cache=False, workers=1)
        stored = index.duplicates(workers=1)
    pairs = [p for p in stored.pairs if "turned" in stored.path(p.a) + stored.path(p.b)]
    assert len(pairs) == 1
    assert pairs[0].similarity == pytest.approx(compared.similarity, abs=0.002)


def padded(
    canvas: Image.Image, margins: tuple[int, int, int, int], fill: tuple[int, int, int]
) -> Image.Image:
    """`canvas` with margins (left, top, right, bottom) of `fill` added: saved on a page."""
    from PIL import ImageOps

    return ImageOps.expand(canvas, border=margins, fill=fill)


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (40, 170, 90)])
def test_a_turned_canvas_padded_with_margins_is_turned_back(
    photo: Photo, fill: tuple[int, int, int]
) -> None:
    picture = photo("chelsea", 300)
    canvas = turned(picture, -12.0, fill, expand=True)
    page = padded(canvas, (40, 10, 8, 25), fill)
    turn = straighten(np.asarray(page))
    assert turn is not None and turn.expanded
    assert turn.degrees == pytest.approx(-12.0, abs=0.4)
    # Its centre is the turned canvas's, off the page's by the unequal margins.
    assert turn.centre[0] == pytest.approx(40 + canvas.width / 2, abs=2)
    assert turn.centre[1] == pytest.approx(10 + canvas.height / 2, abs=2)
    assert mean_difference(turn.picture, picture) < 10  # measured 8.3 on white
    assert mean_difference(page, picture) > 20


def test_a_padded_turned_canvas_is_placed_where_it_lies(photo: Photo, make: FileMaker) -> None:
    picture = photo("chelsea", 400)
    canvas = turned(picture, 9.0, (255, 255, 255), expand=True)
    page = padded(canvas, (60, 20, 0, 0), (255, 255, 255))
    data = make.encode(page, "JPEG", quality=92)
    result = decode(data, "t.jpg", DecodeSpec(min_side=224, straighten=True))
    assert isinstance(result, Decoded) and result.unturned is not None
    assert result.trimmed is not None
    left, top, right, bottom = result.trimmed
    # The picture sits in the canvas's middle, 60 px right of and 20 px below the page's.
    assert (left - right) / 2 == pytest.approx(30, abs=4)
    assert (top - bottom) / 2 == pytest.approx(10, abs=4)
    h, w = result.rgb.shape[:2]
    assert w / h == pytest.approx(picture.width / picture.height, rel=0.04)


def test_a_turned_padded_smooth_picture_is_found_and_its_turn_said(
    tmp_path: Path, make: FileMaker
) -> None:
    canvas = turned(sky(), 11.0, (255, 255, 255), expand=True)
    make.image(tmp_path / "sky.png", sky())
    make.image(tmp_path / "page.jpg", padded(canvas, (50, 12, 6, 30), (255, 255, 255)))
    found = neardup.compare(tmp_path / "sky.png", tmp_path / "page.jpg")
    assert found.verdicts["default"]
    described = found.differences
    assert described is not None and described.aligned_by == "canvas"
    assert described.turned == pytest.approx(11.0, abs=0.6)
    assert described.common is not None and described.common[0] > 0.95


def test_the_fill_test_is_within_tolerance_in_every_channel() -> None:
    """`_fill` (bounds compared in uint8) says what widening to int16 says, at the ends of
    the range too, on a picture and on one of its rows."""
    from neardup.straighten import FILL_TOLERANCE, _fill

    rng = np.random.default_rng(7)
    picture = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    for colour in ([0, 0, 0], [255, 255, 255], [10, 250, 128], [16, 239, 17]):
        fill = np.array(colour, dtype=np.int16)
        picture[:5] = np.clip(fill + rng.integers(-20, 21, (5, 50, 3)), 0, 255)
        expected = np.abs(picture.astype(np.int16) - fill).max(axis=-1) <= FILL_TOLERANCE
        assert np.array_equal(_fill(picture, fill), expected)
        assert np.array_equal(_fill(picture[2], fill), expected[2])
        assert expected[:5].any() and not expected.all()
