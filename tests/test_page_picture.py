"""The picture placed on a plain page (`neardup.features.page_picture`): found beside a slide's
title and bullets on a plain or gradient background where the sides of the picture fade into
the page, never in photographs or a page of text alone; and a scan that groups a drawing with
its slide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FileMaker, ScanView, make_photo, near
from PIL import Image, ImageDraw, ImageFont

import neardup
from neardup.decode import DecodeSpec, decode
from neardup.features.inset import find_inset, find_picture
from neardup.features.page_picture import find_page_picture

Box = tuple[int, int, int, int]
SIZE = (1280, 720)


def drawing(side: int = 480) -> Image.Image:
    """A line drawing on white (a clip-art goat's kind): its sides are the page's white."""
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(3)
    for _ in range(40):
        x, y = rng.integers(40, side - 40, size=2)
        r = int(rng.integers(10, 60))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(20, 20, 20), width=3)
    draw.line((40, side - 40, side - 40, 40), fill=(60, 60, 60), width=6)
    return image


def background(kind: str) -> Image.Image:
    """A slide's background: plain white, plain dark, or a gradient from violet to green."""
    if kind == "white":
        return Image.new("RGB", SIZE, (255, 255, 255))
    if kind == "dark":
        return Image.new("RGB", SIZE, (38, 38, 38))
    t = np.linspace(0.0, 1.0, SIZE[1])[:, None, None]
    top, bottom = np.array([140, 40, 200]), np.array([130, 230, 90])
    pixels = np.broadcast_to(top + t * (bottom - top), (SIZE[1], SIZE[0], 3))
    return Image.fromarray(pixels.astype(np.uint8))


def slide(picture: Image.Image, kind: str = "white", lines: int = 3) -> tuple[Image.Image, Box]:
    """`picture` on the right of a slide with a title and `lines` bullets, and where it is."""
    canvas = background(kind)
    draw = ImageDraw.Draw(canvas)
    ink = (20, 20, 20) if kind == "white" else (235, 235, 235)
    draw.text((60, 40), "Lessons learned", fill=ink, font=ImageFont.load_default(size=48))
    for n in range(lines):
        draw.ellipse((64, 214 + 70 * n, 76, 226 + 70 * n), fill=ink)
        text = ["Collected in spring", "See appendix B", "Budget on track"][n % 3]
        draw.text((96, 200 + 70 * n), text, fill=ink, font=ImageFont.load_default(size=30))
    draw.text((1220, 680), "17", fill=ink, font=ImageFont.load_default(size=18))
    shown = picture.resize((500, round(picture.height * 500 / picture.width)))
    canvas.paste(shown, (700, 160))
    return canvas, (700, 160, 1200, 160 + shown.height)


def content_box(picture: Image.Image, placed: Box, page: tuple[int, int, int]) -> Box:
    """Where `picture`, placed at `placed`, departs from the page's colour: a drawing on a
    white page is found by its lines, not by its white sides."""
    shown = np.asarray(picture.resize((placed[2] - placed[0], placed[3] - placed[1])))
    ys, xs = np.nonzero(np.abs(shown.astype(int) - page).max(axis=2) > 12)
    return (
        placed[0] + int(xs.min()),
        placed[1] + int(ys.min()),
        placed[0] + int(xs.max()) + 1,
        placed[1] + int(ys.max()) + 1,
    )


def scaled(box: Box, scale: float) -> tuple[float, ...]:
    return tuple(v * scale for v in box)


@pytest.mark.parametrize("kind", ["white", "dark", "gradient"])
def test_the_picture_on_a_slide_is_found_at_the_size_features_decode(kind: str) -> None:
    picture = make_photo("astronaut", 512) if kind != "white" else drawing()
    shown, placed = slide(picture, kind)
    rgb = np.asarray(shown.resize((398, 224), Image.Resampling.LANCZOS))
    expected = content_box(picture, placed, (255, 255, 255)) if kind == "white" else placed
    assert near(find_page_picture(rgb), scaled(expected, 224 / 720), 0.85)
    assert near(find_picture(rgb), scaled(expected, 224 / 720), 0.85)


def test_a_drawing_on_a_white_slide_has_no_edges_to_find() -> None:
    """Why the page is read as a page: the drawing's sides are the slide's white, so no four
    edges bound it."""
    picture = drawing()
    shown, placed = slide(picture)
    rgb = np.asarray(shown.resize((398, 224), Image.Resampling.LANCZOS))
    expected = scaled(content_box(picture, placed, (255, 255, 255)), 224 / 720)
    assert not near(find_inset(rgb), expected, 0.85)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "camera"])
def test_photographs_are_no_page(name: str) -> None:
    assert find_page_picture(np.asarray(make_photo(name, 320))) is None


def test_a_sky_with_birds_is_no_page() -> None:
    """A smooth ring and short dark blobs, but no lines of text beside a picture."""
    t = np.linspace(0.0, 1.0, 300)[:, None, None]
    sky = (np.array([90, 140, 220]) + t * np.array([100, 80, 30])) * np.ones((300, 500, 3))
    image = Image.fromarray(sky.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(5)
    for x, y in rng.integers(60, 240, size=(12, 2)):
        draw.line((x * 2 - 8, y - 4, x * 2, y, x * 2 + 8, y - 4), fill=(30, 30, 40), width=2)
    draw.rectangle((150, 120, 330, 240), fill=(60, 70, 60))  # a hill
    assert find_page_picture(np.asarray(image)) is None


def test_faint_streaks_are_no_lines_of_text() -> None:
    """A dark photograph's wood grain: short wide streaks on a smooth dark ring, departing
    by 30, beside a textured block. Lines of text are inked; these are not."""
    rng = np.random.default_rng(1)
    pixels = np.full((224, 336, 3), 40, np.uint8)
    for _ in range(14):
        y, x = rng.integers(20, 200), rng.integers(20, 200)
        pixels[y : y + 5, x : x + int(rng.integers(30, 110))] = 70
    pixels[60:170, 200:290] = rng.integers(60, 200, (110, 90, 3)).astype(np.uint8)
    assert find_page_picture(pixels) is None
    pixels[pixels == 70] = 230  # the same streaks inked: lines of text beside a picture
    assert find_page_picture(pixels) is not None


def test_a_page_of_text_alone_shows_no_picture() -> None:
    page = background("white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    for n in range(8):
        draw.text((60, 60 + 70 * n), "A line of text", fill=(0, 0, 0), font=font)
    assert find_page_picture(np.asarray(page.resize((398, 224)))) is None


def test_a_scan_groups_a_photograph_with_its_dark_slide(tmp_path: Path, make: FileMaker) -> None:
    """The cameraman's dark edges fade into a dark slide: no four edges bound him, and the
    whole slide embeds far from him. The picture found on the page proposes the pair (before
    the page was read, the two stayed apart) and the check decides it."""
    picture = make_photo("camera", 512)
    make.image(tmp_path / "camera.png", picture)
    make.image(tmp_path / "slide.jpg", slide(picture, "dark")[0], quality=88)
    for name in ("coffee", "rocket", "chelsea"):
        make.image(tmp_path / f"{name}.jpg", name, side=400)
    decoded = decode((tmp_path / "slide.jpg").read_bytes(), "slide.jpg", DecodeSpec(min_side=224))
    assert not isinstance(decoded, neardup.Skipped)
    assert find_inset(decoded.rgb) is None
    view = ScanView(neardup.scan([tmp_path], cache=False), tmp_path)
    assert view.pairs[frozenset({"camera.png", "slide.jpg"})].scores["inset"] >= 0.9
    assert view.group_of("slide.jpg") == view.group_of("camera.png") is not None
