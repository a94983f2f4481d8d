"""Exact identity: a hash of the file's bytes (the pixel hash is made while decoding), and the
test of which pairs could be pixel-identical when DCT-scaled decoding skipped the pixel hash."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt
import xxhash
from PIL import Image

from neardup.features.hashes import Picture, pillow
from neardup.records import Features

THUMB_SIDE = 4
THUMB_TOLERANCE = 6
"""Grey levels two thumbs of identical pixels may differ by (different decode scales)."""


def bytes_hash(data: bytes) -> str:
    """BLAKE2b-128 of the bytes: equal hashes mean byte-identical files. A cryptographic hash
    on purpose: `act` refuses a file whose bytes no longer have it (the scan's `blake2b`)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


IDENTITY_KEYS = ("bytes_hash", "pixel_hash", "jpeg_hash")
"""Feature fields whose equality proves identical displayed pixels."""


def identical(a: Features, b: Features) -> bool:
    """Whether two images are exact duplicates: same bytes, same pixels or same JPEG data."""
    for key in IDENTITY_KEYS:
        value = getattr(a, key)
        if value is not None and value == getattr(b, key):
            return True
    return False


JPEG_HASH_TAG = "2:"
"""Leads a `jpeg_hash` made as now (to the end marker). One without it, kept by an older
neardup in a cache or an index, hashed bytes after the marker too: equal hashes still mean
the same picture, but two of different makes can differ for one picture."""


def jpeg_hash(data: bytes, orientation: int) -> str | None:
    """Hash of a JPEG's picture data without its APPn / COM (metadata) segments, or None.

    Two files that differ only in EXIF, XMP, ICC or comments, in bytes after the end marker or
    in a missing end marker (and show the same orientation) decode to the same pixels; this
    finds them from the bytes alone.
    """
    if data[:2] != b"\xff\xd8":
        return None
    digest = xxhash.xxh3_128(f"orientation={orientation};".encode())
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the picture, to its end marker
            # Entropy-coded data stuffs 0xFF with 0x00, so the first FFD9 is the end: bytes
            # a writer left after it are not the picture, and a file without one reads as
            # if it had it (`neardup.jpeg_end`).
            stop = data.find(b"\xff\xd9", i)
            digest.update(memoryview(data)[i : len(data) if stop < 0 else stop])
            digest.update(b"\xff\xd9")
            return JPEG_HASH_TAG + digest.hexdigest()
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            digest.update(data[i:end])
        i = end
    return None


def thumb(rgb: Picture) -> npt.NDArray[np.uint8]:
    """A 4 x 4 box-averaged RGB thumbnail."""
    small = pillow(rgb).resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def could_be_identical(a: Features, b: Features, pdq_score: float | None) -> bool:
    """Whether two images may decode to identical pixels (so a full decode is worth it)."""
    if (a.width, a.height) != (b.width, b.height) or a.trimmed != b.trimmed:
        return False
    if all(h is not None and h.startswith(JPEG_HASH_TAG) for h in (a.jpeg_hash, b.jpeg_hash)):
        return False  # two JPEGs: different picture data (equal data was caught already)
    if pdq_score is not None and pdq_score < 0.98:
        return False
    if a.thumb is not None and b.thumb is not None:
        diff = np.abs(a.thumb.astype(np.int16) - b.thumb.astype(np.int16))
        return int(diff.max()) <= THUMB_TOLERANCE
    return True
