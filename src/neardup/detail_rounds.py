"""Which pairs of pages to compare word by word, in three rounds.

Ten copies of one invoice make 45 passing pairs; comparing the words of each cost a scan of
documents three times its time. Where a and b show the same words at the finest scale, and b
and c too, so do a and c. The first round compares a spanning forest of the pairs (no pair
joins two pictures already linked by that round's picks); pictures whose words agreed at the
finest scale are merged, and a pair inside one merged set is not compared: it agrees. A pair
that agreed only at a coarser scale (a blurred copy) merges nothing: a blurred page agrees
with other words too.

Two documents of one template, each with its copies, still leave a pair for every copy of
one and copy of the other. The second round compares `PROBES` of the pairs between each two
merged sets (pictures not shared first); where each of them, and any first-round comparison
between the two sets, is vetoed, the other pairs of those two sets inherit the veto, unless
the second round's agreements join the two sets (then the pictures contradict each other
and every pair is compared). The third round
compares every pair not settled. A single veto is not inherited: one wrong veto of a copy,
inherited by every copy of both sets, split groups on the graphics set; and the second
round's agreements merge nothing, as a look-alike form with few fields filled in agrees with
a page of its template at the finest scale about as often as a copy does (measured:
RESULTS.md, session 28). Each round starts the engine's workers, and their decoded pages,
anew: more rounds cost more than they save.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from neardup.detail_check import detail_same, detail_vetoes
from neardup.detail_compare import Detail

Pair = tuple[int, int]
PROBES = 2
"""Comparisons between two sets of pages showing the same words that, each vetoed, settle
their other pairs as vetoed."""


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
        """Pictures merged by the first round's agreements: a pair inside one agrees."""
        self._joined = _Sets()
        """Pictures merged by any round's agreements: two sets it joins are not told apart."""
        self._between: dict[Pair, list[Pair]] = {}
        """The pairs between each two merged sets (by their roots), from round 2."""
        self._probed: list[Pair] = []
        """The pairs round 2 compares: `PROBES` between each two sets, where there are."""
        self._round = 0
        self.found: dict[Pair, Detail | None] = {}
        """Each compared pair's comparison (None: the two did not align)."""
        self.inherited: set[Pair] = set()
        """Pairs not compared that inherit the veto of their sets' `PROBES` comparisons."""

    def next_round(self) -> list[Pair]:
        """Open pairs to compare now; empty when none is left (a pair inside one merged set
        agrees, and one between two sets told apart `PROBES` times is vetoed)."""
        self._round += 1
        if self._round == 1:
            forest = _Sets()
            return [(a, b) for a, b in self._open if forest.union(a, b)]
        if self._round == 2:
            for a, b in self._open:  # the first round's comparisons between two sets too
                ra, rb = self._same.find(a), self._same.find(b)
                if ra != rb:
                    self._between.setdefault((min(ra, rb), max(ra, rb)), []).append((a, b))
            self._open = []
            for pairs in self._between.values():
                self._probed.extend(_probes([pair for pair in pairs if pair not in self.found]))
            return self._probed
        picked = []
        probed = set(self._probed)
        for (ra, rb), pairs in self._between.items():
            rest = [pair for pair in pairs if pair not in self.found]
            if not rest:
                continue
            if self._told_apart(ra, rb, pairs, probed):
                self.inherited.update(rest)
            else:
                picked.extend(rest)
        self._between = {}
        return picked

    def _told_apart(self, ra: int, rb: int, pairs: list[Pair], probed: set[Pair]) -> bool:
        """Whether `PROBES` pairs between two sets were probed, every comparison between them
        (the first round's too) vetoed, and no agreement joins the two sets."""
        if sum(pair in probed for pair in pairs) < PROBES:
            return False
        if self._joined.find(ra) == self._joined.find(rb):
            return False
        compared = [self.found[pair] for pair in pairs if pair in self.found]
        return all(found is not None and detail_vetoes(found) for found in compared)

    def record(self, pair: Pair, found: Detail | None) -> None:
        """A comparison made: in the first round, merges the two pictures' sets where their
        words agreed at the finest scale (later rounds only keep the two sets joined)."""
        self.found[pair] = found
        if found is not None and not detail_vetoes(found) and detail_same(found):
            self._joined.union(*pair)
            if self._round == 1:
                self._same.union(*pair)


def linked(pairs: Sequence[Pair], passing: Iterable[Pair]) -> list[Pair]:
    """Those of `pairs` whose two pictures the `passing` pairs link, directly or through
    others: a group forms along passing pairs, so a veto elsewhere changes no group (but
    where the grouping joins two large groups found near each other, `group_joins.join_large`,
    which no calibration half showed)."""
    sets = _Sets()
    for a, b in passing:
        sets.union(a, b)
    return [(a, b) for a, b in pairs if sets.find(a) == sets.find(b)]


def _probes(pairs: list[Pair]) -> list[Pair]:
    """The first `PROBES` pairs, each next one sharing no picture with those before where
    there is such a pair (two copies' comparisons are more independent than one copy's)."""
    picked: list[Pair] = []
    for distinct in (True, False):
        for pair in pairs:
            if len(picked) == PROBES:
                return picked
            if pair in picked or (distinct and any(set(pair) & set(p) for p in picked)):
                continue
            picked.append(pair)
    return picked
