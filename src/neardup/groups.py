"""Groups without chaining: a star around a keeper, every member checked against the keeper.

Linking pairs transitively (union-find, connected components) lets a long path of small edits
join unrelated images: A~B, B~C, ..., Y~Z puts A and Z in one group. Here a group is a keeper
and the images whose own pair with the keeper passed the threshold, nothing else:
1. images are ranked as keepers by resolution (not counting letterbox borders), then file
   size, then path (the copy a person would keep);
2. the best-ranked image not yet in a group, if it has unassigned matches, becomes a keeper,
   and takes them as members;
3. repeat. An image that matches only a member (not the keeper) is not pulled in; its pair
   stays in `pairs`, and it can still lead a group of its own.
"""

from __future__ import annotations

import math
from collections import defaultdict

from neardup.records import Features, Group, Pair


def keeper_rank(image: Features) -> tuple[int, bool, int, str]:
    """Sort key: highest resolution (borders excluded, within 2 %), then no added borders,
    then largest file, then path."""
    steps = int(math.log(max(image.content_pixels, 1)) / math.log(1.02))
    return (-steps, image.trimmed is not None, -image.size, image.path)


def build_groups(images: list[Features], pairs: list[Pair], threshold: float) -> list[Group]:
    """Keeper-centred groups from the pairs at or above `threshold`."""
    matches: dict[int, dict[int, float]] = defaultdict(dict)
    for pair in pairs:
        if pair.similarity >= threshold:
            matches[pair.a][pair.b] = pair.similarity
            matches[pair.b][pair.a] = pair.similarity
    assigned: set[int] = set()
    groups: list[Group] = []
    for node in sorted(matches, key=lambda i: keeper_rank(images[i])):
        if node in assigned:
            continue
        members = [(m, s) for m, s in matches[node].items() if m not in assigned]
        if not members:
            continue
        members.sort(key=lambda ms: (-ms[1], keeper_rank(images[ms[0]])))
        assigned.add(node)
        assigned.update(m for m, _ in members)
        groups.append(Group(keeper=node, members=members))
    groups.sort(key=lambda g: (-len(g.members), images[g.keeper].path))
    return groups
