"""Faster pixel decoding for PNG and WebP files, the same pixels as Pillow's.

Pillow decodes a PNG 2-3x slower than libspng, and every WebP through its animation decoder;
on collections of screenshots and graphics that was most of a hash-only scan's time.
`imagecodecs` (libspng, libwebp) decodes the plain cases: 8-bit grey, RGB or RGBA, one frame,
no transparency key. Pillow still reads the header (format, size, mode, EXIF) and decodes
everything else (palettes, 16 bits, animations, a file either library rejects), so the
reasons a bad file is skipped stay Pillow's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
"""Pillow modes decoded here, with the channels the decoder must return for them."""


def fast_pixels(image: Image.Image, data: bytes) -> npt.NDArray[np.uint8] | None:
    """The pixels of `image` (opened from `data`, not yet loaded) as Pillow would give them in
    its mode (H x W, or H x W x channels), or None where Pillow should decode it."""
    if image.format not in ("PNG", "WEBP") or image.mode not in CHANNELS:
        return None
    if getattr(image, "n_frames", 1) > 1 or "transparency" in image.info:
        return None
    if image.format == "PNG" and not _plain_png(data):
        return None
    decoder = _decoder(image.format)
    if decoder is None:
        return None
    try:
        pixels = decoder(data)
    except Exception:  # a file it rejects: Pillow decodes it, and says why it cannot
        return None
    channels = CHANNELS[image.mode]
    shape = (image.height, image.width) + ((channels,) if channels > 1 else ())
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.shape != shape:
        return None
    return np.ascontiguousarray(pixels)


@cache
def _decoder(fmt: str) -> Callable[[bytes], Any] | None:
    """imagecodecs' decoder for the format; None where imagecodecs is not installed."""
    try:
        import imagecodecs
    except Exception:  # not installed, or a broken install: Pillow decodes everything
        return None
    return imagecodecs.spng_decode if fmt == "PNG" else imagecodecs.webp_decode  # type: ignore[no-any-return]


_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_EXIF_KEYWORDS = (b"exif\0", b"Raw profile type exif\0", b"XML:com.adobe.xmp\0")
"""Text chunks Pillow reads an orientation from (`Image.getexif`: EXIF as text, XMP)."""


def _plain_png(data: bytes) -> bool:
    """Whether a PNG's chunks leave nothing to Pillow (walking the chunk headers only): 8 bits
    a sample; no EXIF (an eXIf chunk, or a text chunk Pillow reads an orientation from); and
    nothing after the pixel data but IEND, since Pillow reads (and may reject) such chunks
    only when it decodes."""
    if len(data) < 33 or data[24] != 8:  # IHDR's bit depth
        return False
    at, seen_pixels = 8, False
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"IEND":
            return True
        if kind == b"eXIf" or (
            kind in _TEXT_CHUNKS and data[at + 8 : at + 8 + length].startswith(_EXIF_KEYWORDS)
        ):
            return False
        if kind == b"IDAT":
            seen_pixels = True
        elif seen_pixels:
            return False
        at += 12 + length
    return False  # no IEND: a truncated file, for Pillow to report
