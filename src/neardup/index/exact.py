"""Exact (brute-force) search with faiss: the reference answer, and fast enough below ~100k."""

from __future__ import annotations

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import Neighbours


class FlatIndex:
    """Inner-product search over every stored vector (faiss IndexFlatIP)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexFlatIP(dim)

    def add(self, vectors: npt.NDArray[np.float32]) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: npt.NDArray[np.float32], k: int) -> Neighbours:
        sims, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return sims.astype(np.float32), ids.astype(np.int64)

    def __len__(self) -> int:
        return int(self._index.ntotal)


class HammingIndex:
    """Packed binary hashes searched by Hamming distance (faiss IndexBinaryFlat)."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self._index = faiss.IndexBinaryFlat(bits)

    def add(self, codes: npt.NDArray[np.uint8]) -> None:
        self._index.add(np.ascontiguousarray(codes, dtype=np.uint8))

    def search(
        self, queries: npt.NDArray[np.uint8], k: int
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        distances, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.uint8), k)
        return distances.astype(np.int32), ids.astype(np.int64)

    def __len__(self) -> int:
        return int(self._index.ntotal)
