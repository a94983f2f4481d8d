"""A multi-index hash of 256-bit codes (PDQ) from sorted arrays.

A stored code is a candidate for a query when one of its eight 32-bit words equals the
query's word at the same place; candidates within the Hamming radius are the answer. That is
what faiss's `IndexBinaryMultiHash(256, 8, 32)` answers (and `HashSearch._multi_scan` by
brute force), but faiss keeps eight hash maps of vectors (hundreds of bytes per code at 10^6
codes) and looks each query up one at a time. Here each word place is one sorted array, and
all queries are matched against it by one binary search: a million images' eight views search
in seconds, in about 100 bytes per stored code.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
WORDS = 8
"""32-bit words in a 256-bit code."""


class SubHashIndex:
    """Stored 256-bit codes (rows of 32 bytes, numbered in the order added), searched by
    shared 32-bit words, then Hamming distance."""

    def __init__(self) -> None:
        self._parts: list[U8] = []
        self._codes = np.zeros((0, 32), dtype=np.uint8)
        self._order: list[I64] = []
        self._sorted: list[npt.NDArray[np.uint32]] = []

    def add(self, codes: U8) -> None:
        """Add codes (n x 32 bytes); sorted again at the next search."""
        self._parts.append(np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, 32))

    def __len__(self) -> int:
        return len(self._codes) + sum(len(p) for p in self._parts)

    def _build(self) -> None:
        if not self._parts:
            return
        self._codes = np.ascontiguousarray(np.concatenate([self._codes, *self._parts]))
        self._parts = []
        words = self._codes.view(np.uint32)
        self._order = [np.argsort(words[:, j], kind="stable") for j in range(WORDS)]
        self._sorted = [np.ascontiguousarray(words[o, j]) for j, o in enumerate(self._order)]

    def range_search(self, queries: U8, radius: int) -> tuple[I64, I64]:
        """(query row, stored number) of every stored code sharing a word with the query and
        within `radius` bits of it, each pair once."""
        q, s, _ = self.range_search_distances(queries, radius)
        return q, s

    def range_search_distances(
        self, queries: U8, radius: int, bucket: int | None = None
    ) -> tuple[I64, I64, I64]:
        """`range_search` with each pair's distance in bits. `bucket` bounds the stored codes
        read per query and word (the first of them): thousands of copies of one picture share
        their words, and every pair of them would be read."""
        self._build()
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, 32)
        if not len(self._codes) or not len(queries):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        words = queries.view(np.uint32)
        stored = self._codes.view(np.uint32)
        found_q, found_s, found_d = [], [], []
        for j in range(WORDS):
            q, s = self._shared(j, words[:, j], bucket)
            if j and bucket is None:  # found already through an earlier word: each pair once
                fresh = ~(words[q, :j] == stored[s, :j]).any(axis=1)
                q, s = q[fresh], s[fresh]
            close = self._codes[s].view(np.uint64) ^ queries[q].view(np.uint64)
            bits = np.bitwise_count(close).sum(axis=1, dtype=np.int64)
            keep = bits <= radius
            found_q.append(q[keep])
            found_s.append(s[keep])
            found_d.append(bits[keep])
        q, s, d = np.concatenate(found_q), np.concatenate(found_s), np.concatenate(found_d)
        if bucket is not None:  # an earlier word's bucket may have been cut: each pair once
            _, first = np.unique(q * len(self._codes) + s, return_index=True)
            q, s, d = q[first], s[first], d[first]
        return q, s, d

    def _shared(
        self, j: int, wanted: npt.NDArray[np.uint32], bucket: int | None = None
    ) -> tuple[I64, I64]:
        """(query row, stored number) of the stored codes whose word j equals the query's
        (at most `bucket` of them per query)."""
        column, order = self._sorted[j], self._order[j]
        low = np.searchsorted(column, wanted, side="left")
        hit = low < len(column)
        hit[hit] = column[low[hit]] == wanted[hit]
        rows = np.flatnonzero(hit)
        low = low[rows]
        high = np.searchsorted(column, wanted[rows], side="right")
        counts = high - low if bucket is None else np.minimum(high - low, bucket)
        query_rows = np.repeat(rows.astype(np.int64), counts)
        starts = np.repeat(low - np.cumsum(counts) + counts, counts)
        at = starts + np.arange(len(query_rows), dtype=np.int64)
        return query_rows, order[at].astype(np.int64)
