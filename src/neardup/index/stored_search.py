"""Every candidate pair among an index's stored images, from arrays: no row is decoded.

`duplicates` compares every stored image with the index. At a million images a `Features`
object per image and a faiss IVF holding a second copy of every vector cost more memory than
the features themselves, and the IVF's range search (one query against one member at a time)
most of the time. Here:
- the features scoring reads are stacked straight from the rows (`neardup.index.stored_arrays`),
  the vectors being the index's vector column itself (memory-mapped, or read once);
- exact copies pair through the numbered identity hashes of those stacks;
- the vector search runs cluster by cluster (`neardup.index.cluster_search`): each cluster's
  members against every vector probing it, one matrix product, the same pairs an IVF search
  of `nprobe` clusters finds;
- the hashes (every PDQ view) are searched in the index's hash search, from the stacked views.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from neardup.engines.base import Engine
from neardup.engines.local import LocalEngine
from neardup.index.cluster_search import cluster_blocks, cluster_tasks, engine_blocks
from neardup.index.neighbours import identity_pairs, stacked_views, vector_index
from neardup.index.stored_arrays import read_stacks
from neardup.index.view import IndexView
from neardup.method_scores import Stacks
from neardup.records import VIEWS

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]


PROBE_FACTOR = 1.5
"""The all-pairs search probes this many times the clusters a query probes (`Settings.nprobe`):
a pair is missed when neither image's probed clusters hold the other. At 3 x 10^5 synthetic
images (benchmarks/million.py) 4 probes missed 0.25 % of the planted pairs that score at the
cut (0.6 % at 10^6), 6 probes 0.08 %, 8 probes 0.03 %; the vector search costs about in
proportion (all candidates at 3 x 10^5: 26, 35, 48 s on two busy cores). A one-image query
keeps `nprobe`: it reads only its clusters, the all-pairs pass every cluster at BLAS speed."""


def all_pairs_probes(nprobe: int) -> int:
    """Clusters each image probes in the all-pairs search of an index probing `nprobe`."""
    return round(PROBE_FACTOR * nprobe)


def stored_stacks(index: IndexView) -> Stacks:
    """The stacked features of every stored image (position i: row `index.ids[i]`) that
    scoring the index's methods reads, the embeddings being its vector column."""
    given: Stacks = {}
    vectors = stored_vectors(index)
    if vectors is not None:
        given[index.settings.model] = (vectors, np.ones(len(vectors), dtype=bool))
    return read_stacks(index.db, index.ids, index.settings.methods, given)


def stored_vectors(index: IndexView) -> F32 | None:
    """The stored images' embeddings in position order: the vector column itself where the
    images are its first slots in order (no copy: at a million images that is 2 GiB), else
    the rows gathered."""
    ids, model = index.ids, index.settings.model
    if not model or not index.columns.dim or not len(ids):
        return None
    if ids[0] == 0 and ids[-1] == len(ids) - 1 and index.columns.count >= len(ids):
        # A plain view of the map: indexing a np.memmap subclass costs more than the copy.
        return np.asarray(index.columns.vectors()[: len(ids)])
    return index.columns.gather(ids)


def stored_candidates(
    index: IndexView, stacks: Stacks, engine: Engine
) -> Iterator[tuple[I64, I64]]:
    """Arrays (position, position) of every candidate pair among the stored images: exact
    copies, vector neighbours, hash neighbours. An image may meet itself; callers drop that."""
    methods, model = index.settings.methods, index.settings.model
    if "exact" in methods:
        yield from identity_pairs(stacks)
    if model in stacks and index.centroids is not None and len(index.ids):
        yield from _vector_candidates(index, stacks, engine)
    for search in index.search.hashes:
        if search.method not in stacks:
            continue
        which, views = stacked_views(stacks, search.method)
        for a, row_ids in search.near_views(which, views, index.positions):
            yield a, index.positions.many(row_ids)


def _vector_candidates(
    index: IndexView, stacks: Stacks, engine: Engine
) -> Iterator[tuple[I64, I64]]:
    """Every vector (and mirrored view) against the members of its `nprobe` nearest clusters:
    in this process on a local engine, cluster by cluster on a distributed one's workers."""
    assert index.centroids is not None
    model = index.settings.model
    vectors = stacks[model][0]
    owners, views, caps = [], [], []
    for kind in VIEWS:  # mirrored, inset and over-black views: more queries, owned by their image
        all_views, present = stacks.get(f"{kind}:{model}", (None, np.zeros(len(vectors), bool)))
        if all_views is not None and present.any():
            owners.append(np.flatnonzero(present).astype(np.int64))
            views.append(np.asarray(all_views[owners[-1]], dtype=np.float32))
            # A mirrored view's neighbours count with its image's, an inset's and an over-black
            # view's apart (a see-through picture's look-alikes over white cannot crowd out
            # its copy flattened onto black).
            caps.append(
                owners[-1] + len(vectors) * VIEWS.index(kind) if kind != "flip" else owners[-1]
            )
    flips = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    own = np.concatenate(caps) if caps else flips
    mirrored = (
        np.ascontiguousarray(np.concatenate(views))
        if views
        else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    )
    coarse = vector_index(index.centroids, all_pairs_probes(index.settings.nprobe))
    home = index.home_clusters()
    if len(home) and not 0 <= home.min() <= home.max() < coarse.nlist:
        home = coarse.assign(np.asarray(vectors))[:, 0]  # not assigned to these centroids
    if isinstance(engine, LocalEngine):
        yield from cluster_blocks(coarse, vectors, home, flips, mirrored, own)
    else:
        tasks = cluster_tasks(coarse, vectors, home, flips, mirrored, own)
        yield from engine_blocks(tasks, engine)
