"""Stored hashes of one method (PDQ, or a 64-bit imagehash) searched by Hamming distance from
any number of views of each query: the hash half of the one candidate search
(`neardup.index.neighbours`). Exhaustive below `EXACT_BELOW` images (faiss's flat binary
index, k nearest widened while the k-th is within the radius), a multi-index hash of 32-bit
sub-hashes above (`neardup.index.subhash`); each query's nearest `MAX_NEIGHBOURS` over all its
views either way.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from neardup.index.exact import HammingIndex
from neardup.index.nearest import K_NEIGHBOURS, most, nearest_per_query
from neardup.index.subhash import SubHashIndex
from neardup.records import Features

I64 = npt.NDArray[np.int64]
PDQ_RADIUS = 96
"""Bits: a PDQ similarity of 0.25; presets start far above."""
PDQ_MULTI_RADIUS = 40
"""Bits, for the multi-index hash of large collections (similarity ~0.69)."""
HASH64_RADIUS = 20
BUCKET = 8
"""Stored codes read per query and 32-bit word in the multi-index (`SubHashIndex`), in
`MAX_NEIGHBOURS`."""
FEW_QUERIES = 64
"""Up to this many query hashes are compared with every stored code rather than hashed into
the multi-index (building it for 10^6 codes costs more than a few scans)."""


class HashSearch:
    """Stored hashes of one method, searched by Hamming distance from any number of views.

    Exhaustive: the k nearest, widened while the k-th is within the radius (so a hundred
    copies of one picture are all found), up to `MAX_NEIGHBOURS`. Multi-index (`multi=True`,
    256-bit PDQ only): hashes sharing an exact 32-bit sub-hash, within `PDQ_MULTI_RADIUS`, the
    nearest `MAX_NEIGHBOURS`. Removed ids linger and are skipped through `alive`.
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
        """Arrays (positions in `images`, stored ids): each image's nearest stored hashes
        within the radius of any of its views (`near_views`)."""
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
        query `which[i]`; arrays (which, stored ids) of the stored hashes within the radius
        of any view, each query's nearest `MAX_NEIGHBOURS` (+ 1: itself, when stored)."""
        if not self._count or not len(which):
            return
        stored_ids = self._id_array()
        kept: Hits | None = None
        for view in range(views.shape[1]):
            queries = np.ascontiguousarray(views[:, view])
            if not self.multi:
                hits = self._exhaustive(queries)
            elif self._index is None and len(queries) <= FEW_QUERIES:
                hits = self._multi_scan(queries)
            else:
                hits = self._multi(queries)
            for q, hit, bits in hits:
                row_ids = stored_ids[hit]
                live = alive_mask(alive, row_ids)
                found = (which[q[live]], row_ids[live], bits[live])
                kept = found if kept is None else _nearest_hits(kept, found)
        if kept is not None:
            owners, row_ids, _ = _nearest_hits(kept)
            yield owners, row_ids

    def _multi(self, queries: npt.NDArray[np.uint8]) -> Iterator[Hits]:
        if self._index is None:
            self._index = SubHashIndex()
            for codes in self._codes:
                self._index.add(codes)
            self._codes = []
        yield self._index.range_search_distances(queries, self.radius, BUCKET * most())

    def _multi_scan(self, queries: npt.NDArray[np.uint8]) -> Iterator[Hits]:
        """What the multi-index hash answers (a stored code sharing one of the 8 32-bit
        sub-hashes, within the radius; per word the first `BUCKET` x `MAX_NEIGHBOURS` codes
        sharing it, in the order stored), by comparing each query with every stored code."""
        stored = np.concatenate(self._codes) if len(self._codes) > 1 else self._codes[0]
        self._codes = [stored]
        words = stored.view(np.uint32)
        bucket = BUCKET * most()
        for q, query in enumerate(queries):
            equal = words == query.view(np.uint32)
            if equal.sum(axis=0).max() > bucket:  # as the multi-index reads a crowded word
                rows, columns = np.nonzero(equal)
                first = np.zeros_like(rows, dtype=bool)
                for j in range(equal.shape[1]):
                    first[np.flatnonzero(columns == j)[:bucket]] = True
                shared = np.unique(rows[first])
            else:
                # Eight equality bytes per code read as one uint64: nonzero = a shared
                # sub-hash (numpy's any() along a short axis is ten times slower).
                shared = np.flatnonzero(equal.view(np.uint64)[:, 0])
            close = stored[shared].view(np.uint64) ^ query.view(np.uint64)
            bits = np.bitwise_count(close).sum(axis=1, dtype=np.int64)
            within = np.flatnonzero(bits <= self.radius)
            found = shared[within].astype(np.int64)
            yield np.full(len(within), q, dtype=np.int64), found, bits[within]

    def _exhaustive(self, queries: npt.NDArray[np.uint8]) -> Iterator[Hits]:
        rows_left = np.arange(len(queries))
        total = self._count
        k = min(K_NEIGHBOURS + 1, total)
        while rows_left.size:
            distances, found = self._flat.search(queries[rows_left], k)
            hit_r, hit_c = np.nonzero((distances <= self.radius) & (found >= 0))
            yield (
                rows_left[hit_r].astype(np.int64),
                found[hit_r, hit_c].astype(np.int64),
                distances[hit_r, hit_c].astype(np.int64),
            )
            if k >= min(total, most() + 1):  # the nearest only (+ 1: the query)
                break
            rows_left = rows_left[distances[:, -1] <= self.radius]
            k = min(total, k * 4, most() + 1)


Hits = tuple[I64, I64, I64]
"""(query, stored, distance in bits) of hash neighbours."""


def _nearest_hits(*blocks: Hits) -> Hits:
    """The hits of `blocks`, each (query, stored) pair once at its least distance, and each
    query's nearest `MAX_NEIGHBOURS` + 1 (itself, when stored, among them)."""
    queries, stored, bits = (np.concatenate(part) for part in zip(*blocks, strict=True))
    order = np.lexsort((bits, stored, queries))
    queries, stored, bits = queries[order], stored[order], bits[order]
    first = np.ones(len(queries), dtype=bool)
    first[1:] = (queries[1:] != queries[:-1]) | (stored[1:] != stored[:-1])
    queries, stored, bits = queries[first], stored[first], bits[first]
    kept = nearest_per_query(queries, -bits, most() + 1)
    return queries[kept], stored[kept], bits[kept]


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
