"""Perceptual hashes: PDQ with its dihedral views, and the imagehash family as options.

PDQ (Meta's 256-bit hash, through `pdqhash`) is computed for the image and its 7 other
dihedral views (rotations by 90 degrees, flips), so a rotated or mirrored copy is found by
comparing the copy's hash against any view of the original. The views are hashed from rotated
pixels, not derived from one hash: pdqhash's own `compute_dihedral` flips DCT signs, which
misses a true 90-degree rotation by about 24 of 256 bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import imagehash
import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from neardup import methods
from neardup.decode import RGBArray

PDQ_SIDE = 64
"""PDQ's own filter brings any input down to 64 x 64; from 128 x 128 the hash is within a few
bits of the one from 512 x 512 and all 8 views cost about 2 ms."""

HASH_MIN_SIDE = 128
"""Decode side when only hashes are wanted (JPEG DCT scaling then reduces more)."""

IMAGEHASH_METHODS: dict[str, Callable[[Image.Image], imagehash.ImageHash]] = dict(
    zip(
        methods.IMAGEHASHES,
        (imagehash.phash, imagehash.dhash, imagehash.average_hash, imagehash.whash),
        strict=True,
    )
)
"""64-bit hashes from the imagehash library, available as `--method phash` etc."""

Bits = npt.NDArray[np.uint8]


Picture = RGBArray | Image.Image
"""A working picture: the array, or the same pixels as a Pillow RGB image."""


def pillow(picture: Picture) -> Image.Image:
    """The picture as a Pillow image (converted only when given as an array)."""
    return picture if isinstance(picture, Image.Image) else Image.fromarray(picture)


def square(picture: Picture, side: int) -> RGBArray:
    """The picture squeezed to side x side (all content kept; aspect is not what we match)."""
    if isinstance(picture, np.ndarray) and picture.shape[:2] == (side, side):
        return picture
    if isinstance(picture, Image.Image) and picture.size == (side, side):
        return np.asarray(picture, dtype=np.uint8)
    image = pillow(picture).resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8)


DIHEDRAL_ORDER = (0, 5, 1, 7, 2, 4, 3, 6)
"""`pdqhash.compute_dihedral`'s views (original, turned 90/180/270, flipped across each axis
and diagonal) in our order: a quarter turn `turns` times (counter-clockwise, as np.rot90),
then that view and its mirror."""


def pdq_dihedral(rgb: Picture) -> tuple[Bits, int]:
    """PDQ hashes of all 8 dihedral views (8 x 32 bytes, row 0 as displayed) and quality.

    One DCT for all 8 (PDQ's own dihedral hashing: the views' coefficients are the
    original's with signs flipped and transposed), a third of the cost of hashing each view;
    the same bits as hashing each turned view (399 of 400 pictures of the evaluation sets),
    except where coefficients tie at the median (a flat picture, blocks of one colour), which
    the two break differently (hence features version 7).
    """
    picture = np.ascontiguousarray(square(rgb, PDQ_SIDE))
    hashes, quality = pdqhash.compute_dihedral(picture)
    views = np.asarray(hashes, dtype=bool)[list(DIHEDRAL_ORDER)]
    return np.packbits(views.reshape(8, -1), axis=1), int(quality)


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
