"""The one candidate search: which images an image is compared with, in `scan` and in the
persistent index alike.

- exact copies: the same bytes, pixel or JPEG-picture hash (a star around the first image);
- embeddings: the nearest vectors by cosine, k at a time and widened while the k-th is still
  above the floor, of each embedding (and its mirrored view where one was made, and its
  inset's, the picture inside a frame, where there is one, and a see-through picture's view
  over black), in the vector
  index: exact search below `EXACT_BELOW` images, the IVF index's nprobe clusters above;
- PDQ: every dihedral view of each hash against the stored hashes: exhaustive (k nearest
  within `PDQ_RADIUS`, widened the same way) below `EXACT_BELOW`, a multi-index hash (exact
  32-bit sub-hash buckets, `PDQ_MULTI_RADIUS`) above, where scanning every hash does not pay;
- the imagehash family (phash, dhash, ahash, whash), when asked for: exhaustive Hamming.
Each search keeps each image's nearest `neardup.index.nearest.MAX_NEIGHBOURS`, so memory is
N x k, never N x N, even for thousands of copies of one picture. Only the pairs this proposes
are scored.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neardup.features.exact import IDENTITY_KEYS
from neardup.index.base import ClusteredIndex, Searchable, neighbour_blocks
from neardup.index.exact import ExactIndex
from neardup.index.hash_search import HashSearch, alive_mask
from neardup.index.ivf import IVFIndex
from neardup.index.nearest import K_NEIGHBOURS
from neardup.method_scores import HASH_METHODS, Stacks
from neardup.records import Features

I64 = npt.NDArray[np.int64]
FLOOR = 0.3
"""Cosine below which an embedding neighbour is not worth scoring."""
QUERY_BLOCK = 65_536
"""Query vectors stacked at a time (all of a million would be another 2 GiB)."""
EXACT_BELOW = 8_192
"""Collections smaller than this are searched exactly (one cluster, every PDQ hash): below
it IVF's training and probing cost about as much as comparing everything
(benchmarks/crossover.py, RESULTS.md), and exact search finds every neighbour."""


def vector_index(centroids: npt.NDArray[np.float32], nprobe: int) -> ClusteredIndex:
    """Where vectors are kept: the IVF index, or plain exact search while the collection is
    too small for more than one cluster (the same answers, nothing to train)."""
    if len(centroids) == 1:
        return ExactIndex(int(centroids.shape[1]))
    return IVFIndex(centroids, nprobe=nprobe)


def embedding_matrix(images: Sequence[Features], model: str) -> npt.NDArray[np.float32]:
    """The images' `model` embeddings, one row each."""
    return np.stack([f.embeddings[model] for f in images]).astype(np.float32)


def vector_neighbours(
    index: Searchable | None, images: Sequence[Features], model: str
) -> Iterator[tuple[int, int]]:
    """(position in `images`, indexed id) for the nearest indexed vectors of each embedding
    and of its other views (`vector_neighbour_blocks`, one pair at a time)."""
    yield from pairs_of(vector_neighbour_blocks(index, images, model))


def vector_neighbour_blocks(
    index: Searchable | None, images: Sequence[Features], model: str
) -> Iterator[tuple[I64, I64]]:
    """Arrays (positions in `images`, indexed ids) for the nearest indexed vectors of each
    embedding and of its other views (mirrored, inset, over black: `records.VIEWS`), a block
    of queries at a time."""
    if index is None or not len(index) or not images or not model:
        return
    for start in range(0, len(images), QUERY_BLOCK):  # not all query vectors at once
        queries = embedding_matrix(images[start : start + QUERY_BLOCK], model)
        owners = np.arange(start, start + len(queries), dtype=np.int64)
        yield from _owned_neighbours(index, queries, owners)
    for views in (
        [f.embeddings_flip for f in images],
        [f.embeddings_inset for f in images],
        [f.embeddings_dark for f in images],
    ):
        owners = np.array([n for n, v in enumerate(views) if model in v], dtype=np.int64)
        if owners.size:
            vectors = np.stack([views[n][model] for n in owners.tolist()])
            yield from _owned_neighbours(index, vectors, owners)


def _owned_neighbours(
    index: Searchable, queries: npt.NDArray[np.float32], owners: I64
) -> Iterator[tuple[I64, I64]]:
    """(owners[query], indexed id) for each query's neighbours above the floor.

    Queries get negative ids: `neighbour_blocks` drops a neighbour whose id equals the
    query's, which must never happen between a query's position and a stored row id (a new
    image at position q would lose stored row q). Callers drop true self-pairs."""
    for q, row_ids, _ in neighbour_blocks(
        index,
        queries,
        k=K_NEIGHBOURS + 1,
        min_similarity=FLOOR,
        query_ids=_negative(len(queries)),
    ):
        yield owners[-1 - q], row_ids


def _negative(n: int) -> npt.NDArray[np.int64]:
    """-1, -2, ..., -n: query ids that never equal a stored id."""
    return -1 - np.arange(n, dtype=np.int64)


def pairs_of(blocks: Iterable[tuple[I64, I64]]) -> Iterator[tuple[int, int]]:
    """The pairs of array blocks (positions, ids), one tuple each (for a few queries)."""
    for positions, row_ids in blocks:
        yield from zip(positions.tolist(), row_ids.tolist(), strict=True)


class Identity(Protocol):
    """Exact-copy lookups: a dict, or an index's stored rows (`neardup.index.lazy`)."""

    def get(self, key: tuple[str, str], default: None = None, /) -> int | None: ...

    def setdefault(self, key: tuple[str, str], value: int, /) -> int: ...


def first_ids(identity: Identity, column: str, values: Sequence[str | None]) -> list[int | None]:
    """`identity.get((column, v))` for many values (one query per few hundred where the
    identity is an index's stored rows)."""
    many = getattr(identity, "first_ids", None)
    if many is not None:
        found: list[int | None] = many(column, values)
        return found
    return [None if v is None else identity.get((column, v)) for v in values]


class CandidateSearch:
    """Every candidate source but the vectors, for a set of stored images: exact copies and
    the hashes. The vector index is kept by its owner (it is trained, saved and rebalanced),
    and searched here through `vector_neighbours`."""

    def __init__(
        self, methods: Sequence[str], *, large: bool = False, identity: Identity | None = None
    ) -> None:
        self.methods = tuple(methods)
        self.large = large
        self.hashes = [
            HashSearch(m, multi=large) for m in self.methods if m == "pdq" or m in HASH_METHODS
        ]
        empty: dict[tuple[str, str], int] = {}
        self.identity: Identity = empty if identity is None else identity
        """(identity feature, value) -> the first id with it (a dict, or the stored rows)."""

    def add(self, images: Sequence[Features], ids: Sequence[int]) -> None:
        for features, row_id in zip(images, ids, strict=True):
            for key in IDENTITY_KEYS:
                value = getattr(features, key)
                if value is not None:
                    self.identity.setdefault((key, value), row_id)
        self.add_hashes(images, ids)

    def add_hashes(self, images: Sequence[Features], ids: Sequence[int]) -> None:
        """Add the images' hashes only: for images whose identity hashes the identity holds
        already (an index's committed rows, which `StoredIdentity` reads; looking each one
        up again cost three queries per stored image)."""
        for search in self.hashes:
            search.add(images, ids)

    def reset_identity(self, images: Sequence[Features], ids: Sequence[int]) -> None:
        """Rebuild the exact-copy map from the images that remain (after a removal)."""
        fresh: dict[tuple[str, str], int] = {}
        self.identity = fresh
        for features, row_id in zip(images, ids, strict=True):
            for key in IDENTITY_KEYS:
                value = getattr(features, key)
                if value is not None:
                    self.identity.setdefault((key, value), row_id)

    def near(
        self,
        images: Sequence[Features],
        alive: Container[int],
        vectors: Searchable | None,
        model: str,
    ) -> Iterator[tuple[int, int]]:
        """(position in `images`, stored id) for every candidate: exact copies, vector
        neighbours, hash neighbours. An image may meet itself; callers drop that pair."""
        yield from pairs_of(self.near_blocks(images, alive, vectors, model))

    def near_blocks(
        self,
        images: Sequence[Features],
        alive: Container[int],
        vectors: Searchable | None,
        model: str,
    ) -> Iterator[tuple[I64, I64]]:
        """`near` as arrays (positions in `images`, stored ids), a block at a time: at a
        million images the candidates are tens of millions, too many for one tuple each."""
        if "exact" in self.methods:
            for key in IDENTITY_KEYS:
                found = first_ids(self.identity, key, [getattr(f, key) for f in images])
                hits = [(n, i) for n, i in enumerate(found) if i is not None]
                if hits:
                    at = np.array(hits, dtype=np.int64)
                    live = alive_mask(alive, at[:, 1])
                    yield at[live, 0], at[live, 1]
        yield from vector_neighbour_blocks(vectors, images, model)
        for search in self.hashes:
            yield from search.near(images, alive)


def stacked_views(stacks: Stacks, method: str) -> tuple[I64, npt.NDArray[np.uint8]]:
    """(which images have a hash, their views: images x views x bytes) of `method` from
    scoring's stacks (`neardup.method_scores`): PDQ's 8 dihedral views, an imagehash's one."""
    codes, present = stacks[method]
    which = np.flatnonzero(present).astype(np.int64)
    views = codes[which]
    return which, views if method == "pdq" else views[:, None, :]


def identity_pairs(stacks: Stacks) -> Iterator[tuple[I64, I64]]:
    """Arrays (position, position) pairing each image that shares a bytes, pixel or JPEG
    hash with the first image holding it: what `CandidateSearch.near_blocks` finds by exact
    copies, from the hashes numbered in the stacks (`id:<key>`)."""
    for key in IDENTITY_KEYS:
        codes = stacks["id:" + key][0]
        which = np.flatnonzero(codes >= 0)
        if not len(which):
            continue
        _, first = np.unique(codes[which], return_index=True)
        first_of = np.full(int(codes[which].max()) + 1, -1, dtype=np.int64)
        first_of[codes[which][first]] = which[first]
        yield which.astype(np.int64), first_of[codes[which]]


def pairs_within(
    images: Sequence[Features], methods: Sequence[str], model: str
) -> set[tuple[int, int]]:
    """Candidate pairs (i < j) among `images` alone, by the same search (exact search, as
    for a collection below `EXACT_BELOW`): a batch matched against itself."""
    if len(images) < 2:  # nothing to pair (and a search costs its threads' start-up)
        return set()
    search = CandidateSearch(methods)
    ids = list(range(len(images)))
    search.add(images, ids)
    vectors: ClusteredIndex | None = None
    usable = bool(model) and all(model in f.embeddings for f in images)
    if usable and len(images) > 1:
        vectors = ExactIndex(int(images[0].embeddings[model].shape[0]))
        vectors.add(embedding_matrix(images, model), np.array(ids, dtype=np.int64))
    pairs: set[tuple[int, int]] = set()
    for a, b in search.near(images, range(len(images)), vectors, model if usable else ""):
        if a != b:
            pairs.add((a, b) if a < b else (b, a))
    return pairs
