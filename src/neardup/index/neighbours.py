"""Where the image index looks for a new image's duplicates: the vector index (each embedding
and its mirrored view, nprobe clusters only) and a PDQ multi-index hash (turned and mirrored
copies, which embeddings miss). Only the images these propose are scored."""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import ClusteredIndex, neighbour_pairs
from neardup.index.exact import ExactIndex
from neardup.index.ivf import IVFIndex
from neardup.records import Features

K_NEIGHBOURS = 16
FLOOR = 0.3
"""Cosine below which an embedding neighbour is not worth scoring."""
PDQ_RADIUS = 40
"""Bits: PDQ views closer than this to an indexed hash are candidates (similarity ~0.69)."""


def vector_index(centroids: npt.NDArray[np.float32], nprobe: int) -> ClusteredIndex:
    """Where an index keeps its vectors: the IVF index, or plain exact search while the
    collection is too small for more than one cluster (the same answers, nothing to train)."""
    if len(centroids) == 1:
        return ExactIndex(int(centroids.shape[1]))
    return IVFIndex(centroids, nprobe=nprobe)


def embedding_matrix(images: Sequence[Features], model: str) -> npt.NDArray[np.float32]:
    """The images' `model` embeddings, one row each."""
    return np.stack([f.embeddings[model] for f in images]).astype(np.float32)


def vector_neighbours(
    index: ClusteredIndex | None, images: Sequence[Features], model: str
) -> Iterator[tuple[int, int]]:
    """(position in `images`, indexed id) for the nearest indexed vectors of each embedding
    and of its mirrored view."""
    if index is None or not len(index) or not images:
        return
    for q, row_id, _ in neighbour_pairs(
        index, embedding_matrix(images, model), k=K_NEIGHBOURS, min_similarity=FLOOR
    ):
        yield q, row_id
    flips = [n for n, f in enumerate(images) if model in f.embeddings_flip]
    if flips:
        mirrored = np.stack([images[n].embeddings_flip[model] for n in flips])
        for q, row_id, _ in neighbour_pairs(index, mirrored, k=K_NEIGHBOURS, min_similarity=FLOOR):
            yield flips[q], row_id


class PdqHashes:
    """Every stored image's PDQ hash in a multi-index hash (exact sub-hash buckets), so the
    eight views of a new image find hashes within PDQ_RADIUS without scanning them all."""

    def __init__(self) -> None:
        self._index: Any = faiss.IndexBinaryMultiHash(256, 8, 32)
        self._ids: list[int] = []

    def add(self, images: Sequence[Features], ids: Sequence[int]) -> None:
        rows = [(i, f.pdq[0]) for i, f in zip(ids, images, strict=True) if f.pdq is not None]
        if rows:
            self._index.add(np.ascontiguousarray(np.stack([code for _, code in rows])))
            self._ids.extend(i for i, _ in rows)

    def clear(self) -> None:
        self._index.reset()
        self._ids = []

    def near(self, images: Sequence[Features], alive: Container[int]) -> Iterator[tuple[int, int]]:
        """(position in `images`, stored id) for every view within the radius; ids not in
        `alive` (removed images linger in the hash index) are skipped."""
        if not self._ids:
            return
        which = [n for n, f in enumerate(images) if f.pdq is not None]
        if not which:
            return
        views = np.stack([images[n].pdq for n in which])  # type: ignore[misc]
        for view in range(views.shape[1]):
            lims, _, found = self._index.range_search(
                np.ascontiguousarray(views[:, view]), PDQ_RADIUS
            )
            for q, n in enumerate(which):
                for hit in found[lims[q] : lims[q + 1]].tolist():
                    row_id = self._ids[hit]
                    if row_id in alive:
                        yield n, row_id
