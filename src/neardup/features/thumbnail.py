"""A small grey thumbnail per image and the cheap pixel check it allows on every candidate pair.

Embeddings say two pictures look alike; they do not say the pixels are the same. Two pages of
one template, two frames of one scene or two tiles of one wall score high on an embedding but
differ pixel by pixel; a recoloured, blurred, noisy or re-encoded copy differs little. A 32 x 32
grey thumbnail of the trimmed picture, normalised to zero mean and unit variance, tells the
two apart for the price of a dot product: the `thumb` score is the best correlation over the 8
dihedral views (turned and mirrored copies). Crops and rotations by a few degrees move the
pixels; those are what the geometric check (`neardup.verify`) is for.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

SIDE = 32

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]


def small_grey(rgb: UInt8Array) -> UInt8Array:
    """The picture as a SIDE x SIDE grey thumbnail (box-averaged, aspect squeezed)."""
    grey = Image.fromarray(rgb).convert("L")
    return np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.uint8)


def _normalised(thumbs: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Rows of zero mean and unit norm (a flat thumbnail stays all zeros)."""
    x = thumbs.reshape(len(thumbs), -1).astype(np.float32)
    x -= x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 1e-3)


def thumb_similarity(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> FloatArray:
    """For stacks of thumbnails (pairs x SIDE x SIDE): the best correlation of a with any of
    b's 8 dihedral views, floored at 0."""
    left = _normalised(a)
    best = np.zeros(len(a), dtype=np.float32)
    for turns in range(4):
        view = np.rot90(b, turns, axes=(1, 2))
        for mirrored in (view, view[:, :, ::-1]):
            right = _normalised(np.ascontiguousarray(mirrored))
            np.maximum(best, np.einsum("ij,ij->i", left, right), out=best)
    return np.clip(best.astype(np.float64), 0.0, 1.0)


def thumb_similarity_of(
    thumbs: npt.NDArray[np.uint8], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> FloatArray:
    """`thumb_similarity(thumbs[a], thumbs[b])`, the same numbers, normalising each picture's
    views once rather than once per pair it is in (an image is in ~16 candidate pairs)."""
    ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = inverse[: len(a)], inverse[len(a) :]
    own = thumbs[ids]
    left = _normalised(own)[ia]
    best = np.zeros(len(a), dtype=np.float32)
    for turns in range(4):
        view = np.rot90(own, turns, axes=(1, 2))
        for mirrored in (view, view[:, :, ::-1]):
            right = _normalised(np.ascontiguousarray(mirrored))[ib]
            np.maximum(best, np.einsum("ij,ij->i", left, right), out=best)
    return np.clip(best.astype(np.float64), 0.0, 1.0)
