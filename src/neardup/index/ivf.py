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
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from neardup.index.base import Neighbours
from neardup.index.files import replace_atomically
from neardup.index.kmeans import spherical_kmeans


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
TWO_LEVEL_FROM = 8192
"""From this many clusters on, k-means is trained in two levels (sqrt(nlist) coarse clusters,
then each split in proportion to its share): one flat k-means over 39,062 centroids would take
minutes per iteration on a laptop, the two levels take seconds (benchmarks/RESULTS.md)."""
DEFAULT_NPROBE = 4
CODECS = ("flat", "sq8")


def clusters_for(n: int, cluster_size: int = CLUSTER_SIZE) -> int:
    """How many clusters for n vectors: n / cluster_size, at least 1, trainable from n."""
    return max(1, min(round(n / cluster_size), n // MIN_TRAIN_PER_CLUSTER))


def train_centroids(
    sample: npt.NDArray[np.float32], nlist: int, *, iterations: int = 12, seed: int = 1234
) -> npt.NDArray[np.float32]:
    """Spherical k-means (unit-length centroids, for cosine similarity) on a sample; two-level
    from TWO_LEVEL_FROM clusters on."""
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    if nlist <= 1:
        centroid = sample.mean(axis=0, keepdims=True)
        norm = np.linalg.norm(centroid)
        return (centroid / norm if norm > 0 else centroid).astype(np.float32)
    if nlist >= TWO_LEVEL_FROM:
        return _two_level(sample, nlist, iterations=iterations, seed=seed)
    return _kmeans(sample, nlist, iterations=iterations, seed=seed)


def _kmeans(
    sample: npt.NDArray[np.float32], nlist: int, *, iterations: int, seed: int
) -> npt.NDArray[np.float32]:
    # faiss.Kmeans(spherical=True) computed the same, at half the speed (`neardup.index.kmeans`).
    # Subsampled beyond 256 points per centroid (keeps training fast); small collections
    # train on what they have (we decide how many clusters: clusters_for).
    return spherical_kmeans(sample, nlist, iterations=iterations, seed=seed)


def _two_level(
    sample: npt.NDArray[np.float32], nlist: int, *, iterations: int, seed: int
) -> npt.NDArray[np.float32]:
    """sqrt(nlist) coarse clusters, each split into a share of nlist in proportion to its
    members (faiss.contrib.clustering.two_level_clustering, spherical and quiet)."""
    coarse_n = max(2, round(nlist**0.5))
    coarse = _kmeans(sample, coarse_n, iterations=iterations, seed=seed)
    top = faiss.IndexFlatIP(sample.shape[1])
    top.add(coarse)
    _, owner = top.search(sample, 1)
    owner = owner[:, 0]
    counts = np.bincount(owner, minlength=coarse_n)
    share = np.cumsum(counts) * nlist // len(sample)
    split = np.diff(share, prepend=0)
    order = np.argsort(owner, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    parts = []
    for c in range(coarse_n):
        if split[c] == 0:
            continue
        members = sample[order[starts[c] : starts[c + 1]]]
        parts.append(_kmeans(members, int(split[c]), iterations=iterations, seed=seed + c))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


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
            # The quantiser holds exactly nlist centroids, so faiss keeps them and trains only
            # the 8-bit value ranges, on the sample's residuals (vector minus its centroid).
            self._index.train(_sample_or_centroids(sq_sample, self.centroids))
        # A map from id to list position: remove() touches only the lists that hold the ids.
        self._index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        self._index.nprobe = min(nprobe, nlist)
        self._index.parallel_mode = 0
        if nlist * CLUSTER_SIZE >= LARGE_INDEX:
            return_freed_memory_to_the_system()

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
        self,
        vectors: npt.NDArray[np.float32],
        ids: npt.NDArray[np.int64] | None = None,
        *,
        clusters: npt.NDArray[np.integer[Any]] | None = None,
    ) -> None:
        """Add vectors (ids default to 0..n-1 after those present; unique). `clusters`: each
        vector's nearest cluster if already known (from `assign`), saving the coarse search."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(self) + len(vectors) >= LARGE_INDEX:
            return_freed_memory_to_the_system()
        if ids is None:
            ids = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if clusters is None:
            self._index.add_with_ids(vectors, ids)
            return
        lists = np.ascontiguousarray(clusters, dtype=np.int64).reshape(-1)
        if len(lists) != len(vectors) or (
            len(lists) and not 0 <= lists.min() <= lists.max() < self.nlist
        ):
            raise ValueError("clusters must give one existing cluster per vector")
        self._index.add_core(
            len(vectors), faiss.swig_ptr(vectors), faiss.swig_ptr(ids), faiss.swig_ptr(lists)
        )

    def remove(self, ids: npt.NDArray[np.int64]) -> int:
        """Remove vectors by id; returns how many were there. Only their lists are touched."""
        wanted = np.unique(np.ascontiguousarray(ids, dtype=np.int64))
        if not len(wanted):
            return 0
        selector = faiss.IDSelectorArray(len(wanted), faiss.swig_ptr(wanted))
        try:
            return int(self._index.remove_ids(selector))
        except RuntimeError:
            # The id map refuses ids it does not hold; drop those and remove the rest.
            held = np.array([i for i in wanted.tolist() if self._holds(i)], dtype=np.int64)
            if not len(held):
                return 0
            return int(
                self._index.remove_ids(faiss.IDSelectorArray(len(held), faiss.swig_ptr(held)))
            )

    def _holds(self, vector_id: int) -> bool:
        try:
            self._index.direct_map.get(vector_id)
        except RuntimeError:
            return False
        return True

    def search(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        probes: npt.NDArray[np.integer[Any]] | None = None,
    ) -> Neighbours:
        """k nearest by inner product among the members of each query's `nprobe` nearest
        clusters; `probes` (n x p cluster numbers from `assign`) skips the coarse search."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if probes is None:
            sims, ids = self._index.search(queries, k)
        else:
            lists = np.ascontiguousarray(probes, dtype=np.int64)
            coarse = np.zeros(lists.shape, dtype=np.float32)
            if self._index.by_residual:  # sq8 codes are residuals: faiss adds <query, centroid>
                for j in range(lists.shape[1]):
                    coarse[:, j] = np.einsum("nd,nd->n", queries, self.centroids[lists[:, j]])
            # faiss parallelises search() over query slices itself; given the probes, mode 3
            # spreads the queries over the threads instead (mode 0 would use one core).
            self._index.parallel_mode = 3
            try:
                sims, ids = self._index.search_preassigned(queries, k, lists, coarse)
            finally:
                self._index.parallel_mode = 0
        return sims.astype(np.float32), ids.astype(np.int64)

    def within(
        self, queries: npt.NDArray[np.float32], floor: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Every member of each query's `nprobe` nearest clusters with an inner product at or
        above `floor`, in one pass over those clusters (faiss range search): (lims, sims,
        ids), query q's hits at lims[q]:lims[q + 1]. What k-NN search widened until the k-th
        neighbour falls below the floor finds, without searching the lists again per width."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # faiss keeps inner products strictly above the radius: the float32 just below.
        radius = float(np.nextafter(np.float32(floor), np.float32(-np.inf)))
        lims, sims, ids = self._index.range_search(queries, radius)
        return np.asarray(lims, dtype=np.int64), sims.astype(np.float32), ids.astype(np.int64)

    def assign(self, vectors: npt.NDArray[np.float32], nprobe: int = 1) -> npt.NDArray[np.int64]:
        """The nearest `nprobe` clusters of each vector (n x nprobe cluster numbers)."""
        return nearest_centroids(self.centroids, vectors, min(nprobe, self.nlist))

    def cluster_sizes(self) -> npt.NDArray[np.int64]:
        lists = self._index.invlists
        return np.array([lists.list_size(i) for i in range(self.nlist)], dtype=np.int64)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole index (centroids, lists, codes) atomically: temp file, fsync, rename."""
        replace_atomically(Path(path), lambda tmp: faiss.write_index(self._index, tmp))

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


ASSIGN_FLOATS = 1 << 23
"""Similarities computed per block by `nearest_centroids` (32 MiB)."""


def nearest_centroids(
    centroids: npt.NDArray[np.float32], vectors: npt.NDArray[np.float32], k: int
) -> npt.NDArray[np.int64]:
    """The k centroids of highest inner product with each vector, best first (n x k): what
    faiss's flat search of the centroids answers, by one BLAS product per block of vectors and
    k passes of argmax. faiss's own search took five times as long (its top-k selection, not
    the product, dominated: 10^6 vectors x 2,000 centroids cost minutes on two cores)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    out = np.empty((len(vectors), k), dtype=np.int64)
    block = max(1, ASSIGN_FLOATS // max(1, len(centroids)))
    for start in range(0, len(vectors), block):
        sims = vectors[start : start + block] @ centroids.T
        rows = np.arange(len(sims))
        if k > 8:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
            out[start : start + len(sims)] = np.take_along_axis(top, order, axis=1)
            continue
        for j in range(k):
            best = sims.argmax(axis=1)
            out[start : start + len(sims), j] = best
            sims[rows, best] = -np.inf
    return out


def _sample_or_centroids(
    sample: npt.NDArray[np.float32] | None, centroids: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(sample if sample is not None else centroids, dtype=np.float32)
