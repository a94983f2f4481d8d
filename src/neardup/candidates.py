"""Candidate pairs without N x N: each method proposes near neighbours, the union is scored.

- exact: images sharing a bytes or pixel hash are linked in a star around the first, so a
  thousand copies make 999 candidates, not half a million;
- embeddings: the k nearest neighbours by cosine (faiss), above a floor well below any preset;
- hashes: the k nearest by Hamming distance, every dihedral view of PDQ queried, within a
  radius well beyond any preset.
Memory is N x k; the floors only bound how much weak evidence is passed on to scoring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from neardup.features.exact import IDENTITY_KEYS
from neardup.index import FlatIndex, HammingIndex, VectorIndex, neighbour_pairs
from neardup.records import Features
from neardup.scoring import EMBEDDING_METHODS, HASH_METHODS

K_NEIGHBOURS = 16
EMBEDDING_FLOOR = 0.3
PDQ_RADIUS = 96
"""Bits: a PDQ similarity of 0.25; presets start far above."""
HASH64_RADIUS = 20


def candidate_pairs(
    images: list[Features],
    methods: Iterable[str],
    *,
    k: int = K_NEIGHBOURS,
    vector_index: type[VectorIndex] | None = None,
) -> set[tuple[int, int]]:
    """Index pairs (i < j) worth scoring, from every requested method."""
    methods = tuple(methods)
    pairs: set[tuple[int, int]] = set()
    if len(images) < 2:
        return pairs
    pairs |= _exact(images)
    for method in methods:
        if method in EMBEDDING_METHODS:
            pairs |= _embedding(images, method, k, vector_index)
        elif method == "pdq":
            pairs |= _pdq(images, k)
        elif method in HASH_METHODS:
            pairs |= _hash64(images, method, k)
    return pairs


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _exact(images: list[Features]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for key in IDENTITY_KEYS:
        first: dict[str, int] = {}
        for i, f in enumerate(images):
            value = getattr(f, key)
            if value is None:
                continue
            if value in first:
                pairs.add(_ordered(first[value], i))
            else:
                first[value] = i
    return pairs


def _embedding(
    images: list[Features], method: str, k: int, index_type: type[VectorIndex] | None
) -> set[tuple[int, int]]:
    ids = np.array([i for i, f in enumerate(images) if method in f.embeddings], dtype=np.int64)
    if len(ids) < 2:
        return set()
    vectors = np.stack([images[i].embeddings[method] for i in ids]).astype(np.float32)
    index: VectorIndex = (index_type or FlatIndex)(vectors.shape[1])  # type: ignore[call-arg]
    index.add(vectors)
    pairs: set[tuple[int, int]] = set()
    for a, b, _ in neighbour_pairs(index, vectors, k=k + 1, min_similarity=EMBEDDING_FLOOR):
        pairs.add(_ordered(int(ids[a]), int(ids[b])))
    flipped = [i for i in ids.tolist() if method in images[i].embeddings_flip]
    if flipped:
        queries = np.stack([images[i].embeddings_flip[method] for i in flipped])
        position = {int(v): p for p, v in enumerate(ids.tolist())}
        query_ids = np.array([position[i] for i in flipped], dtype=np.int64)
        for a, b, _ in neighbour_pairs(
            index, queries, k=k + 1, min_similarity=EMBEDDING_FLOOR, query_ids=query_ids
        ):
            pairs.add(_ordered(int(ids[a]), int(ids[b])))
    return pairs


def _pdq(images: list[Features], k: int) -> set[tuple[int, int]]:
    ids = [i for i, f in enumerate(images) if f.pdq is not None]
    if len(ids) < 2:
        return set()
    views = np.stack([images[i].pdq for i in ids])  # type: ignore[misc]
    index = HammingIndex(256)
    index.add(np.ascontiguousarray(views[:, 0]))
    pairs: set[tuple[int, int]] = set()
    for view in range(views.shape[1]):
        queries = np.ascontiguousarray(views[:, view])
        pairs |= _hamming_pairs(index, queries, ids, k + 1, PDQ_RADIUS)
    return pairs


def _hash64(images: list[Features], method: str, k: int) -> set[tuple[int, int]]:
    ids = [i for i, f in enumerate(images) if method in f.hashes]
    if len(ids) < 2:
        return set()
    codes = np.stack([images[i].hashes[method] for i in ids])
    index = HammingIndex(64)
    index.add(codes)
    return _hamming_pairs(index, codes, ids, k + 1, HASH64_RADIUS)


def _hamming_pairs(
    index: HammingIndex, queries: np.ndarray, ids: list[int], k: int, radius: int
) -> set[tuple[int, int]]:
    """Pairs within `radius` bits; a query whose k-th neighbour is still within it is asked
    again with a wider k, so many copies of one picture are all found."""
    pairs: set[tuple[int, int]] = set()
    rows_left = np.arange(len(queries))
    k = min(k, len(index))
    while rows_left.size:
        distances, found = index.search(queries[rows_left], k)
        hit_r, hit_c = np.nonzero((distances <= radius) & (found >= 0))
        for r, c in zip(hit_r.tolist(), hit_c.tolist(), strict=True):
            a, b = ids[int(rows_left[r])], ids[int(found[r, c])]
            if a != b:
                pairs.add(_ordered(a, b))
        if k >= len(index):
            break
        rows_left = rows_left[distances[:, -1] <= radius]
        k = min(len(index), k * 4)
    return pairs


def by_image(pairs: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    """Adjacency lists of a pair set."""
    adjacency: dict[int, list[int]] = defaultdict(list)
    for a, b in pairs:
        adjacency[a].append(b)
        adjacency[b].append(a)
    return adjacency
