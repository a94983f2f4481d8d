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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from neardup.features.hashes import Picture, pillow

SIDE = 32

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]


def small_grey(rgb: Picture) -> UInt8Array:
    """The picture as a SIDE x SIDE grey thumbnail (box-averaged, aspect squeezed)."""
    grey = pillow(rgb).convert("L")
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


Tables = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]


def _dihedral_tables() -> Tables:
    """The 8 dihedral views as pixel permutations, cut into orbits.

    Returns, for one representative pixel r per orbit of the views acting on the pixels,
    the pixels view_j(r) (orbits x 8), each orbit's weight |orbit| / 8 (pixels on a diagonal
    lie in orbits of 4 and are met twice), and where, in the 8 x 8 table G[m, j] = sum over
    orbits of a[view_m(r)] b[view_j(r)], view k's correlation terms lie: C(k) = sum_j
    G[k o j, j], with view k o j = view k applied after view j.
    """
    grid = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    views = []
    for turns in range(4):  # the order of `thumb_similarity`
        view = np.rot90(grid, turns)
        views += [view.reshape(-1), view[:, ::-1].reshape(-1)]
    index = np.stack(views)  # view_k(image).flat[p] = image.flat[index[k, p]]
    number = {tuple(row): n for n, row in enumerate(index.tolist())}
    compose = np.array(
        [[number[tuple(index[k][index[j]].tolist())] for j in range(8)] for k in range(8)]
    )
    seen = np.zeros(SIDE * SIDE, dtype=bool)
    representatives, sizes = [], []
    for pixel in range(SIDE * SIDE):
        if not seen[pixel]:
            orbit = np.unique(index[:, pixel])
            seen[orbit] = True
            representatives.append(pixel)
            sizes.append(len(orbit))
    columns = index[:, representatives].T
    weights = (np.array(sizes) / 8.0).astype(np.float32)
    return columns, weights, compose * 8 + np.arange(8)[None, :]


_ORBITS, _WEIGHTS, _TERMS = _dihedral_tables()
ORBIT_SHAPE: tuple[int, int] = (int(_ORBITS.shape[0]), int(_ORBITS.shape[1]))
"""(orbits, 8) of an `OrbitThumbs` row: 136 orbits (120 of 8 pixels, 16 of 4 on the diagonals)."""
PAIR_BLOCK = 1024
"""Pairs per matrix product (small enough to stay in cache)."""


@dataclass(frozen=True, slots=True)
class OrbitThumbs:
    """Thumbnails laid out by orbit of the 8 dihedral views, with the sums the correlation
    needs: a form in which all 8 views of a pair are one 8 x 136 by 136 x 8 matrix product,
    no turned copy made. Pixels are shifted by each thumbnail's rounded mean before the
    product, so its float32 sums stay near exact (correlation does not change with a shift)."""

    orbits: npt.NDArray[np.uint8]
    """(images, orbits, 8): pixel view_j(r) of each orbit's representative r."""
    centre: npt.NDArray[np.float32]
    """Each thumbnail's rounded mean."""
    total: FloatArray
    """Sum of the shifted pixels."""
    square: FloatArray
    """Sum of the squared shifted pixels."""

    @classmethod
    def of(cls, thumbs: npt.NDArray[np.uint8]) -> OrbitThumbs:
        """The layout of uint8 thumbnails. The sums are made in integers (exact, so equal to
        summing the shifted pixels in floats, ten times faster: a million thumbnails are
        laid out in seconds), the orbits by one `take` (fancy indexing is slower)."""
        flat = thumbs.reshape(len(thumbs), -1)
        pixels = flat.shape[1]
        total = flat.sum(axis=1, dtype=np.int64)
        wide = flat.astype(np.uint16)
        square = np.einsum("ij,ij->i", wide, wide, dtype=np.int64)
        centre = np.round(total / pixels)  # the rounded mean
        # sum(x - c) and sum((x - c)^2) from sum(x) and sum(x^2): integers below 2^53.
        return cls(
            np.take(flat, _ORBITS.reshape(-1), axis=1).reshape(len(flat), *_ORBITS.shape),
            centre.astype(np.float32),
            total - pixels * centre,
            square - 2 * centre * total + pixels * centre * centre,
        )

    def _rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        out = self.orbits[rows].astype(np.float32)
        out -= self.centre[rows][:, None, None]
        return out

    def similarity(self, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> FloatArray:
        """The best correlation of thumbnail a with any of b's 8 dihedral views, floored at
        0, for each pair (a, b) of rows: `thumb_similarity` to float32 rounding."""
        best = np.empty(len(a), dtype=np.float64)
        for start in range(0, len(a), PAIR_BLOCK):
            left = self._rows(a[start : start + PAIR_BLOCK])
            right = self._rows(b[start : start + PAIR_BLOCK])
            right *= _WEIGHTS[None, :, None]
            table = np.matmul(left.transpose(0, 2, 1), right).reshape(len(left), 64)
            best[start : start + PAIR_BLOCK] = table[:, _TERMS].sum(axis=2).max(axis=1)
        n = float(SIDE * SIDE)
        spread = n * self.square - self.total * self.total  # n^2 x variance, >= 0
        scale = np.sqrt(spread[a] * spread[b])
        # A flat thumbnail (no spread) correlates with nothing.
        corr = np.divide(
            n * best - self.total[a] * self.total[b], scale, out=np.zeros(len(a)), where=scale > 0
        )
        out: FloatArray = np.clip(corr, 0.0, 1.0)
        return out


def thumb_similarity_of(
    thumbs: npt.NDArray[np.uint8], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> FloatArray:
    """`thumb_similarity(thumbs[a], thumbs[b])` to float32 rounding (within 1e-5), each
    picture laid out once (`OrbitThumbs`) whatever the number of pairs it is in."""
    ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    return OrbitThumbs.of(thumbs[ids]).similarity(inverse[: len(a)], inverse[len(a) :])
