"""Pairs ordered for an engine's chunks, so that a worker reads each picture about once.

A stage that reads both pictures of a pair (the geometric check) keeps what it read in a
per-worker cache; pairs that share pictures belong in one chunk.
"""

from __future__ import annotations

from neardup.item_pixels import Ref, ref_order


def by_image(pairs: list[tuple[Ref, Ref]], chunk: int = 64) -> list[tuple[Ref, Ref]]:
    """The pairs reordered so that each run of `chunk` (the engine's unit of work) holds
    whole groups of pictures that share pairs, as far as the sizes allow.

    Each worker keeps the keypoints of the pictures it has read (`Verifier`'s cache), so a
    group of copies checked within one chunk is read once; split over chunks on two workers
    it is read twice. Groups (connected pairs) of `chunk` pairs or more fill whole chunks,
    the rest are packed best-fit into the remaining chunks (a piece is split only when none
    fits). The order changes no result: each check is deterministic.
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
