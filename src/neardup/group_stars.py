"""Steps 2-4 of the grouping (`neardup.groups`): images placed in stars around centres, one hop
more at most, kept out of a star whose images they were mostly told apart from.

A pair the words comparison vetoed (`neardup.detail_check`: two documents of one template) is
known to be two other pictures, yet a third image may match both (a copy too blurred to read):
as a centre it would gather both documents' copies. So centres are chosen first among images
whose matches hold no pair told apart, and an image joins the best centre whose star holds no
more images it was told apart from than images it matches (a copy wrongly told apart from one
of its own group's images still matches the rest); one that finds none is placed again with
the other images left out, among themselves, by the same steps. An image left over then (all
its matches in stars holding more images it was told apart from: a third document matching
only such a copy) joins no group; its pairs are still listed. With nothing told apart, one
pass places every image as before.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from neardup.keeper_rank import keeper_rank
from neardup.records import Features

Matches = dict[int, dict[int, float]]


def place(
    images: Sequence[Features], confidence: Matches, apart: dict[int, set[int]]
) -> tuple[dict[int, int], dict[int, int]]:
    """(home: each matched image's centre, via: the image through which each non-centre
    joined) of the match graph `confidence`, kept out of stars as above."""
    home: dict[int, int] = {}
    via: dict[int, int] = {}
    stars: dict[int, set[int]] = {}
    pending = set(confidence)
    while pending:
        graph = {n: {m: c for m, c in confidence[n].items() if m in pending} for n in pending}
        graph = {n: matches for n, matches in graph.items() if matches}
        placed = _place_once(images, graph, confidence, apart, home, via, stars)
        if not placed:
            break  # what is left matches only images of stars it was told apart from
        pending -= placed
    return home, via


def _place_once(
    images: Sequence[Features],
    graph: Matches,
    confidence: Matches,
    apart: dict[int, set[int]],
    home: dict[int, int],
    via: dict[int, int],
    stars: dict[int, set[int]],
) -> set[int]:
    """One pass of steps 2-4 over `graph`; returns the images it placed."""
    centres = centres_of(images, graph, apart)
    order = {c: n for n, c in enumerate(centres)}  # a dict: `in` and the order in O(1)
    placed: set[int] = set()
    for centre in centres:
        home[centre] = centre
        stars[centre] = {centre}
        placed.add(centre)

    def fits(node: int, centre: int) -> bool:
        told = apart.get(node)
        if not told:
            return True
        star = stars[centre]
        return len(told & star) <= sum(m in star for m in confidence[node])

    def join(node: int, centre: int, through: int) -> None:
        home[node], via[node] = centre, through
        stars[centre].add(node)
        placed.add(node)

    for node in sorted(graph):  # step 3: the centre it matches best
        if node in placed:
            continue
        near = sorted(
            (c for c in graph[node] if c in order), key=lambda c: (-graph[node][c], order[c])
        )
        best = next((c for c in near if fits(node, c)), None)
        if best is not None:
            join(node, best, best)
    for node in sorted(graph):  # step 4: every image it matches is placed; through the best
        if node in placed:
            continue
        near = sorted((m for m in graph[node] if m in placed), key=lambda m: (-graph[node][m], m))
        best = next((m for m in near if fits(node, home[m])), None)
        if best is not None:
            join(node, home[best], best)
    return placed


def centres_of(
    images: Sequence[Features], confidence: Matches, apart: dict[int, set[int]] | None = None
) -> list[int]:
    """Greedy cover of the match graph by stars (step 2), in the order chosen.

    An image matching two images told apart (`apart`: a copy too degraded to read, matching
    two documents) would gather both as a centre, so such images come after every other.
    Lazy greedy: an image's gain only shrinks as others are covered, so a stale gain popped
    from the heap is recomputed and pushed back; the work grows with the pairs, not N^2.
    """
    covered: set[int] = set()
    centres: list[int] = []
    order = sorted(confidence, key=lambda i: keeper_rank(images[i]))
    rank = {node: r for r, node in enumerate(order)}
    told = apart or {}
    hub = {n: _bridges(confidence[n], told) for n in order}

    def gain(node: int) -> tuple[int, float]:
        new = [m for m in confidence[node] if m not in covered]
        return len(new) + (node not in covered), sum(confidence[node][m] for m in new)

    heap = [(hub[n], -g[0], -g[1], rank[n], n) for n in order for g in [gain(n)]]
    heapq.heapify(heap)
    while heap:
        bridge, count, total, r, node = heapq.heappop(heap)
        now = gain(node)
        if (-now[0], -now[1]) != (count, total):
            if now[0] >= 2:
                heapq.heappush(heap, (bridge, -now[0], -now[1], r, node))
            continue
        if now[0] < 2:
            continue  # a hub's turn may still come: the heap is ordered by that first
        centres.append(node)
        covered.add(node)
        covered.update(confidence[node])
    return centres


def _bridges(matches: dict[int, float], told: dict[int, set[int]]) -> bool:
    """Whether two of the images `matches` holds were told apart from each other."""
    return any(not told.get(m, set()).isdisjoint(matches) for m in matches)
