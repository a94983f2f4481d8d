"""The faster PNG / WebP decoders give Pillow's pixels, and leave to Pillow what they cannot."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import make_photo
from PIL import Image

import neardup.decode as decoding
from neardup.decode import Decoded, DecodeSpec, decode
from neardup.pixel_decoders import fast_pixels
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


def test_png_with_exif_orientation_is_left_to_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    image = make_photo("coffee", 200).resize((200, 120))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    data = saved(image, "PNG", exif=exif)
    assert fast_pixels(Image.open(io.BytesIO(data)), data) is None
    fast, slow = both_ways(data, monkeypatch, DecodeSpec(min_side=64))
    assert (fast.width, fast.height, fast.orientation) == (120, 200, 6)
    assert np.array_equal(fast.rgb, slow.rgb)


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
