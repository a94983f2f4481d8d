"""Which passing pairs of pages to compare word by word, in two rounds.

Ten copies of one invoice make 45 passing pairs; comparing the words of each cost a scan of
documents three times its time. Where a and b show the same words at the finest scale, and b
and c too, so do a and c. The first round compares a spanning forest of the pairs (no pair
joins two pictures already linked by that round's picks); pictures whose words agreed at the
finest scale are merged, and a pair inside one merged set is not compared: it agrees. The
second round compares every other pair (each round starts the engine's workers, and their
decoded pages, anew: more rounds cost more than they saved). A pair that agreed only at a
coarser scale (a blurred copy) merges nothing: a blurred page agrees with other words too.
Vetoes are not inherited: one wrong veto of a copy, inherited by every copy of both sets,
split groups on the graphics set.
"""

from __future__ import annotations

from collections.abc import Sequence

from neardup.detail_check import detail_same, detail_vetoes
from neardup.detail_compare import Detail

Pair = tuple[int, int]
ROUNDS = 2
"""The round from which every open pair is compared."""


class _Sets:
    """Union-find over picture positions."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while x != root:  # path halving: later finds are short
            self._parent[x], x = root, self._parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self._parent[max(ra, rb)] = min(ra, rb)
        return True


class WordRounds:
    """The comparisons to make, round by round, and the pairs they settle."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self._open = list(pairs)
        self._same = _Sets()
        self._round = 0
        self.found: dict[Pair, Detail | None] = {}
        """Each compared pair's comparison (None: the two did not align)."""

    def next_round(self) -> list[Pair]:
        """Open pairs to compare now: a spanning forest of them, then (from round `ROUNDS`)
        every one left; empty when none is open. A pair inside one merged set is settled."""
        self._round += 1
        still, picked, linked = [], [], _Sets()
        for a, b in self._open:
            ra, rb = self._same.find(a), self._same.find(b)
            if (a, b) in self.found or ra == rb:
                continue
            still.append((a, b))
            if self._round >= ROUNDS or linked.union(ra, rb):
                picked.append((a, b))
        self._open = still
        return picked

    def record(self, pair: Pair, found: Detail | None) -> None:
        """A comparison made: merges the two pictures' sets where their words agreed at the
        finest scale."""
        self.found[pair] = found
        if found is not None and not detail_vetoes(found) and detail_same(found):
            self._same.union(*pair)
