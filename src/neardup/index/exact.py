"""Exact (brute-force) search: the reference answer, and fast enough below ~100k vectors.

`FlatIndex` (faiss) serves scan's candidate search. `ExactIndex` is the plain-numpy twin of
`IVFIndex` (same methods: ids, remove, save/load, one cluster), used by the image index while
a collection is too small to cluster and by tests as the answer the IVF index must match.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import Neighbours
from neardup.index.files import write_atomically

SCORE_BLOCK = 1 << 24
"""Similarities computed per block (floats): bounds search memory at 64 MiB."""


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
        # One thread: on a busy machine faiss's OpenMP threads spin waiting for one another
        # (measured: the original set's PDQ search took 2.6-3.2 CPU s on 2 threads, 0.05-0.09
        # on one, same pairs); a binary search of this size is cheap on one core.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            distances, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.uint8), k)
        finally:
            faiss.omp_set_num_threads(threads)
        return distances.astype(np.int32), ids.astype(np.int64)

    def __len__(self) -> int:
        return int(self._index.ntotal)


class ExactIndex:
    """Every stored vector compared with every query by a matrix product: IVFIndex's interface
    with a single cluster, so code written for one runs on the other."""

    codec = "exact"
    nlist = 1

    def __init__(self, dim: int, *, nprobe: int = 1) -> None:
        self.dim = dim
        self._vectors = np.empty((0, dim), dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)

    @property
    def nprobe(self) -> int:
        return 1

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        """One cluster: there is nothing else to probe."""

    def add(
        self,
        vectors: npt.NDArray[np.float32],
        ids: npt.NDArray[np.int64] | None = None,
        *,
        clusters: npt.NDArray[np.integer[Any]] | None = None,
    ) -> None:
        """Append vectors (ids default to 0..n-1 after those present)."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if ids is None:
            ids = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(vectors):
            raise ValueError("one id per vector")
        if clusters is not None and np.any(np.asarray(clusters) != 0):
            raise ValueError("clusters must give one existing cluster per vector")
        self._vectors = np.concatenate([self._vectors, vectors])
        self._ids = np.concatenate([self._ids, ids])

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove vectors by id; returns how many were there."""
        gone = np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._vectors, self._ids = self._vectors[~gone], self._ids[~gone]
        return int(gone.sum())

    def search(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        probes: npt.NDArray[np.integer[Any]] | None = None,
    ) -> Neighbours:
        """The k largest inner products per query, best first; -1 / -inf where fewer exist."""
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        found = np.full((len(queries), k), -1, dtype=np.int64)
        n, take = len(self), min(k, len(self))
        if not take:
            return sims, found
        rows = max(1, SCORE_BLOCK // n)
        for start in range(0, len(queries), rows):
            scores = queries[start : start + rows] @ self._vectors.T
            top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            sims[start : start + rows, :take] = np.take_along_axis(top_scores, order, axis=1)
            found[start : start + rows, :take] = self._ids[np.take_along_axis(top, order, axis=1)]
        return sims, found

    def assign(self, vectors: npt.NDArray[np.float32], nprobe: int = 1) -> npt.NDArray[np.int64]:
        """Every vector is in the one cluster."""
        return np.zeros((len(vectors), 1), dtype=np.int64)

    def cluster_sizes(self) -> npt.NDArray[np.int64]:
        return np.array([len(self)], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write vectors and ids atomically (temp file, fsync, rename)."""
        buffer = io.BytesIO()
        np.savez(buffer, vectors=self._vectors, ids=self._ids)
        write_atomically(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ExactIndex:
        with np.load(Path(path), allow_pickle=False) as data:
            vectors, ids = data["vectors"], data["ids"]
        self = cls(int(vectors.shape[1]))
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._ids = np.asarray(ids, dtype=np.int64)
        return self
