"""Faster pixel decoding for PNG and WebP files, the same pixels as Pillow's.

Pillow decodes a PNG 2-3x slower than libspng, and every WebP through its animation decoder;
on collections of screenshots and graphics that was most of a hash-only scan's time.
`imagecodecs` (libspng, libwebp) decodes the plain cases: 8-bit grey, RGB or RGBA, one frame,
no transparency key. Pillow still reads the header (format, size, mode, EXIF) and decodes
everything else (palettes, 16 bits, animations, a file either library rejects), so the
reasons a bad file is skipped stay Pillow's.
"""

from __future__ import annotations

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
    if image.format == "PNG" and _png_exif(data):
        return None  # EXIF after the pixels: Pillow finds it (the orientation) only by decoding
    try:
        import imagecodecs

        decoder = imagecodecs.spng_decode if image.format == "PNG" else imagecodecs.webp_decode
        pixels = decoder(data)
    except Exception:  # not installed, or a file it rejects: Pillow decodes and says why
        return None
    channels = CHANNELS[image.mode]
    shape = (image.height, image.width) + ((channels,) if channels > 1 else ())
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.shape != shape:
        return None
    return np.ascontiguousarray(pixels)


_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def _png_exif(data: bytes) -> bool:
    """Whether a PNG may hold EXIF: an eXIf chunk, or ImageMagick's text chunk of it (walking
    the chunk headers, not searching the whole file); a broken chunk list says yes."""
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"eXIf" or (
            kind in _TEXT_CHUNKS and data[at + 8 : at + 29] == b"Raw profile type exif"
        ):
            return True
        if kind == b"IEND":
            return False
        at += 12 + length
    return True
