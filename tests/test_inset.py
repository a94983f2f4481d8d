"""The picture inside a frame (`neardup.features.inset`): found in a phone's or a window's
screenshot and on a page, not in photographs or grids, and used so that a scan finds a
screenshot of a picture that fills a third of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import FileMaker, ScanView, make_photo, near
from PIL import Image, ImageDraw

import neardup
import neardup.index.neighbours
from neardup import scoring
from neardup.decode import DecodeSpec, decode
from neardup.features.inset import find_inset
from neardup.index.catalog import ImageIndex


def phone(picture: Image.Image, width: int = 300, height: int = 620, top: int = 190) -> tuple:
    """`picture` shown across a dark phone screen (its body's outline, the time, three bars
    under it), and where it is."""
    canvas = Image.new("RGB", (width, height), (24, 24, 28))
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((3, 3, width - 4, height - 4), radius=28, outline=(90, 90, 96), width=3)
    draw.text((20, 16), "20:59", fill=(230, 230, 230))
    inner = width - 30
    shown = picture.resize(
        (inner, round(picture.height * inner / picture.width)), Image.Resampling.LANCZOS
    )
    canvas.paste(shown, (15, top))
    y = top + shown.height + 24
    for _ in range(3):
        draw.rounded_rectangle((15, y, width - 16, y + 44), radius=10, fill=(70, 72, 80))
        y += 58
    return canvas, (15, top, 15 + inner, top + shown.height)


def window(picture: Image.Image) -> tuple:
    """`picture` in an image viewer's pane: a title bar, a side bar of names, a status line."""
    canvas = Image.new("RGB", (640, 500), (46, 47, 52))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 639, 26), fill=(30, 30, 34))
    draw.text((260, 7), "IMG_5055.jpg - Image Viewer", fill=(220, 220, 220))
    for n in range(14):
        draw.text((10, 40 + 24 * n), ["Camera", "Pictures", "Desktop"][n % 3], fill=(200, 200, 200))
    shown = picture.resize((400, round(picture.height * 400 / picture.width)))
    canvas.paste(shown, (190, 40))
    draw.text((10, 480), "980 x 920 : 72 %", fill=(200, 200, 200))
    return canvas, (190, 40, 590, 40 + shown.height)


@pytest.mark.parametrize("frame", [phone, window])
def test_the_picture_in_a_screenshot_is_found(frame) -> None:  # type: ignore[no-untyped-def]
    shot, box = frame(make_photo("astronaut", 512))
    assert near(find_inset(np.asarray(shot)), box)


def test_the_picture_is_found_at_the_size_features_decode(tmp_path: Path) -> None:
    # Reduced to 224 pixels a side, each side of the picture falls between two pixels.
    shot, box = phone(make_photo("astronaut", 512))
    shot.save(tmp_path / "shot.jpg", quality=85)
    decoded = decode((tmp_path / "shot.jpg").read_bytes(), "shot.jpg", DecodeSpec(min_side=224))
    assert not isinstance(decoded, neardup.Skipped)
    left, top, _, bottom = decoded.trimmed or (0, 0, 0, 0)
    scale = decoded.rgb.shape[0] / (shot.height - top - bottom)
    expected = (
        (box[0] - left) * scale,
        (box[1] - top) * scale,
        (box[2] - left) * scale,
        (box[3] - top) * scale,
    )
    assert near(find_inset(decoded.rgb), expected)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "camera"])
def test_photographs_have_no_inset(name: str) -> None:
    assert find_inset(np.asarray(make_photo(name, 320))) is None


def test_a_ruled_grid_has_no_one_inset() -> None:
    grid = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(grid)
    for x in range(0, 400, 25):
        draw.line((x, 0, x, 299), fill="black", width=2)
    for y in range(0, 300, 25):
        draw.line((0, y, 399, y), fill="black", width=2)
    assert find_inset(np.asarray(grid)) is None


def test_a_phone_screenshot_of_a_picture_is_found(tmp_path: Path, make: FileMaker) -> None:
    original = make_photo("astronaut", 512)
    make.image(tmp_path / "astronaut.png", original)
    make.image(tmp_path / "shot.jpg", phone(original)[0], quality=85)
    make.image(tmp_path / "coffee.jpg", "coffee", side=400)
    make.image(tmp_path / "chelsea.jpg", "chelsea", side=400)
    view = ScanView(neardup.scan([tmp_path], cache=False), tmp_path)
    pair = view.pairs[frozenset({"astronaut.png", "shot.jpg"})]
    # Measured: the whole screenshot's cosine with the picture is 0.39 (no verdict without
    # the check); its inset's is above `INSET_CHECK`, and the check finds the picture.
    assert pair.scores["inset"] >= scoring.INSET_CHECK
    assert pair.confidence >= scoring.PRESETS["default"]
    assert pair.similarity < 0.6  # the files, as a whole, are not alike
    assert view.group_of("shot.jpg") == view.group_of("astronaut.png")


def test_the_index_finds_the_screenshot_as_scan_does(tmp_path: Path, make: FileMaker) -> None:
    """One pipeline: the stored inset views propose the pair in the index as in a scan. The
    whole screenshot's cosine with the picture (0.24) is below the candidate floor: only the
    inset view makes the pair a candidate."""
    folder = tmp_path / "pictures"
    original = make_photo("chelsea", 512)
    make.image(folder / "chelsea.png", original)
    make.image(folder / "shot.jpg", phone(original)[0], quality=85)
    for name in ("coffee", "astronaut", "rocket"):
        make.image(folder / f"{name}.jpg", name, side=400)
    cache = tmp_path / "features.sqlite"
    # Every scored pair listed (threshold 0): which pairs were proposed, not their verdicts.
    scanned = neardup.scan([folder], cache=cache, workers=1, threshold=0.0)
    index, _ = ImageIndex.build(tmp_path / "idx", [str(folder)], cache=cache, workers=1)
    with index:
        listed = index.duplicates(threshold=0.0)
    for result in (scanned, listed):
        pairs = {
            frozenset(Path(result.images[i].path).name for i in (p.a, p.b)): p for p in result.pairs
        }
        pair = pairs[frozenset({"chelsea.png", "shot.jpg"})]
        assert pair.scores["sscd_distilled"] < neardup.index.neighbours.FLOOR
        assert pair.scores["inset"] >= 0.9


def test_a_screenshot_sharing_a_fifth_of_its_frame_is_judged_by_its_inset(
    tmp_path: Path, make: FileMaker
) -> None:
    """The check finds the photograph whole inside the screenshot but sharing 27 % of its
    frame; the fitted model, reading that frame and the whole screenshot's cosine (0.23),
    said 0.84 (not a copy at default). Judged as the inset and the photograph it is one; the
    pair's similarity stays what the two files share, and the photograph is kept although
    the screenshot has more pixels."""
    original = make_photo("chelsea", 512)
    make.image(tmp_path / "chelsea.png", original)
    make.image(tmp_path / "shot.jpg", phone(original)[0], quality=85)
    make.image(tmp_path / "coffee.jpg", "coffee", side=400)
    result = neardup.scan([tmp_path], cache=False)
    view = ScanView(result, tmp_path)
    pair = view.pairs[frozenset({"chelsea.png", "shot.jpg"})]
    assert pair.scores["geometry"] < 0.35 and pair.scores["aligned"] >= 0.95
    assert pair.confidence >= scoring.PRESETS["default"]
    assert pair.similarity == pytest.approx(pair.scores["sscd_distilled"], abs=1e-3)
    assert pair.similarity < 0.35
    assert [view.name(result.images[g.keeper].path) for g in result.groups] == ["chelsea.png"]
    compared = neardup.compare(tmp_path / "chelsea.png", tmp_path / "shot.jpg")
    # `compare` makes no groups: it reports the pair's own confidence (`group_confidence`).
    assert compared.confidence == pair.own_confidence


def slide(picture: Image.Image, share: float = 0.1) -> Image.Image:
    """`picture` on a presentation slide: a title, the picture centred at `share` of its area."""
    canvas = Image.new("RGB", (1280, 720), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.text((80, 40), "Quarterly results: field photographs", fill=(20, 20, 20))
    draw.rectangle((0, 690, 1279, 719), fill=(30, 60, 120))
    side = (share * 1280 * 720 / (picture.width * picture.height)) ** 0.5
    shown = picture.resize((round(picture.width * side), round(picture.height * side)))
    canvas.paste(shown, ((1280 - shown.width) // 2, (720 - shown.height) // 2))
    return canvas


def test_compare_gives_one_verdict_whichever_file_comes_first(
    tmp_path: Path, make: FileMaker
) -> None:
    """A tester's cat on a slide: checked from the slide's corners into the cat the check found
    nothing (0.14), the other way the cat (0.99); so the verdict, and a scan's, followed the
    order of the files. The picture is now matched into its screenshot either way."""
    make.image(tmp_path / "chelsea.jpg", make_photo("chelsea", 512), quality=92)
    make.image(tmp_path / "slide.png", slide(make_photo("chelsea", 512)))
    ab = neardup.compare(tmp_path / "chelsea.jpg", tmp_path / "slide.png")
    ba = neardup.compare(tmp_path / "slide.png", tmp_path / "chelsea.jpg")
    assert ab.confidence == ba.confidence >= scoring.PRESETS["default"]
    for name in ("a_slide.png", "z_slide.png"):  # the screenshot before, then after, by name
        folder = tmp_path / name.removesuffix(".png")
        folder.mkdir()
        (folder / "chelsea.jpg").write_bytes((tmp_path / "chelsea.jpg").read_bytes())
        (folder / name).write_bytes((tmp_path / "slide.png").read_bytes())
        found = neardup.scan([folder], cache=False).pairs
        assert [p.own_confidence for p in found] == [ab.confidence]


def test_a_check_is_stored_in_the_order_it_ran(tmp_path: Path, make: FileMaker) -> None:
    """A reviewer: the check ran picture first but its finding was stored under the pair's
    file order, so a later run that checked the other way read this one's finding."""
    folder = tmp_path / "pictures"
    make.image(folder / "chelsea.jpg", make_photo("chelsea", 512), quality=92)
    make.image(folder / "a_slide.png", slide(make_photo("chelsea", 512)))  # first by name
    cache = tmp_path / "cache.sqlite"
    result = neardup.scan([folder], cache=cache)
    hashes = {Path(f.path).name: f.bytes_hash for f in result.images}
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT a, b FROM pairs WHERE kind LIKE 'check/%'").fetchall()
    assert rows == [(hashes["chelsea.jpg"], hashes["a_slide.png"])]


def test_copies_of_a_screenshot_do_not_make_it_the_keeper(tmp_path: Path, make: FileMaker) -> None:
    """A reviewer: three copies of a screenshot are more like one another than the picture
    they show is like them, so the picture was the least central image of its group and a
    screenshot was kept: `act` would have trashed the picture."""
    original = make_photo("chelsea", 512)
    make.image(tmp_path / "chelsea.png", original)
    shot = phone(original)[0]
    for quality in (95, 85, 75):
        make.image(tmp_path / f"shot_q{quality}.jpg", shot, quality=quality)
    result = neardup.scan([tmp_path], cache=False)
    view = ScanView(result, tmp_path)
    assert [len(g.members) for g in result.groups] == [3]
    assert view.name(result.images[result.groups[0].keeper].path) == "chelsea.png"
