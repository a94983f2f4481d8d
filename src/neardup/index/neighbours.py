"""The one candidate search: which images an image is compared with, in `scan` and in the
persistent index alike.

- exact copies: the same bytes, pixel or JPEG-picture hash (a star around the first image);
- embeddings: the nearest vectors by cosine, k at a time and widened while the k-th is still
  above the floor, of each embedding (and its mirrored view where one was made), in the vector
  index: exact search below `EXACT_BELOW` images, the IVF index's nprobe clusters above;
- PDQ: every dihedral view of each hash against the stored hashes: exhaustive (k nearest
  within `PDQ_RADIUS`, widened the same way) below `EXACT_BELOW`, a multi-index hash (exact
  32-bit sub-hash buckets, `PDQ_MULTI_RADIUS`) above, where scanning every hash does not pay;
- the imagehash family (phash, dhash, ahash, whash), when asked for: exhaustive Hamming.
Memory is N x k, never N x N. Only the pairs this proposes are scored.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neardup.features.exact import IDENTITY_KEYS
from neardup.index.base import ClusteredIndex, Searchable, neighbour_blocks
from neardup.index.exact import ExactIndex, HammingIndex
from neardup.index.ivf import IVFIndex
from neardup.index.subhash import SubHashIndex
from neardup.method_scores import HASH_METHODS, Stacks
from neardup.records import Features

I64 = npt.NDArray[np.int64]
K_NEIGHBOURS = 16
FLOOR = 0.3
"""Cosine below which an embedding neighbour is not worth scoring."""
PDQ_RADIUS = 96
"""Bits: a PDQ similarity of 0.25; presets start far above."""
PDQ_MULTI_RADIUS = 40
"""Bits, for the multi-index hash of large collections (similarity ~0.69)."""
HASH64_RADIUS = 20
QUERY_BLOCK = 65_536
"""Query vectors stacked at a time (all of a million would be another 2 GiB)."""
FEW_QUERIES = 64
"""Up to this many query hashes are compared with every stored code rather than hashed into
the multi-index (building it for 10^6 codes costs more than a few scans)."""
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
    and of its mirrored view (`vector_neighbour_blocks`, one pair at a time)."""
    yield from pairs_of(vector_neighbour_blocks(index, images, model))


def vector_neighbour_blocks(
    index: Searchable | None, images: Sequence[Features], model: str
) -> Iterator[tuple[I64, I64]]:
    """Arrays (positions in `images`, indexed ids) for the nearest indexed vectors of each
    embedding and of its mirrored view, a block of queries at a time."""
    if index is None or not len(index) or not images or not model:
        return
    for start in range(0, len(images), QUERY_BLOCK):  # not all query vectors at once
        queries = embedding_matrix(images[start : start + QUERY_BLOCK], model)
        owners = np.arange(start, start + len(queries), dtype=np.int64)
        yield from _owned_neighbours(index, queries, owners)
    flips = np.array(
        [n for n, f in enumerate(images) if model in f.embeddings_flip], dtype=np.int64
    )
    if flips.size:
        mirrored = np.stack([images[n].embeddings_flip[model] for n in flips.tolist()])
        yield from _owned_neighbours(index, mirrored, flips)


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


class HashSearch:
    """Stored hashes of one method, searched by Hamming distance from any number of views.

    Exhaustive: the k nearest, widened while the k-th is within the radius (so a hundred
    copies of one picture are all found). Multi-index (`multi=True`, 256-bit PDQ only): hashes
    sharing an exact 32-bit sub-hash, within `PDQ_MULTI_RADIUS`. Removed ids linger and are
    skipped through `alive`.
    """

    def __init__(self, method: str, *, multi: bool = False) -> None:
        self.method = method
        self.bits = 256 if method == "pdq" else 64
        self.multi = multi and method == "pdq"
        self.radius = (
            PDQ_MULTI_RADIUS if self.multi else PDQ_RADIUS if method == "pdq" else HASH64_RADIUS
        )
        self._flat = HammingIndex(self.bits)
        self._index: SubHashIndex | None = None
        self._codes: list[npt.NDArray[np.uint8]] = []
        """Multi-index mode: the stored codes, hashed into `_index` only when many images
        are searched (a few queries compare with every code: the same hits, no build)."""
        self._ids: list[npt.NDArray[np.int64]] = []
        """The stored ids, in the order their codes were added (one array per add)."""
        self._count = 0

    def _views(self, f: Features) -> npt.NDArray[np.uint8] | None:
        if self.method == "pdq":
            return f.pdq
        code = f.hashes.get(self.method)
        return None if code is None else code[None, :]

    def add(self, images: Sequence[Features], ids: Sequence[int]) -> None:
        rows = [
            (i, v[0]) for i, f in zip(ids, images, strict=True) if (v := self._views(f)) is not None
        ]
        if not rows:
            return
        codes = np.ascontiguousarray(np.stack([code for _, code in rows]))
        self.add_codes(codes, np.array([i for i, _ in rows], dtype=np.int64))

    def add_codes(self, codes: npt.NDArray[np.uint8], ids: npt.NDArray[np.int64]) -> None:
        """Add stored hashes (one row each) with their ids."""
        if not len(ids):
            return
        if not self.multi:
            self._flat.add(codes)
        elif self._index is not None:
            self._index.add(np.ascontiguousarray(codes))
        else:
            self._codes.append(np.ascontiguousarray(codes))
        self._ids.append(np.asarray(ids, dtype=np.int64))
        self._count += len(ids)

    def _id_array(self) -> npt.NDArray[np.int64]:
        if len(self._ids) > 1:
            self._ids = [np.concatenate(self._ids)]
        return self._ids[0]

    def __len__(self) -> int:
        return self._count

    def near(self, images: Sequence[Features], alive: Container[int]) -> Iterator[tuple[I64, I64]]:
        """Arrays (positions in `images`, stored ids) of every view within the radius."""
        which = np.array(
            [n for n, f in enumerate(images) if self._views(f) is not None], dtype=np.int64
        )
        if not self._count or not which.size:
            return
        views = np.stack([self._views(images[n]) for n in which.tolist()])  # type: ignore[misc]
        yield from self.near_views(which, views, alive)

    def near_views(
        self, which: I64, views: npt.NDArray[np.uint8], alive: Container[int]
    ) -> Iterator[tuple[I64, I64]]:
        """`near` for hashes already stacked: `views[i]` (views x bytes) are the hashes of
        query `which[i]`; arrays (which, stored ids) of every view within the radius."""
        if not self._count or not len(which):
            return
        stored_ids = self._id_array()
        for view in range(views.shape[1]):
            queries = np.ascontiguousarray(views[:, view])
            if not self.multi:
                hits = self._exhaustive(queries)
            elif self._index is None and len(queries) <= FEW_QUERIES:
                hits = self._multi_scan(queries)
            else:
                hits = self._multi(queries)
            for q, hit in hits:
                row_ids = stored_ids[hit]
                live = alive_mask(alive, row_ids)
                yield which[q[live]], row_ids[live]

    def _multi(self, queries: npt.NDArray[np.uint8]) -> Iterator[tuple[I64, I64]]:
        if self._index is None:
            self._index = SubHashIndex()
            for codes in self._codes:
                self._index.add(codes)
            self._codes = []
        yield self._index.range_search(queries, self.radius)

    def _multi_scan(self, queries: npt.NDArray[np.uint8]) -> Iterator[tuple[I64, I64]]:
        """What the multi-index hash answers (a stored code sharing one of the 8 32-bit
        sub-hashes, within the radius), by comparing each query with every stored code."""
        stored = np.concatenate(self._codes) if len(self._codes) > 1 else self._codes[0]
        self._codes = [stored]
        words = stored.view(np.uint32)
        for q, query in enumerate(queries):
            # Eight equality bytes per code read as one uint64: nonzero = a shared sub-hash
            # (numpy's any() along a short axis is ten times slower).
            equal = words == query.view(np.uint32)
            shared = np.flatnonzero(equal.view(np.uint64)[:, 0])
            close = stored[shared].view(np.uint64) ^ query.view(np.uint64)
            hits = shared[np.bitwise_count(close).sum(axis=1) <= self.radius].astype(np.int64)
            yield np.full(len(hits), q, dtype=np.int64), hits

    def _exhaustive(self, queries: npt.NDArray[np.uint8]) -> Iterator[tuple[I64, I64]]:
        rows_left = np.arange(len(queries))
        total = self._count
        k = min(K_NEIGHBOURS + 1, total)
        while rows_left.size:
            distances, found = self._flat.search(queries[rows_left], k)
            hit_r, hit_c = np.nonzero((distances <= self.radius) & (found >= 0))
            yield rows_left[hit_r].astype(np.int64), found[hit_r, hit_c].astype(np.int64)
            if k >= total:
                break
            rows_left = rows_left[distances[:, -1] <= self.radius]
            k = min(total, k * 4)


def alive_mask(alive: Container[int], row_ids: I64) -> npt.NDArray[np.bool_]:
    """Which of `row_ids` are in `alive`: a range or an index's `Positions` in one array
    operation, anything else id by id."""
    many = getattr(alive, "contains_many", None)
    if many is not None:
        found: npt.NDArray[np.bool_] = many(row_ids)
        return found
    if isinstance(alive, range) and alive.step == 1:
        return (row_ids >= alive.start) & (row_ids < alive.stop)
    return np.fromiter((int(i) in alive for i in row_ids), dtype=bool, count=len(row_ids))


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
