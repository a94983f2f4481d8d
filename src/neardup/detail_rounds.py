"""Which passing pairs of pages to compare word by word, in rounds, and what the rest inherit.

Ten copies of one invoice make 45 passing pairs; comparing the words of each cost a scan of
documents three times its time. Words are shared the way copies are: where a and b show the
same words at the finest scale, and b and c too, so do a and c; where a's words differ from
d's, so do b's. Each round compares a spanning forest of the pairs still open (within one
round no pair joins two pictures already linked by that round's picks); then pictures whose
words agreed at the finest scale are merged, and a pair whose two pictures are merged
inherits agreement, one whose two merged sets hold `CONFIRMED` vetoed pairs and no pair that
was not vetoed inherits the veto (one wrong veto of a copy, inherited by every copy of both
sets, split groups on the graphics set). Rounds repeat until no pair is open; the order (the
given one: most confident first) makes it deterministic. A pair that agreed only at a coarser
scale (a blurred copy) merges nothing: a blurred page agrees with other words too.
"""

from __future__ import annotations

from collections.abc import Sequence

from neardup.detail_check import detail_same, detail_vetoes
from neardup.detail_compare import Detail

Pair = tuple[int, int]
ROUNDS = 2
"""The round from which every open pair is compared."""
CONFIRMED = 2
"""Vetoed pairs between two sets of copies (and none not vetoed) from which the other pairs
between them inherit the veto."""


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
    """The comparisons to make, round by round, and each pair's outcome."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self._open = list(pairs)
        self._same = _Sets()
        self._between: list[tuple[Pair, Detail, bool]] = []
        """Compared pairs that merged nothing: (pair, comparison, vetoed)."""
        self._round = 0
        self.found: dict[Pair, Detail | None] = {}
        """Each compared pair's comparison (None: the two did not align)."""

    def next_round(self) -> list[Pair]:
        """Open pairs to compare now: a spanning forest of them (every open one from round
        `ROUNDS` on: each round starts the engine's workers, and their pages, anew); empty
        when none is open."""
        self._round += 1
        apart = self._apart()
        still, picked, linked = [], [], _Sets()
        for a, b in self._open:
            ra, rb = self._same.find(a), self._same.find(b)
            if (a, b) in self.found or ra == rb or (min(ra, rb), max(ra, rb)) in apart:
                continue  # compared, or inherits
            still.append((a, b))
            if self._round >= ROUNDS or linked.union(ra, rb):
                picked.append((a, b))
        self._open = still
        return picked

    def record(self, pair: Pair, found: Detail | None) -> None:
        """A comparison made: merges the two pictures' sets where their words agreed at the
        finest scale."""
        self.found[pair] = found
        if found is None:
            return
        if not detail_vetoes(found) and detail_same(found):
            self._same.union(*pair)
        else:
            self._between.append((pair, found, detail_vetoes(found)))

    def inherited(self, pair: Pair) -> Detail | None:
        """For a pair not compared: the vetoed comparison whose verdict it inherits (its
        pictures' sets hold a vetoed pair), else None (it agrees, or nothing is known)."""
        if pair in self.found:
            return None
        ra, rb = self._same.find(pair[0]), self._same.find(pair[1])
        return self._apart().get((min(ra, rb), max(ra, rb)))

    def _apart(self) -> dict[Pair, Detail]:
        """Pairs of sets whose words differ: each with one of its vetoed comparisons."""
        seen: dict[Pair, tuple[int, bool, Detail]] = {}
        for (a, b), found, vetoed in self._between:
            ra, rb = self._same.find(a), self._same.find(b)
            key = (min(ra, rb), max(ra, rb))
            count, clean, first = seen.get(key, (0, True, found))
            seen[key] = (count + vetoed, clean and vetoed, first if count else found)
        return {k: f for k, (n, clean, f) in seen.items() if clean and n >= CONFIRMED}
