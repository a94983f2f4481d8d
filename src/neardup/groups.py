"""Groups that keep every found pair and never chain: stars around centres, one hop more at most.

Linking pairs transitively (union-find, connected components) lets a long path of small edits
join unrelated images: A~B, B~C, ..., Y~Z puts A and Z in one group. Keeping only a star around
the keeper loses pairs instead: a copy that matches the original but not the chosen keeper (a
letterboxed or rotated copy kept for its size) falls out of every group. The rule here:

1. The match graph holds the pairs at or above the threshold.
2. Centres are chosen greedily: the image whose matches cover the most images not yet covered
   (itself included; ties: more confidence, then keeper rank). An original with many copies is
   the natural centre. Choosing stops when no image would cover two or more new ones.
3. Every other covered image joins the centre it matches with the highest confidence.
4. An image left over (each image it matches is already in a group, none of them a centre it
   matches) joins the group of the image it matches best, through that image: one hop past a
   star, never more, so two images in a group are at most four matched pairs apart, and every
   image is in a group with an image it matches directly.
5. The keeper of a group is its best image by `keeper_rank` (highest resolution without
   borders, then no added borders, then largest file), whatever the centre was. Each member
   is listed with its similarity to the keeper when that pair was found, else to the image
   that brought it in (`Group.via`).
So every image with a passing pair ends in a group together with an image it matches.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Sequence

from neardup.records import Features, Group, Pair

BORDER_HANDICAP = 0.9
"""A copy with added borders (a tenth of its frame or more) must hold over 1/0.9 as many
picture pixels to be kept over one without: a trim a row or two off must not decide."""


def keeper_rank(image: Features) -> tuple[int, bool, int, str, int]:
    """Sort key: highest resolution (borders excluded, within 2 %; bordered copies handicapped
    by `BORDER_HANDICAP`), then no added borders, then largest file, then path, then the
    earliest frame (a run of near-identical video frames keeps its first)."""
    bordered = image.content_pixels < 0.9 * image.pixels
    effective = image.content_pixels * (BORDER_HANDICAP if bordered else 1.0)
    steps = int(math.log(max(effective, 1.0)) / math.log(1.02))
    return (-steps, bordered, -image.size, image.path, image.frame or 0)


def build_groups(images: Sequence[Features], pairs: list[Pair], threshold: float) -> list[Group]:
    """Groups from the pairs whose confidence is at or above `threshold` (rule above)."""
    confidence: dict[int, dict[int, float]] = defaultdict(dict)
    similarity: dict[tuple[int, int], float] = {}
    for pair in pairs:
        if pair.confidence >= threshold and pair.a != pair.b:
            confidence[pair.a][pair.b] = max(pair.confidence, confidence[pair.a].get(pair.b, 0))
            confidence[pair.b][pair.a] = confidence[pair.a][pair.b]
            similarity[_key(pair.a, pair.b)] = pair.similarity
    centres = _centres(images, confidence)
    order = {c: n for n, c in enumerate(centres)}  # a dict: `in` and the order in O(1)
    home: dict[int, int] = {c: c for c in centres}
    via: dict[int, int] = {}
    for node in sorted(confidence):
        if node in home:
            continue
        near = [c for c in confidence[node] if c in order]
        if near:
            best = max(near, key=lambda c: (confidence[node][c], -order[c]))
            home[node], via[node] = best, best
    for node in sorted(confidence):
        if node in home:
            continue
        # Step 4: every image it matches is already placed; join through the best of them.
        best = max(confidence[node], key=lambda m: (confidence[node][m], -m))
        home[node], via[node] = home[best], best
    members: dict[int, list[int]] = defaultdict(list)
    for node, centre in home.items():
        members[centre].append(node)
    groups = [_group(images, nodes, via, similarity) for nodes in members.values()]
    groups.sort(key=lambda g: (-len(g.members), images[g.keeper].path))
    return groups


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _centres(images: Sequence[Features], confidence: dict[int, dict[int, float]]) -> list[int]:
    """Greedy cover of the match graph by stars (step 2), in the order chosen.

    Lazy greedy: an image's gain only shrinks as others are covered, so a stale gain popped
    from the heap is recomputed and pushed back; the work grows with the pairs, not N^2.
    """
    covered: set[int] = set()
    centres: list[int] = []
    order = sorted(confidence, key=lambda i: keeper_rank(images[i]))
    rank = {node: r for r, node in enumerate(order)}

    def gain(node: int) -> tuple[int, float]:
        new = [m for m in confidence[node] if m not in covered]
        return len(new) + (node not in covered), sum(confidence[node][m] for m in new)

    heap = [(-g[0], -g[1], rank[n], n) for n in order for g in [gain(n)]]
    heapq.heapify(heap)
    while heap:
        count, total, r, node = heapq.heappop(heap)
        now = gain(node)
        if (-now[0], -now[1]) != (count, total):
            if now[0] >= 2:
                heapq.heappush(heap, (-now[0], -now[1], r, node))
            continue
        if now[0] < 2:
            break
        centres.append(node)
        covered.add(node)
        covered.update(confidence[node])
    return centres


def _group(
    images: Sequence[Features],
    nodes: list[int],
    via: dict[int, int],
    similarity: dict[tuple[int, int], float],
) -> Group:
    keeper = min(nodes, key=lambda i: keeper_rank(images[i]))
    members: list[tuple[int, float]] = []
    links: dict[int, int] = {}
    for node in nodes:
        if node == keeper:
            continue
        if _key(node, keeper) in similarity:
            members.append((node, similarity[_key(node, keeper)]))
            continue
        # Matched to the centre or to a member, not to the keeper: name that image.
        other = via.get(node, keeper)
        if other == keeper or _key(node, other) not in similarity:
            other = via.get(keeper, other)  # the keeper joined through the centre
        links[node] = other
        members.append((node, similarity.get(_key(node, other), 0.0)))
    members.sort(key=lambda ms: (-ms[1], keeper_rank(images[ms[0]])))
    return Group(keeper=keeper, members=members, via=links)
