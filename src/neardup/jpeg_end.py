"""A JPEG that lacks only its end marker, told from one cut short.

Some writers omit the end-of-image marker (FFD9), and a copy can lose just its last two bytes;
every viewer shows such a file whole, while Pillow refuses it as truncated. `with_end` gives
the bytes with the marker appended where that is safe to try: one baseline scan, so the last
block the decoder fills is the picture's last (bottom-right) block. Where data is truly
missing, libjpeg fills every missing block with flat mid-grey, so `missing_tail` finds the
fill in that last block and the file is refused as before. A progressive file is left
refused: a missing refinement scan would only blur it, and nothing in its pixels would say so.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

END = b"\xff\xd9"
_START = b"\xff\xd8"
_SCAN = 0xDA
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
"""Start-of-frame markers of progressive JPEGs (Huffman or arithmetic coded)."""
_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
"""Markers without a length field (TEM, SOI, restart markers)."""
FILL = 128
FILL_SPREAD = 3
"""How far (0-255) from mid-grey the luma of a pixel of the fill may be (rounding in the
colour conversion)."""
GREY_SPREAD = 6
"""Spread between a pixel's channels under which it is grey: the fill's are 0 but at its
edge, which chroma upsampling tints with its neighbours' colour."""


MISSING = "truncated JPEG: data is missing before its end (its last block is the decoder's fill)"
_UNTOLD = "it cannot be told from one cut short, so it is not read"


def cut_short(error: OSError | None, mode: str | None = None) -> str:
    """Why a JPEG whose data ends early is refused, where `with_end` cannot help: its end
    marker is there (`error`, the decoder's), or it has none and is progressive, of several
    scans (`error` None), or of a `mode` whose fill cannot be told (CMYK)."""
    if error is not None:
        return f"truncated or corrupt JPEG: its data ends early ({error})"
    kind = f"a {mode}" if mode else "a progressive or multi-scan"
    return f"truncated JPEG, or {kind} one without its end marker: {_UNTOLD}"


def with_end(data: bytes) -> bytes | None:
    """`data` with the end marker appended, when it is a JPEG without one whose frame is one
    baseline scan; None otherwise (not a JPEG, already ended, progressive, several scans)."""
    if not data.startswith(_START) or data.endswith(END):
        return None
    scan = _first_scan(data)
    if scan is None or data.find(bytes((0xFF, _SCAN)), scan + 2) != -1:
        return None  # several scans (or an unreadable header): the last block is not last
    return data + END


def _first_scan(data: bytes) -> int | None:
    """Offset of the first start-of-scan marker, walking the header's segments (an EXIF
    thumbnail inside an APP1 segment is skipped with it); None for a progressive frame."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill bytes before a marker
            pos += 1
        elif marker == _SCAN:
            return pos
        elif marker in _PROGRESSIVE:
            return None
        elif marker in _STANDALONE:
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def refusal(ended: bytes, max_pixels: int) -> str | None:
    """Why `ended` (`with_end`'s bytes) is refused, or None: read whole, so every decode size
    (DCT-scaled for the features, whole for a pixel hash) decides alike. A picture over
    `max_pixels` is left to the caller's decompression-bomb refusal, unread."""
    with Image.open(io.BytesIO(ended)) as image:
        if image.width * image.height > max_pixels:
            return None
        if image.mode not in ("L", "RGB"):
            return cut_short(None, image.mode)
        image.load()
        return MISSING if missing_tail(image, image.width) else None


def missing_tail(image: Image.Image, full_width: int) -> bool:
    """Whether the last block of a decoded JPEG (`image`, loaded, maybe DCT-scaled from a
    frame `full_width` wide) is libjpeg's flat mid-grey fill for missing data."""
    scale = max(1, round(full_width / max(1, image.width)))
    side = max(1, 8 // scale)  # one 8 x 8 block at the decoded scale
    pixels = np.asarray(image)
    # Blocks tile the frame from its top left: the last one may show only in part.
    top, left = (image.height - 1) // side * side, (image.width - 1) // side * side
    tail = pixels[top:, left:].astype(np.float32)
    if tail.ndim == 2:
        return bool(np.abs(tail - FILL).max() <= FILL_SPREAD)
    tail = tail[..., :3]
    # Mid-grey in luma everywhere (chroma upsampling blends the fill's edge with decoded
    # neighbours' colour, never its luma), and grey for most of the block: a green or a
    # blue of a mid-grey's luma is a picture's, not the fill.
    luma = tail @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    spread = tail.max(axis=-1) - tail.min(axis=-1)
    return bool(np.abs(luma - FILL).max() <= FILL_SPREAD and np.median(spread) <= GREY_SPREAD)
