"""The inverted-file (IVF) index: k-means centroids, and each vector compared only inside the
`nprobe` clusters nearest to it.

This is the idea neardup comes from: instead of comparing every image with every other,
cluster the collection with k-means (trained on a sample), save the centroids, put each vector
in its nearest cluster, and answer a query by scanning only the members of its nearest
clusters. With clusters of a few hundred vectors and nprobe of a few, a query costs
nprobe x cluster size comparisons whatever N is. Probing more than one cluster fixes the
misses at cluster borders. Codes are exact float32 (`flat`) or 8-bit scalar-quantised
(`sq8`, 4x smaller, for tens of millions of vectors). Built on faiss's IndexIVF*.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import Neighbours


def return_freed_memory_to_the_system() -> None:
    """Ask glibc to serve allocations of 128 KiB and more with mmap, returning them when freed.

    faiss grows each inverted list by reallocation; with the default (dynamic) threshold the
    freed blocks stay resident, and a 1M x 512 build peaked at 1.51x the raw vectors against
    1.18x with this setting (benchmarks/RESULTS.md). Process-wide, so only large index builds
    call it (it slows decoding many pictures). glibc only; elsewhere nothing happens.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


LARGE_INDEX = 100_000
"""From this many vectors on, freed heap is handed back to the system (see above)."""
CLUSTER_SIZE = 256
"""Target members per cluster: the number of clusters follows the collection's size."""
MIN_TRAIN_PER_CLUSTER = 8
"""Fewest training points per centroid we accept (faiss prefers 39; small collections get
few clusters and are retrained as they grow)."""
DEFAULT_NPROBE = 4
CODECS = ("flat", "sq8")


def clusters_for(n: int, cluster_size: int = CLUSTER_SIZE) -> int:
    """How many clusters for n vectors: n / cluster_size, at least 1, trainable from n."""
    return max(1, min(round(n / cluster_size), n // MIN_TRAIN_PER_CLUSTER))


def train_centroids(
    sample: npt.NDArray[np.float32], nlist: int, *, iterations: int = 12, seed: int = 1234
) -> npt.NDArray[np.float32]:
    """Spherical k-means (unit-length centroids, for cosine similarity) on a sample."""
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    if nlist <= 1:
        centroid = sample.mean(axis=0, keepdims=True)
        norm = np.linalg.norm(centroid)
        return (centroid / norm if norm > 0 else centroid).astype(np.float32)
    kmeans = faiss.Kmeans(
        sample.shape[1], nlist, niter=iterations, seed=seed, spherical=True, verbose=False
    )
    kmeans.cp.max_points_per_centroid = 256  # faiss subsamples beyond this; keeps training fast
    kmeans.cp.min_points_per_centroid = 1  # small collections: we decide (clusters_for)
    kmeans.train(sample)
    return np.asarray(kmeans.centroids, dtype=np.float32)


class IVFIndex:
    """Vectors with integer ids in k-means clusters; search probes `nprobe` clusters."""

    def __init__(
        self,
        centroids: npt.NDArray[np.float32],
        *,
        nprobe: int = DEFAULT_NPROBE,
        codec: str = "flat",
        sq_sample: npt.NDArray[np.float32] | None = None,
    ) -> None:
        if codec not in CODECS:
            raise ValueError(f"unknown codec {codec!r}; choose from {', '.join(CODECS)}")
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        self.dim = int(self.centroids.shape[1])
        self.codec = codec
        nlist = len(self.centroids)
        self._quantizer: Any = faiss.IndexFlatIP(self.dim)
        self._quantizer.add(self.centroids)
        metric = faiss.METRIC_INNER_PRODUCT
        self._index: Any
        if codec == "flat":
            self._index = faiss.IndexIVFFlat(self._quantizer, self.dim, nlist, metric)
            self._index.is_trained = True
        else:
            qtype = faiss.ScalarQuantizer.QT_8bit
            self._index = faiss.IndexIVFScalarQuantizer(
                self._quantizer, self.dim, nlist, qtype, metric
            )
            # Only the quantiser's value ranges are trained; the centroids stay as given.
            self._index.sq.train(_sample_or_centroids(sq_sample, self.centroids))
            self._index.is_trained = True
        self._index.nprobe = min(nprobe, nlist)
        self._index.parallel_mode = 0

    @property
    def nlist(self) -> int:
        return len(self.centroids)

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._index.nprobe = max(1, min(int(value), self.nlist))

    def add(
        self, vectors: npt.NDArray[np.float32], ids: npt.NDArray[np.int64] | None = None
    ) -> None:
        """Add vectors (ids default to 0..n-1 after those present)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(self) + len(vectors) >= LARGE_INDEX:
            return_freed_memory_to_the_system()
        if ids is None:
            ids = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove vectors by id; returns how many were there."""
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        return int(self._index.remove_ids(selector))

    def search(self, queries: npt.NDArray[np.float32], k: int) -> Neighbours:
        sims, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return sims.astype(np.float32), ids.astype(np.int64)

    def assign(self, vectors: npt.NDArray[np.float32], nprobe: int = 1) -> npt.NDArray[np.int64]:
        """The nearest `nprobe` clusters of each vector (n x nprobe cluster numbers)."""
        _, clusters = self._quantizer.search(
            np.ascontiguousarray(vectors, dtype=np.float32), nprobe
        )
        return np.asarray(clusters, dtype=np.int64)

    def cluster_sizes(self) -> npt.NDArray[np.int64]:
        lists = self._index.invlists
        return np.array([lists.list_size(i) for i in range(self.nlist)], dtype=np.int64)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole index (centroids, lists, codes) atomically: temp file, fsync, rename."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            faiss.write_index(self._index, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> IVFIndex:
        index = faiss.read_index(str(path))
        ivf = faiss.extract_index_ivf(index)
        quantizer = faiss.downcast_index(ivf.quantizer)
        centroids = quantizer.reconstruct_n(0, quantizer.ntotal)
        self = cls.__new__(cls)
        self.centroids = np.asarray(centroids, dtype=np.float32)
        self.dim = int(self.centroids.shape[1])
        self.codec = "sq8" if isinstance(index, faiss.IndexIVFScalarQuantizer) else "flat"
        self._quantizer = quantizer
        self._index = index
        return self


def _sample_or_centroids(
    sample: npt.NDArray[np.float32] | None, centroids: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(sample if sample is not None else centroids, dtype=np.float32)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
