"""The index's all-pairs vector search one cluster at a time: in this process
(`cluster_blocks`, what `duplicates` runs locally: one BLAS matrix product per cluster, no
vector index built) or as an engine stage (a shuffle by cluster id) on a distributed engine.

Every stored image is a member of its stored (home) cluster; each image's vector and its
mirrored view are queries to their `nprobe` nearest clusters, the clusters an IVF search
probes. A cluster's task compares its queries with its members in one matrix product and keeps
the pairs at or above the floor, each image's nearest `MAX_NEIGHBOURS` of them in that
cluster. IVF search answers the same question (`neighbour_pairs` widens k until the k-th
neighbour falls below the floor), so the candidates are the same, found where the engine puts
each cluster, as long as no image has more than `MAX_NEIGHBOURS` neighbours in a cluster (a
one-image query keeps its nearest over all its probed clusters). Tasks
are built a batch of clusters at a time: the driver holds one batch of vectors, not a copy
of all of them per probe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neardup.engines.base import Engine, Stage, no_state
from neardup.index.base import ClusteredIndex
from neardup.index.nearest import nearest_per_query
from neardup.index.neighbours import FLOOR

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

BATCH_BYTES = 64 * 2**20
"""Vector bytes in one batch of cluster tasks handed to the engine."""


@dataclass(frozen=True, slots=True)
class ClusterTask:
    """One cluster's members and the queries that probe it (positions in the image list)."""

    members: IntArray
    member_vectors: FloatArray
    queries: IntArray
    query_vectors: FloatArray
    query_keys: IntArray
    """Whose nearest `MAX_NEIGHBOURS` each query's pairs count among: its image's (an image
    and its mirrored view share them), or its own (an inset view: `cluster_tasks`)."""

    @property
    def nbytes(self) -> int:
        return int(self.member_vectors.nbytes + self.query_vectors.nbytes)


def search_clusters(_state: None, tasks: list[ClusterTask]) -> list[tuple[IntArray, IntArray]]:
    """For each task, arrays (query position, member position) of every pair at or above
    the floor, an image never paired with itself."""
    return [_search(task) for task in tasks]


def _search(task: ClusterTask) -> tuple[IntArray, IntArray]:
    found_a, found_b = [], []
    for start in range(0, len(task.queries), QUERY_ROWS):
        block = task.query_vectors[start : start + QUERY_ROWS]
        sims = block @ task.member_vectors.T
        rows, cols = np.nonzero(sims >= FLOOR)
        a, b = task.queries[start + rows], task.members[cols]
        other = np.flatnonzero(a != b)
        # Each image's nearest, its mirrored view's neighbours counted with its own (when
        # both fall in one block of `QUERY_ROWS` queries), an inset view's apart.
        keys = task.query_keys[start + rows]
        keep = other[nearest_per_query(keys[other], sims[rows[other], cols[other]])]
        found_a.append(a[keep])
        found_b.append(b[keep])
    if len(found_a) == 1:
        return found_a[0], found_b[0]
    return np.concatenate(found_a), np.concatenate(found_b)


CLUSTER_SEARCH: Stage[ClusterTask, None, tuple[IntArray, IntArray]] = Stage(
    "cluster-search", no_state, search_clusters, chunk=4
)


def engine_blocks(
    tasks: Iterable[ClusterTask], engine: Engine
) -> Iterator[tuple[IntArray, IntArray]]:
    """Run cluster tasks on the engine's workers, a batch of `BATCH_BYTES` of vectors at a
    time; arrays (query position, member position) per task."""
    batch: list[ClusterTask] = []
    size = 0
    for task in tasks:
        batch.append(task)
        size += task.nbytes
        if size >= BATCH_BYTES:
            yield from _run(batch, engine)
            batch, size = [], 0
    yield from _run(batch, engine)


def cluster_blocks(
    coarse: ClusteredIndex,
    vectors: FloatArray,
    home: IntArray,
    flips: IntArray,
    mirrored: FloatArray,
    caps: IntArray | None = None,
) -> Iterator[tuple[IntArray, IntArray]]:
    """Every vector neighbour above the floor, each image's vector and mirrored view probing
    its clusters, in this process, as arrays (positions, positions) a cluster at a time, from
    the vectors themselves (row i: image i's): the all-pairs search of a whole index. Each
    cluster is one matrix product of its queries with its members, so no vector index (a
    second copy of every vector) is built, and the products run at BLAS speed (faiss's range
    search compares a query with one member at a time)."""
    for task in cluster_tasks(coarse, vectors, home, flips, mirrored, caps):
        yield _search(task)


QUERY_ROWS = 4096
"""Queries compared with a cluster's members at a time (bounds the similarity block when the
index is one big cluster)."""


def cluster_tasks(
    coarse: ClusteredIndex,
    vectors: FloatArray,
    home: IntArray,
    flips: IntArray,
    mirrored: FloatArray,
    caps: IntArray | None = None,
) -> Iterator[ClusterTask]:
    """One task per cluster: its members (`home[i]` is image i's cluster) and the queries
    probing it, each image's vector and the mirrored views `mirrored` of images `flips`
    probing their `coarse.nprobe` nearest clusters."""
    n = len(vectors)
    owners = np.concatenate([np.arange(n, dtype=np.int64), flips.astype(np.int64)])
    # The other views' cap keys (`caps`, by default their owners): an inset view's own key,
    # so a screenshot's many whole-picture look-alikes cannot crowd out its picture.
    keys = np.concatenate([owners[:n], flips if caps is None else caps.astype(np.int64)])
    probes = np.concatenate(
        [_assign(coarse, vectors), _assign(coarse, mirrored)]
        if len(flips)
        else [_assign(coarse, vectors)]
    )
    query_rows = np.repeat(np.arange(len(probes), dtype=np.int64), probes.shape[1])
    query_clusters = probes.reshape(-1)
    valid = query_clusters >= 0
    query_rows, query_clusters = query_rows[valid], query_clusters[valid]
    by_query = np.argsort(query_clusters, kind="stable")
    by_member = np.argsort(home, kind="stable")
    clusters = np.unique(query_clusters)
    q_start = np.searchsorted(query_clusters[by_query], clusters, side="left")
    q_end = np.searchsorted(query_clusters[by_query], clusters, side="right")
    m_start = np.searchsorted(home[by_member], clusters, side="left")
    m_end = np.searchsorted(home[by_member], clusters, side="right")
    for c in range(len(clusters)):
        members = by_member[m_start[c] : m_end[c]]
        if not len(members):
            continue
        rows = query_rows[by_query[q_start[c] : q_end[c]]]
        query = _gather(vectors, mirrored, rows)
        yield ClusterTask(members, vectors[members], owners[rows], query, keys[rows])


def _assign(coarse: ClusteredIndex, queries: FloatArray, block: int = 65_536) -> IntArray:
    """Each query's `nprobe` nearest clusters, a block of queries at a time."""
    parts = [
        coarse.assign(queries[start : start + block], coarse.nprobe)
        for start in range(0, len(queries), block)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.int64)


def _gather(vectors: FloatArray, mirrored: FloatArray, rows: IntArray) -> FloatArray:
    """Query rows: below len(vectors) an image's vector, from there on a mirrored view."""
    if not len(mirrored):
        return vectors[rows]
    n = len(vectors)
    out = np.empty((len(rows), vectors.shape[1]), dtype=np.float32)
    low = rows < n
    out[low] = vectors[rows[low]]
    out[~low] = mirrored[rows[~low] - n]
    return out


def _run(batch: list[ClusterTask], engine: Engine) -> Iterator[tuple[IntArray, IntArray]]:
    for _, found in engine.map(CLUSTER_SEARCH, batch):
        yield from found
