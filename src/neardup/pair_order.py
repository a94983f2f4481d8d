"""Pairs ordered for an engine's chunks, so that a worker reads each picture about once.

A stage that reads both pictures of a pair (the geometric check) keeps what it read in a
per-worker cache; pairs that share pictures belong in one chunk.
"""

from __future__ import annotations

from collections import defaultdict, deque

from neardup.item_pixels import Ref, ref_order


def by_image(pairs: list[tuple[Ref, Ref]], chunk: int = 64) -> list[tuple[Ref, Ref]]:
    """The pairs reordered so that each run of `chunk` (the engine's unit of work) holds
    whole groups of pictures that share pairs, as far as the sizes allow.

    Each worker keeps the keypoints of the pictures it has read (`Verifier`'s cache), so a
    group of copies checked within one chunk is read once; split over chunks on two workers
    it is read twice. Groups (connected pairs) of `chunk` pairs or more fill whole chunks,
    the rest are packed best-fit into the remaining chunks (a piece is split only when none
    fits). A group larger than a chunk is ordered breadth-first (`_near_first`), so that the
    consecutive chunks an engine deals to one worker (`engines.base.Shares`) share most of
    their pictures. The order changes no result: each check is deterministic.
    """
    parent: dict[Ref, Ref] = {}

    def root(path: Ref) -> Ref:
        while parent.setdefault(path, path) != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb, key=ref_order)] = min(ra, rb, key=ref_order)
    groups: dict[Ref, list[tuple[Ref, Ref]]] = {}
    for pair in pairs:
        groups.setdefault(root(pair[0]), []).append(pair)
    out: list[tuple[Ref, Ref]] = []
    pieces: list[list[list[tuple[Ref, Ref]]]] = [[] for _ in range(chunk)]  # by size
    for group in groups.values():
        if len(group) > chunk:
            group = _near_first(group)
        whole = len(group) - len(group) % chunk
        out += group[:whole]
        if whole < len(group):
            pieces[len(group) - whole].append(group[whole:])
    free = chunk
    while True:
        fits = next((n for n in range(min(free, chunk - 1), 0, -1) if pieces[n]), 0)
        if fits:
            out += pieces[fits].pop()
            free -= fits
        else:
            largest = next((n for n in range(chunk - 1, 0, -1) if pieces[n]), 0)
            if not largest:
                break
            piece = pieces[largest].pop()
            out += piece[:free]
            pieces[largest - free].append(piece[free:])
            free = 0
        if free == 0:
            free = chunk
    return out


def _near_first(pairs: list[tuple[Ref, Ref]]) -> list[tuple[Ref, Ref]]:
    """`pairs` with pairs of nearby pictures next to each other: the pictures ranked
    breadth-first from the least connected (a candidate graph of look-alikes is one large
    group, whose pairs in index order spread every chunk over the whole of it), each pair by
    its pictures' ranks."""
    around: dict[Ref, list[Ref]] = defaultdict(list)
    for a, b in pairs:
        around[a].append(b)
        around[b].append(a)

    def fewest(ref: Ref) -> tuple[int, tuple[str, int, tuple[int, ...]]]:
        return len(around[ref]), ref_order(ref)

    rank: dict[Ref, int] = {}
    for start in sorted(around, key=fewest):
        if start in rank:
            continue
        rank[start] = len(rank)
        queue = deque([start])
        while queue:
            for other in sorted(around[queue.popleft()], key=fewest):
                if other not in rank:
                    rank[other] = len(rank)
                    queue.append(other)
    return sorted(pairs, key=lambda p: sorted((rank[p[0]], rank[p[1]])))
