"""The faster PNG / WebP decoders give Pillow's pixels, and leave to Pillow what they cannot."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from conftest import make_photo
from PIL import Image, TiffImagePlugin
from PIL.PngImagePlugin import PngInfo

import neardup.decode as decoding
from neardup.decode import Decoded, DecodeSpec, decode
from neardup.pixel_decoders import fast_pixels
from neardup.pixel_modes import exif_orientation
from neardup.records import Skipped


def saved(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def both_ways(
    data: bytes, monkeypatch: pytest.MonkeyPatch, spec: DecodeSpec
) -> tuple[Decoded, Decoded]:
    """`data` decoded with the fast decoders and with Pillow alone."""
    fast = decode(data, "x", spec)
    with monkeypatch.context() as patch:
        patch.setattr(decoding, "fast_pixels", lambda image, data: None)
        slow = decode(data, "x", spec)
    assert isinstance(fast, Decoded) and isinstance(slow, Decoded)
    return fast, slow


def verdicts_agree(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast decoders and Pillow alone: both skip (for the same reason) or both give the
    same working picture, size, trim and pixel hash."""
    fast = decode(data, "x")
    with monkeypatch.context() as patch:
        patch.setattr(decoding, "fast_pixels", lambda image, data: None)
        slow = decode(data, "x")
    if isinstance(slow, Skipped):
        assert isinstance(fast, Skipped) and fast.reason == slow.reason
        return
    assert isinstance(fast, Decoded)
    assert np.array_equal(fast.rgb, slow.rgb) and fast.pixel_hash == slow.pixel_hash
    assert (fast.width, fast.height, fast.trimmed) == (slow.width, slow.height, slow.trimmed)


def upright_like(result: Decoded, expected: Image.Image) -> bool:
    """Whether the decoded working picture is `expected` (already turned), give or take the
    reduction to the working size."""
    small = np.asarray(expected.convert("RGB").resize(result.rgb.shape[1::-1]), np.int16)
    return bool(np.abs(small - result.rgb.astype(np.int16)).mean() < 8)


@pytest.mark.parametrize(
    ("fmt", "mode", "params"),
    [
        ("PNG", "RGB", {}),
        ("PNG", "L", {}),
        ("PNG", "RGBA", {}),
        ("PNG", "RGB", {"optimize": True}),
        ("WEBP", "RGB", {"quality": 80}),
        ("WEBP", "RGB", {"lossless": True}),
        ("WEBP", "RGBA", {"lossless": True}),
        ("WEBP", "RGBA", {"quality": 70}),
    ],
)
def test_same_pixels_as_pillow(
    fmt: str, mode: str, params: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = make_photo("astronaut", 300).convert(mode)
    if mode == "RGBA":  # a transparent hole, composited over white either way
        alpha = np.full((image.height, image.width), 255, np.uint8)
        alpha[100:200, 50:150] = 0
        image.putalpha(Image.fromarray(alpha))
    data = saved(image, fmt, **params)
    opened = Image.open(io.BytesIO(data))
    assert fast_pixels(opened, data) is not None  # this case is the fast decoders'
    for spec in (DecodeSpec(), DecodeSpec(min_side=128), DecodeSpec(full_pixels=True)):
        fast, slow = both_ways(data, monkeypatch, spec)
        assert np.array_equal(fast.rgb, slow.rgb)
        assert (fast.pixel_hash, fast.width, fast.height, fast.trimmed, fast.orientation) == (
            slow.pixel_hash,
            slow.width,
            slow.height,
            slow.trimmed,
            slow.orientation,
        )


def test_png_with_exif_orientation_is_left_to_pillow() -> None:
    image = make_photo("coffee", 200).resize((200, 120))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    data = saved(image, "PNG", exif=exif)
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is None
    result = decode(data, "x", DecodeSpec(min_side=64))
    assert isinstance(result, Decoded)
    assert (result.width, result.height, result.orientation) == (120, 200, 6)
    assert upright_like(result, image.transpose(Image.Transpose.ROTATE_270))


def turned_png(**params: object) -> bytes:
    return saved(make_photo("coffee", 200).resize((200, 120)), "PNG", **params)


def xmp(orientation: int) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        '02/22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        f'tiff:Orientation="{orientation}"/></rdf:RDF></x:xmpmeta>'
    )


def orientation_as_text() -> PngInfo:
    exif = Image.Exif()
    exif[0x0112] = 6
    info = PngInfo()
    info.add_text("exif", b"Exif\x00\x00" + exif.tobytes())
    return info


def orientation_as_xmp() -> PngInfo:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp(6))
    return info


@pytest.mark.parametrize(
    "info", [orientation_as_text, orientation_as_xmp], ids=["text-exif", "xmp"]
)
def test_png_orientation_in_text_chunks_is_left_to_pillow(info: Callable[[], PngInfo]) -> None:
    data = turned_png(pnginfo=info())
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is None
    result = decode(data, "x", DecodeSpec(min_side=64))
    assert isinstance(result, Decoded) and (result.width, result.height) == (120, 200)
    unturned = make_photo("coffee", 200).resize((200, 120))
    assert upright_like(result, unturned.transpose(Image.Transpose.ROTATE_270))


def test_a_png_with_other_text_is_decoded_fast() -> None:
    info = PngInfo()
    info.add_text("Software", "a drawing program")
    data = turned_png(pnginfo=info)
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is not None


def test_a_bad_chunk_after_the_pixels_is_still_reported() -> None:
    data = turned_png()
    end = data.rindex(b"IEND") - 4
    body = b"zTXt" + b"Comment\x00\x01xyz"  # compression method 1: none such
    chunk = (len(body) - 4).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    broken = data[:end] + chunk + data[end:]
    assert fast_pixels(Image.open(io.BytesIO(broken)), broken) is None
    result = decode(broken, "x")
    assert isinstance(result, Skipped) and "compression method" in result.reason


def test_webp_orientation_is_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = saved(make_photo("coffee", 200).resize((200, 120)), "WEBP", exif=exif, quality=90)
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is not None
    fast, slow = both_ways(data, monkeypatch, DecodeSpec(min_side=64))
    assert (fast.width, fast.height, fast.orientation) == (120, 200, 6)
    assert np.array_equal(fast.rgb, slow.rgb)


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        (6, 6),
        (TiffImagePlugin.IFDRational(6, 1), 6),
        (6.0, 6),
        (2.5, 1),
        (9, 1),
        ("6", 1),
        (b"6", 1),
        ("x", 1),
    ],
)
def test_orientation_read_as_exif_transpose_reads_it(stored: object, read: int) -> None:
    class Tagged:
        def getexif(self) -> dict[int, object]:
            return {0x0112: stored}

    assert exif_orientation(Tagged()) == read  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "image",
    [
        Image.new("P", (64, 64), 3),
        Image.new("I;16", (64, 64), 4000),
        Image.new("LA", (64, 64), (10, 200)),
    ],
    ids=["palette", "16-bit", "grey-alpha"],
)
def test_other_modes_are_left_to_pillow(image: Image.Image) -> None:
    data = saved(image, "PNG")
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is None
    assert isinstance(decode(data, "x"), Decoded)


def test_animated_webp_is_left_to_pillow() -> None:
    frames = [make_photo(name, 96).resize((96, 96)) for name in ("astronaut", "coffee")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    data = out.getvalue()
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is None
    result = decode(data, "x")
    assert isinstance(result, Decoded) and "animated" in result.format


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_truncated_file_is_skipped_with_pillows_reason(fmt: str) -> None:
    data = saved(make_photo("astronaut", 256), fmt)
    result = decode(data[: len(data) // 2], "cut")
    assert isinstance(result, Skipped)
    assert "corrupt or truncated" in result.reason or "cannot decode" in result.reason


def test_sixteen_bit_rgb_png_is_left_to_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    import imagecodecs

    pixels = (np.asarray(make_photo("astronaut", 128), np.uint16) * 257).astype(np.uint16)
    data = bytes(imagecodecs.png_encode(pixels))
    opened = Image.open(io.BytesIO(data))
    assert data[24] == 16 and fast_pixels(opened, data) is None  # the bit depth decides
    fast, slow = both_ways(data, monkeypatch, DecodeSpec(min_side=64))
    assert np.array_equal(fast.rgb, slow.rgb)


def test_a_png_the_fast_decoder_rejects_gets_pillows_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bytearray(saved(make_photo("astronaut", 128), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 40] ^= 0xFF  # the pixel data no longer matches its checksum
    broken = bytes(data)
    assert fast_pixels(Image.open(io.BytesIO(broken)), broken) is None
    verdicts_agree(broken, monkeypatch)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _png(ihdr: bytes, *chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(_chunk(kind, data) for kind, data in ((b"IHDR", ihdr), *chunks))
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def test_an_interlaced_png_decodes_to_the_same_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adam7 (Pillow writes no interlaced PNG: built here pass by pass)."""
    pixels = np.asarray(make_photo("astronaut", 96))
    height, width = pixels.shape[:2]
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2)]
    rows = [
        b"\0" + row.tobytes()
        for x, y, dx, dy in [*passes, (0, 1, 1, 2)]
        for row in pixels[y::dy, x::dx]
        if pixels[y::dy, x::dx].size
    ]
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 1])
    data = _png(ihdr, (b"IDAT", zlib.compress(b"".join(rows))))
    verdicts_agree(data, monkeypatch)
    decoded = decode(data, "x", DecodeSpec(min_side=1 << 20))
    assert isinstance(decoded, Decoded) and np.array_equal(decoded.rgb, pixels)


def test_damaged_pngs_and_webps_get_pillows_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pixel data split, short, long, with a bad filter byte or checksum, and seeded random
    byte damage: never a picture Pillow would refuse, never other pixels."""
    photo = make_photo("astronaut", 120)
    good = saved(photo, "PNG")
    ihdr = good[16:29]
    raw = zlib.decompress(b"".join(data for kind, data in _chunks(good) if kind == b"IDAT"))
    pixels = zlib.compress(raw)
    bad_filter = bytes([9]) + raw[1:]
    damaged = [
        _png(ihdr, *[(b"IDAT", pixels[i : i + 700]) for i in range(0, len(pixels), 700)]),
        _png(ihdr, (b"IDAT", zlib.compress(raw[:-300]))),
        _png(ihdr, (b"IDAT", zlib.compress(raw + bytes(500)))),
        _png(ihdr, (b"IDAT", zlib.compress(bad_filter))),
        _png(ihdr, (b"IDAT", pixels[:-2] + bytes([pixels[-2] ^ 0xFF, pixels[-1]]))),
        _png(ihdr, (b"gAMA", (45455).to_bytes(4, "big")), (b"IDAT", pixels)),
        good[:-12],  # no IEND
    ]
    rng = np.random.default_rng(11)
    for original in (good, saved(photo.convert("RGBA"), "PNG"), saved(photo, "WEBP")):
        for _ in range(25):
            data = bytearray(original)
            for at in rng.integers(33, len(data), rng.integers(1, 5)):
                data[at] = int(rng.integers(0, 256))
            damaged.append(bytes(data))
    for data in damaged:
        verdicts_agree(data, monkeypatch)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    at, out = 8, []
    while at + 8 <= len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        out.append((png[at + 4 : at + 8], png[at + 8 : at + 8 + length]))
        at += 12 + length
    return out
