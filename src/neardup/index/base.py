"""The nearest-neighbour interface every search backend implements.

`scan` asks one question of an index: for each image, which others are within reach (the
most similar above a floor, at most `neardup.index.nearest.MAX_NEIGHBOURS`). Answers stream
in query chunks, so memory grows with N x k, never N x N. The exact flat search serves tests
and small sets; the IVF index (saved k-means centroids, probing `nprobe` clusters) implements
the same protocol for large ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from neardup.index.nearest import most, nearest_per_query

Neighbours = tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]
"""(similarities, ids), each queries x k; missing neighbours have id -1."""


class Searchable(Protocol):
    """Unit vectors that can be searched by inner product (cosine similarity)."""

    def search(self, queries: npt.NDArray[np.float32], k: int) -> Neighbours: ...

    def __len__(self) -> int: ...


class VectorIndex(Searchable, Protocol):
    """Unit vectors, added and searched by inner product (cosine similarity)."""

    def add(self, vectors: npt.NDArray[np.float32]) -> None: ...


class ProbedIndex(VectorIndex, Protocol):
    """An index whose search can be told which clusters to probe (an IVF index)."""

    def search(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        probes: npt.NDArray[np.integer[Any]] | None = None,
    ) -> Neighbours: ...


class ClusteredIndex(ProbedIndex, Protocol):
    """What the image index keeps its vectors in: ids, clusters, removal, atomic saving.
    `IVFIndex` (k-means clusters, faiss) and `ExactIndex` (one cluster, plain numpy) are two."""

    nprobe: int

    @property
    def nlist(self) -> int: ...

    def add(
        self,
        vectors: npt.NDArray[np.float32],
        ids: npt.NDArray[np.int64] | None = None,
        *,
        clusters: npt.NDArray[np.integer[Any]] | None = None,
    ) -> None: ...

    def remove(self, ids: npt.NDArray[np.int64]) -> int: ...

    def assign(
        self, vectors: npt.NDArray[np.float32], nprobe: int = 1
    ) -> npt.NDArray[np.int64]: ...

    def cluster_sizes(self) -> npt.NDArray[np.int64]: ...

    def save(self, path: str | os.PathLike[str]) -> None: ...


def neighbour_pairs(
    index: Searchable,
    queries: npt.NDArray[np.float32],
    *,
    k: int,
    min_similarity: float,
    chunk: int = 4096,
    query_ids: npt.NDArray[np.int64] | None = None,
    probes: npt.NDArray[np.integer[Any]] | None = None,
) -> Iterator[tuple[int, int, float]]:
    """(query id, neighbour id, similarity) for every neighbour above the floor, self excluded
    (`neighbour_blocks`, one pair at a time)."""
    for a, b, sims in neighbour_blocks(
        index,
        queries,
        k=k,
        min_similarity=min_similarity,
        chunk=chunk,
        query_ids=query_ids,
        probes=probes,
    ):
        yield from zip(a.tolist(), b.tolist(), sims.tolist(), strict=True)


def neighbour_blocks(
    index: Searchable,
    queries: npt.NDArray[np.float32],
    *,
    k: int,
    min_similarity: float,
    chunk: int = 4096,
    query_ids: npt.NDArray[np.int64] | None = None,
    probes: npt.NDArray[np.integer[Any]] | None = None,
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
    """Arrays (query ids, neighbour ids, similarities) of the neighbours above the floor, self
    excluded, a block of queries at a time.

    `probes` (one row of cluster numbers per query, for a ProbedIndex) reuses a coarse
    assignment already made, e.g. when each vector was added: all-pairs over an IVF index then
    scans lists only."""
    k = min(k, len(index))
    if k <= 0:
        return
    k_most = max(k, most())
    ids = np.arange(len(queries)) if query_ids is None else query_ids

    def search(block: npt.NDArray[np.float32], start: int, rows: Any, width: int) -> Neighbours:
        if probes is None:
            return index.search(block[rows], width)
        chosen = probes[start : start + len(block)][rows]
        return cast(ProbedIndex, index).search(block[rows], width, chosen)

    within = getattr(index, "within", None) if probes is None else None
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk]
        block_ids = ids[start : start + chunk]
        if within is not None:  # an IVF index: one range search finds what widening would
            lims, sims_in, found_in = within(block, min_similarity)
            owner = np.repeat(np.asarray(block_ids, dtype=np.int64), np.diff(lims))
            # The nearest k_most + 1 (the query itself among them), as the widening keeps.
            valid = np.flatnonzero(found_in >= 0)
            valid = valid[nearest_per_query(owner[valid], sims_in[valid], k_most + 1)]
            other = valid[owner[valid] != found_in[valid]]
            yield owner[other], found_in[other], sims_in[other]
            continue
        sims, found = search(block, start, slice(None), k)
        # Queries whose k-th neighbour is still above the floor may have more: search them
        # again with a wider k (x4) until the last one falls below it, or `MAX_NEIGHBOURS`
        # are found, then answer from that single widest search, so 100 copies of one
        # picture are all found, each pair once, and 10,000 copies do not bring 10^8 pairs.
        more = sims[:, -1] >= min_similarity
        done = ~more
        yield _above(sims[done], found[done], block_ids[done], min_similarity)
        rows, wide = np.flatnonzero(more), k
        while rows.size:
            wide = min(len(index), wide * 4, k_most + 1)  # + 1: the query itself
            sims, found = search(block, start, rows, wide)
            finished = (sims[:, -1] < min_similarity) | (wide >= min(len(index), k_most + 1))
            yield _above(sims[finished], found[finished], block_ids[rows[finished]], min_similarity)
            rows = rows[~finished]


def _above(
    sims: npt.NDArray[np.float32],
    found: npt.NDArray[np.int64],
    ids: npt.NDArray[np.int64],
    floor: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    rows, cols = np.nonzero((sims >= floor) & (found >= 0))
    a = np.asarray(ids, dtype=np.int64)[rows]
    b = found[rows, cols].astype(np.int64)
    other = a != b
    return a[other], b[other], sims[rows, cols][other]
