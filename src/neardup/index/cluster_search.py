"""The index's all-pairs vector search one cluster at a time, as an engine stage (a shuffle by
cluster id): what a distributed engine runs instead of one IVF search on the driver.

Every stored image is a member of its stored (home) cluster; each image's vector and its
mirrored view are queries to their `nprobe` nearest clusters, the clusters an IVF search
probes. A cluster's task compares its queries with its members in one matrix product and keeps
the pairs at or above the floor. IVF search answers the same question (`neighbour_pairs`
widens k until the k-th neighbour falls below the floor, so it returns every probed member
above it), so the candidates are the same, found where the engine puts each cluster. Tasks
are built a batch of clusters at a time: the driver holds one batch of vectors, not a copy
of all of them per probe.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neardup.engines.base import Engine, Stage, no_state
from neardup.index.base import ClusteredIndex
from neardup.index.neighbours import FLOOR, embedding_matrix
from neardup.records import Features

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

    @property
    def nbytes(self) -> int:
        return int(self.member_vectors.nbytes + self.query_vectors.nbytes)


def search_clusters(_state: None, tasks: list[ClusterTask]) -> list[list[tuple[int, int]]]:
    """For each task, (query position, member position) of every pair at or above the floor,
    an image never paired with itself."""
    out: list[list[tuple[int, int]]] = []
    for task in tasks:
        sims = task.query_vectors @ task.member_vectors.T
        rows, cols = np.nonzero(sims >= FLOOR)
        a, b = task.queries[rows], task.members[cols]
        keep = a != b
        out.append(list(zip(a[keep].tolist(), b[keep].tolist(), strict=True)))
    return out


CLUSTER_SEARCH: Stage[ClusterTask, None, list[tuple[int, int]]] = Stage(
    "cluster-search", no_state, search_clusters, chunk=4
)


def cluster_neighbours(
    ivf: ClusteredIndex,
    images: Sequence[Features],
    home: IntArray,
    model: str,
    engine: Engine,
) -> Iterator[tuple[int, int]]:
    """(position, position) for every vector neighbour above the floor, each image's vector
    and mirrored view probing its `nprobe` nearest clusters; `home[i]` is image i's cluster."""
    if not images:
        return
    vectors = embedding_matrix(images, model)
    flips = np.array([n for n, f in enumerate(images) if model in f.embeddings_flip], np.int64)
    query_vectors = vectors
    owners = np.arange(len(images), dtype=np.int64)
    if len(flips):
        mirrored = np.stack([images[n].embeddings_flip[model] for n in flips]).astype(np.float32)
        query_vectors = np.concatenate([vectors, mirrored])
        owners = np.concatenate([owners, flips])
    probes = ivf.assign(query_vectors, ivf.nprobe)
    query_rows = np.repeat(np.arange(len(query_vectors), dtype=np.int64), probes.shape[1])
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
    batch: list[ClusterTask] = []
    size = 0
    for c in range(len(clusters)):
        members = by_member[m_start[c] : m_end[c]]
        if not len(members):
            continue
        rows = query_rows[by_query[q_start[c] : q_end[c]]]
        task = ClusterTask(members, vectors[members], owners[rows], query_vectors[rows])
        batch.append(task)
        size += task.nbytes
        if size >= BATCH_BYTES:
            yield from _run(batch, engine)
            batch, size = [], 0
    yield from _run(batch, engine)


def _run(batch: list[ClusterTask], engine: Engine) -> Iterator[tuple[int, int]]:
    for _, found in engine.map(CLUSTER_SEARCH, batch):
        for pairs in found:
            yield from pairs
