"""Decoding: borders, orientation, colour modes, reduction, pixel hashes, and never raising."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image

import neardup
from neardup.borders import find_borders, symmetric_only
from neardup.decode import Decoded, DecodeSpec, decode, pixel_hash_of
from neardup.records import Skipped

if TYPE_CHECKING:
    from conftest import FileMaker

Photo = Callable[..., Image.Image]


def decoded(data: bytes, spec: DecodeSpec | None = None) -> Decoded:
    result = decode(data, "test", spec or DecodeSpec())
    assert isinstance(result, Decoded), result
    return result


def boxed(image: Image.Image, size: tuple[int, int], colour: tuple[int, int, int]) -> Image.Image:
    """`image` centred on a `size` canvas of `colour` (letterbox or pillarbox bars)."""
    canvas = Image.new("RGB", size, colour)
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


# --- borders ---------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (8, 10, 6)])
def test_letterbox_is_trimmed(photo: Photo, make: FileMaker, colour: tuple[int, int, int]) -> None:
    picture = photo("coffee", 300)  # 300 x 200: bars of 50 px above and below
    result = decoded(make.encode(boxed(picture, (300, 300), colour), "PNG"))
    assert result.trimmed is not None
    left, top, right, bottom = result.trimmed
    assert (left, right) == (0, 0)
    assert top == pytest.approx(50, abs=2) and bottom == pytest.approx(50, abs=2)
    assert (result.width, result.height) == (300, 300)  # the file's size, not the trimmed one
    h, w = result.rgb.shape[:2]
    assert w / h == pytest.approx(1.5, rel=0.03)


def test_pillarbox_jpeg_is_trimmed(photo: Photo, make: FileMaker) -> None:
    picture = photo("rocket", 200).resize((200, 200))
    result = decoded(make.encode(boxed(picture, (360, 200), (0, 0, 0)), "JPEG"))
    assert result.trimmed is not None
    left, top, right, bottom = result.trimmed
    assert (top, bottom) == (0, 0)
    assert left == pytest.approx(80, abs=3) and right == pytest.approx(80, abs=3)


def test_bordered_copy_matches_its_source(tmp_path: Path, photo: Photo, make: FileMaker) -> None:
    picture = photo("coffee", 300)
    make.image(tmp_path / "plain.png", picture)
    make.image(tmp_path / "letterboxed.jpg", boxed(picture, (300, 300), (0, 0, 0)))
    result = neardup.compare(tmp_path / "plain.png", tmp_path / "letterboxed.jpg")
    assert result.similarity is not None and result.similarity >= 0.9
    assert result.scores["pdq"] >= 0.85
    assert result.scores["sscd_distilled"] >= 0.85
    assert result.verdicts == {"strict": True, "default": True, "loose": True}


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket", "camera", "coins"])
def test_plain_photo_is_not_trimmed(photo: Photo, make: FileMaker, name: str) -> None:
    assert decoded(make.encode(photo(name, 300), "PNG")).trimmed is None


@pytest.mark.parametrize("colour", [(200, 30, 30), (128, 128, 128), (30, 90, 200)])
def test_coloured_borders_are_trimmed(
    photo: Photo, make: FileMaker, colour: tuple[int, int, int]
) -> None:
    framed = boxed(photo("coffee", 300), (300, 300), colour)
    result = decoded(make.encode(framed, "JPEG"))
    assert result.trimmed is not None
    left, top, right, bottom = result.trimmed
    assert (left, right) == (0, 0)
    assert top == pytest.approx(50, abs=3) and bottom == pytest.approx(50, abs=3)


def test_one_sided_odd_width_border_is_trimmed(photo: Photo, make: FileMaker) -> None:
    picture = photo("chelsea", 300)
    padded = Image.new("RGB", (picture.width + 37, picture.height), (90, 160, 40))
    padded.paste(picture, (37, 0))
    result = decoded(make.encode(padded, "JPEG"))
    assert result.trimmed is not None
    left, top, right, bottom = result.trimmed
    assert left == pytest.approx(37, abs=3) and (top, right, bottom) == (0, 0, 0)


def test_wide_borders_leave_the_content(photo: Photo, make: FileMaker) -> None:
    picture = photo("coffee", 200)  # 200 x 133 inside a 200 x 400 canvas: bars of 30 % each
    result = decoded(make.encode(boxed(picture, (200, 400), (250, 250, 250)), "PNG"))
    assert result.trimmed is not None
    h, w = result.rgb.shape[:2]
    assert w / h == pytest.approx(1.5, rel=0.05)


def test_thin_lines_are_not_borders() -> None:
    rgb = np.random.default_rng(1).integers(60, 190, (200, 200, 3), dtype=np.uint8)
    rgb[0, :] = 0  # one black line: under 1 % of the side
    assert find_borders(rgb) is None
    rgb[:10, :] = 0
    assert find_borders(rgb) == (0, 10, 0, 0)


@pytest.mark.parametrize("value", [0, 255])
def test_flat_image_decodes_and_is_not_trimmed(make: FileMaker, value: int) -> None:
    flat = Image.new("RGB", (200, 150), (value, value, value))
    result = decoded(make.encode(flat, "PNG"))
    assert result.trimmed is None
    assert result.rgb.shape == (150, 200, 3)
    assert int(result.rgb.min()) == int(result.rgb.max()) == value


def test_all_white_image_can_be_scanned(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "white.png", Image.new("RGB", (200, 150), "white"))
    make.image(tmp_path / "photo.png", "astronaut", 200)
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert result.skipped == [] and len(result.images) == 2
    white = next(f for f in result.images if f.path.endswith("white.png"))
    assert white.trimmed is None
    assert white.pdq_quality < 50  # a flat picture's PDQ hash is marked unreliable
    assert result.pairs == []


@pytest.mark.parametrize("size", [(1, 1), (3, 40), (8, 8), (15, 15)])
def test_tiny_images_decode(make: FileMaker, size: tuple[int, int]) -> None:
    image = Image.new("RGB", size, (10, 200, 30))
    for fmt in ("PNG", "JPEG", "GIF"):
        result = decoded(make.encode(image, fmt))
        assert (result.width, result.height) == size
        assert result.rgb.shape[:2] == (size[1], size[0])


# --- size and reduction ----------------------------------------------------------------------


def test_large_image_is_reduced_small_one_kept(photo: Photo, make: FileMaker) -> None:
    big = decoded(make.encode(photo("coffee", 400), "PNG"))  # 400 x 267
    assert (big.width, big.height) == (400, 267)
    assert min(big.rgb.shape[:2]) == 256
    small = decoded(make.encode(photo("coffee", 120), "PNG"))
    assert small.rgb.shape[:2] == (80, 120)  # never enlarged


def test_max_pixels_boundary(photo: Photo, make: FileMaker) -> None:
    data = make.encode(photo("astronaut", 64), "PNG")  # 64 x 64 = 4096 pixels
    assert isinstance(decode(data, "x", DecodeSpec(max_pixels=4096)), Decoded)
    refused = decode(data, "x", DecodeSpec(max_pixels=4095))
    assert isinstance(refused, Skipped)
    assert refused.reason.startswith("decompression bomb: claims 64 x 64 = 4,096 pixels")
    assert "--max-pixels" in refused.reason


def test_forged_bomb_header_is_refused_before_decoding(tmp_path: Path, make: FileMaker) -> None:
    for path in (make.bomb_png(tmp_path / "b.png"), make.bomb_gif(tmp_path / "b.gif")):
        result = decode(path.read_bytes(), str(path))
        assert isinstance(result, Skipped)
        assert "3,600,000,000 pixels" in result.reason


# --- orientation -----------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(
    tmp_path: Path, photo: Photo, make: FileMaker, orientation: int
) -> None:
    upright = photo("coffee", 300)  # 300 x 200
    reference = decoded(make.encode(upright, "JPEG", quality=92))
    path = make.exif_rotated(tmp_path / "turned.jpg", upright, orientation)
    result = decoded(path.read_bytes())
    assert (result.width, result.height) == (300, 200)
    assert result.rgb.shape == reference.rgb.shape
    difference = np.abs(result.rgb.astype(int) - reference.rgb.astype(int)).mean()
    assert difference < 6  # JPEG noise only; a wrong turn differs by tens
    with Image.open(path) as stored:
        wrong = np.asarray(stored.convert("RGB").resize(upright.size), dtype=int)
    assert np.abs(wrong - reference.rgb.astype(int)).mean() > 20


# --- colour modes ----------------------------------------------------------------------------


def test_sixteen_bit_grey_is_scaled_to_eight_bits(photo: Photo, make: FileMaker) -> None:
    grey = np.asarray(photo("chelsea", 240).convert("L"), dtype=np.uint16)
    result = decoded(make.encode(Image.fromarray(grey * 257), "PNG"))
    assert np.array_equal(result.rgb[..., 0], result.rgb[..., 2])
    assert int(np.abs(result.rgb[..., 0].astype(int) - grey).max()) <= 1


def test_transparent_pixels_become_white(make: FileMaker) -> None:
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # transparent black
    rgba.paste((10, 120, 200, 255), (0, 0, 32, 64))
    result = decoded(make.encode(rgba, "PNG"), DecodeSpec(trim=False))
    assert result.rgb[0, 63].tolist() == [255, 255, 255]
    assert result.rgb[0, 0].tolist() == [10, 120, 200]
    palette = rgba.convert("RGB").quantize(4)
    index = palette.getpixel((63, 0))
    result = decoded(make.encode(palette, "PNG", transparency=index), DecodeSpec(trim=False))
    assert result.rgb[0, 63].tolist() == [255, 255, 255]


def test_cmyk_jpeg_keeps_its_colours(photo: Photo, make: FileMaker) -> None:
    picture = photo("coffee", 240)
    reference = decoded(make.encode(picture, "JPEG"))
    result = decoded(make.encode(picture.convert("CMYK"), "JPEG"))
    assert np.abs(result.rgb.astype(int) - reference.rgb.astype(int)).mean() < 12


def test_animated_gif_first_frame(photo: Photo) -> None:
    first, second = photo("coins", 120), photo("clock", 120)
    second = second.resize(first.size)
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second])
    result = decoded(buffer.getvalue())
    assert result.format == "GIF (animated: first frame)"
    expected = np.asarray(first.convert("L"), dtype=int)
    got = np.asarray(Image.fromarray(result.rgb).convert("L"), dtype=int)
    assert np.abs(got - expected).mean() < 12


def test_a_multi_page_tiff_is_read_by_its_first_page(photo: Photo) -> None:
    """Not "animated: first frame" (a tester): a TIFF's frames are pages."""
    first, second = photo("coins", 120).convert("RGB"), photo("clock", 120).convert("RGB")
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[second.resize(first.size)])
    result = decoded(buffer.getvalue())
    assert result.format == "TIFF (multi-page: first page)"
    assert (result.width, result.height) == first.size


# --- pixel hash and JPEG DCT scaling ---------------------------------------------------------


def test_large_jpeg_is_dct_scaled_without_pixel_hash(photo: Photo, make: FileMaker) -> None:
    data = make.encode(photo("astronaut", 512), "JPEG")
    fast = decoded(data)
    assert fast.pixel_hash is None
    assert fast.rgb.shape == (256, 256, 3)
    full = decoded(data, DecodeSpec(full_pixels=True))
    assert full.pixel_hash is not None and full.pixel_hash == pixel_hash_of(data)


def test_pixel_hash_is_about_pixels_not_bytes(photo: Photo, make: FileMaker) -> None:
    picture = photo("chelsea", 200)
    png, bmp = make.encode(picture, "PNG"), make.encode(picture, "BMP")
    assert png != bmp
    assert decoded(png).pixel_hash == decoded(bmp).pixel_hash == pixel_hash_of(png)
    changed = picture.copy()
    changed.putpixel((0, 0), (0, 0, 1) if picture.getpixel((0, 0)) != (0, 0, 1) else (0, 0, 2))
    assert decoded(make.encode(changed, "PNG")).pixel_hash != decoded(png).pixel_hash
    assert pixel_hash_of(b"not an image") is None


# --- bad bytes never raise -------------------------------------------------------------------


def test_decode_never_raises_on_damaged_files(photo: Photo, make: FileMaker) -> None:
    picture = photo("rocket", 96)
    rng = np.random.default_rng(7)
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"):
        whole = make.encode(picture, fmt)
        assert isinstance(decode(whole, fmt), Decoded)
        for cut in sorted({1, 2, 8, 16, 33, len(whole) // 3, len(whole) // 2, len(whole) - 1}):
            result = decode(whole[:cut], fmt)
            assert isinstance(result, (Decoded, Skipped))
        for _ in range(5):
            damaged = bytearray(whole)
            spots = rng.integers(0, len(damaged), 8)
            for spot in spots:
                damaged[int(spot)] ^= 0xFF
            assert isinstance(decode(bytes(damaged), fmt), (Decoded, Skipped))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b"just some text\n" * 10, "holds text"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt"),
        (bytes(range(256)) * 4, "unrecognised"),
        # Vector art, not "text" (a tester); `scan` lists .svg files as skipped with it.
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG (vector)"),
        (gzip.compress(b'<svg xmlns="http://www.w3.org/2000/svg"/>', mtime=0), "SVG (vector)"),
        # A web page with an inline icon is not one (a review).
        (b"<!DOCTYPE html><html><body><svg></svg>" + b"<p>text</p>" * 40, "holds text"),
    ],
)
def test_bad_bytes_give_a_reason(data: bytes, words: str) -> None:
    result = decode(data, "x.png")
    assert isinstance(result, Skipped)
    assert words in result.reason


def test_small_pictures_are_not_trimmed_so_their_copies_match(tmp_path: Path) -> None:
    """An icon on a flat background: its flat rows end at a shape's sharp edge, like a border.
    A JPEG copy softens that edge over a block, so the two would be trimmed differently (the
    PNG at the edge, the JPEG not at all) and the copy missed. Originals under
    `MIN_TRIM_SIDE` are not trimmed; larger ones still are."""
    import io

    from PIL import ImageDraw

    import neardup
    from neardup.decode import MIN_TRIM_SIDE

    def drawing(side: int) -> Image.Image:
        icon = Image.new("RGB", (64, 64), (30, 60, 200))
        draw = ImageDraw.Draw(icon)
        draw.ellipse((6, 26, 40, 60), fill=(220, 40, 40))
        draw.rectangle((30, 24, 62, 44), fill=(250, 220, 0))
        return icon.resize((side, side), Image.Resampling.NEAREST)

    icon = drawing(64)
    icon.save(tmp_path / "icon.png")
    buffer = io.BytesIO()
    icon.save(buffer, "JPEG", quality=90)
    (tmp_path / "icon_q90.jpg").write_bytes(buffer.getvalue())
    for name in ("icon.png", "icon_q90.jpg"):
        found = decode((tmp_path / name).read_bytes(), name)
        assert isinstance(found, Decoded) and found.trimmed is None
    big = drawing(4 * MIN_TRIM_SIDE)
    assert find_borders(np.asarray(big)) is not None  # the rule, not the finder, spares icons
    result = neardup.scan([tmp_path], cache=False, workers=1, differences="none")
    assert len(result.groups) == 1 and len(result.pairs) == 1
    # A small thumbnail of a pillarboxed frame keeps its matching bars trimmed, as its
    # large original is: the two still compare by the picture inside.
    from conftest import encode, make_photo

    photo = make_photo("rocket").convert("RGB").resize((240, 180))
    frame = Image.new("RGB", (320, 180))
    frame.paste(photo, (40, 0))
    thumb = frame.resize((96, 54), Image.Resampling.LANCZOS)
    found = decode(encode(thumb, "JPEG", quality=85), "thumb.jpg")
    assert isinstance(found, Decoded) and found.trimmed is not None
    left, top, right, bottom = found.trimmed
    assert top == bottom == 0 and abs(left - right) <= 2 and left >= 10
    assert symmetric_only((12, 0, 11, 0)) == (12, 0, 11, 0)
    assert symmetric_only((0, 24, 5, 0)) is None and symmetric_only((13, 0, 18, 0)) is None


def test_a_lossless_jpeg_is_read_though_it_cannot_be_dct_scaled(photo: Photo) -> None:
    """A lossless JPEG (SOF3) has no DCT to scale: read at a reduced size it failed with
    "broken data stream" and was skipped as corrupt (a tester). It is read whole instead."""
    import imagecodecs

    pixels = np.asarray(photo("astronaut", 512))
    data = imagecodecs.jpeg8_encode(pixels, lossless=True)
    result = decode(data, "lossless.jpg", DecodeSpec(min_side=128))
    assert isinstance(result, Decoded), result
    assert result.full and (result.width, result.height) == (512, 512)


def test_a_truncated_jpeg_is_not_decoded_again_whole(
    photo: Photo, make: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lossless-JPEG fallback reads a file whole when a reduced read fails; a file cut
    short fails whole too, so it is not tried (it cost a second full decode)."""
    data = make.encode(photo("astronaut", 512), "JPEG")[:-3000]
    opened: list[int] = []
    real_open = Image.open

    def counting(*args: Any, **kw: Any) -> Any:
        opened.append(1)
        return real_open(*args, **kw)

    monkeypatch.setattr("neardup.decode.Image.open", counting)
    assert isinstance(decode(data, "cut.jpg", DecodeSpec(min_side=128)), Skipped)
    assert len(opened) == 2  # the file, then its last block (`jpeg_end.refusal`); not a third
