"""Perceptual hashes: PDQ with its dihedral views, and the imagehash family as options.

PDQ (Meta's 256-bit hash, through `pdqhash`) is computed for the image and its 7 other
dihedral views (rotations by 90 degrees, flips), so a rotated or mirrored copy is found by
comparing the copy's hash against any view of the original. The views are hashed from rotated
pixels, not derived from one hash: pdqhash's own `compute_dihedral` flips DCT signs, which
misses a true 90-degree rotation by about 24 of 256 bits.
"""

from __future__ import annotations

from typing import Any

import imagehash
import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from neardup.decode import RGBArray

PDQ_SIDE = 64
"""PDQ's own filter brings any input down to 64 x 64; from 128 x 128 the hash is within a few
bits of the one from 512 x 512 and all 8 views cost about 2 ms."""

HASH_MIN_SIDE = 128
"""Decode side when only hashes are wanted (JPEG DCT scaling then reduces more)."""

IMAGEHASH_METHODS = {
    "phash": imagehash.phash,
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "whash": imagehash.whash,
}
"""64-bit hashes from the imagehash library, available as `--method phash` etc."""

Bits = npt.NDArray[np.uint8]


def square(rgb: RGBArray, side: int) -> RGBArray:
    """The picture squeezed to side x side (all content kept; aspect is not what we match)."""
    if rgb.shape[0] == side and rgb.shape[1] == side:
        return rgb
    image = Image.fromarray(rgb).resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8)


def pdq_dihedral(rgb: RGBArray) -> tuple[Bits, int]:
    """PDQ hashes of all 8 dihedral views (8 x 32 bytes, row 0 as displayed) and quality."""
    picture = square(rgb, PDQ_SIDE)
    rows, quality = [], 0
    for turns in range(4):
        turned = np.rot90(picture, turns)
        for view in (turned, turned[:, ::-1]):
            bits, q = pdqhash.compute(np.ascontiguousarray(view))
            rows.append(np.packbits(np.asarray(bits, dtype=bool)))
            quality = quality or int(q)
    return np.stack(rows).astype(np.uint8), quality


def imagehashes(rgb: RGBArray, names: list[str]) -> dict[str, Bits]:
    """The requested imagehash-family hashes as 8 packed bytes each."""
    image = Image.fromarray(rgb)
    out: dict[str, Bits] = {}
    for name in names:
        bits = np.asarray(IMAGEHASH_METHODS[name](image).hash, dtype=bool).ravel()
        out[name] = np.packbits(bits).astype(np.uint8)
    return out


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(a: Bits, b: Bits) -> npt.NDArray[np.int64]:
    """Bit differences between packed hashes, over the last axis (broadcasts)."""
    return _POPCOUNT[np.bitwise_xor(a, b)].sum(axis=-1, dtype=np.int64)


def hash_similarity(distance: Any, bits: int) -> Any:
    """Similarity in [0, 1] from a Hamming distance: 1 - 2d/bits, floored at 0.

    Unrelated images differ in about half their bits, so they score about 0; identical
    hashes score 1. For PDQ (256 bits), 31 bits (Meta's match threshold) is 0.76.
    """
    similarity = np.maximum(0.0, 1.0 - 2.0 * np.asarray(distance, dtype=np.float64) / bits)
    return float(similarity) if similarity.ndim == 0 else similarity
