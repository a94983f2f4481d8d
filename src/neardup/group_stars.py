"""Steps 2-4 of the grouping (`neardup.groups`): images placed in stars around centres, one hop
more at most, kept out of a star holding too many images they were told apart from for the
images they match there (as many, for an image mostly paper; more than twice as many, for a
picture).

A pair the words comparison vetoed (`neardup.detail_check`: two documents of one template) is
known to be two other pictures, yet a third image may match both (a copy too blurred to read):
as a centre it would gather both documents' copies. So centres are chosen first among images
whose matches hold no pair told apart (such a hub is no centre once another centre covers
it), and an image joins the best centre whose star holds fewer images it was told apart from
than images it matches (a copy wrongly told apart from one of its own group's images still
matches the rest), or up to `TOLD_PER_MATCH` times as many where the image is not mostly paper
(`features.page.mostly_paper`: a picture's copy whose logo or caption the words comparison
read as other words; such a picture joins even where an image it was told apart from is the
star's centre), as the star ends: one that joined while the star was small and no longer fits
it leaves it (RESULTS.md, session 30; step 3's images are read as step 3 ends, step 4's as step
4 ends: one step 4 brings in does not send out an image step 3 placed, which others may have
joined through); one that finds none is placed again with the other
images left out, among themselves, by the same steps. An image left over then (all its matches
in stars holding too many images it was told apart from: a third document matching only such a
copy) joins no group; its pairs are still listed. A centre whose star's images all went to
other centres is no centre: it is placed as any other image, so no group lacks members. Step 4
joins through images step 3 placed only: one hop past a star, never two. With nothing told
apart, one pass places every image.

Steps 3 and 4 break equal confidences by the words' agreement (`detail`): pages' pairs
saturate at confidence 1.0, look-alike pages' too. A pair with no `detail` counts as agreeing
(1.0): pictures that are no pages, an exact copy, pages inside a set whose words agreed (not
compared again); but also pages whose comparison found no alignment, which then outrank a
measured copy (RESULTS.md, session 30: not seen on the calibration halves).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence

from neardup.features.page import mostly_paper
from neardup.keeper_rank import keeper_rank
from neardup.records import Features, Pair

Matches = dict[int, dict[int, float]]
Agreement = Mapping[tuple[int, int], float]
"""Each matched pair's words agreement (`detail` score), keyed (smaller position, larger);
a pair without one is taken to agree (1.0)."""


WEAK_WORDS = 0.9
"""Words agreement (`detail`) below which a passing pair of pages links its images in the
grouping only where one of them has no other kind of passing pair. Of the passing page pairs of
the calibration halves (and two further documents sets), 0.80-0.90 held 206 copies and 728
look-alikes, 0.90 or more 4,881 copies and 327 look-alikes (RESULTS.md, sessions 31 and 33)."""


TOLD_PER_MATCH = 2
"""How many images of a star an image not mostly paper may be told apart from per image it
matches there and still join it (an image mostly paper: fewer than it matches). A picture's
copy whose logo, caption or noise the words comparison read as other words is told apart from
some of its copies while it passes with others. On 103 calibration halves (RESULTS.md, session
62) ties (R-s62c) added 163 right group pairs and twice (R-s62e) 81 more, none false; on 87
test halves, read after, 198 right and 51 false (R-s62e 7 more false on seed 95's): look-alikes
of one template whose grid keeps them under the paper share (spreadsheets, a dialog's screens)
and a burst frame joining a group. Letting pages in too joined the sheets of one template
(R-s62a)."""


def match_graph(
    pairs: Iterable[Pair], threshold: float
) -> tuple[Matches, dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    """Step 1: the pairs at or above `threshold` as a graph of confidences, with each pair's
    similarity and words agreement (`Agreement`), keyed (smaller position, larger). A pair
    listed twice counts by its strongest record, in any order. A pair of pages whose words
    agree less than `WEAK_WORDS` is left out unless one of its images has no pair that is
    not and keeps it (`_kept_weak_pairs`)."""
    confidence: Matches = defaultdict(dict)
    similarity: dict[tuple[int, int], float] = {}
    words: dict[tuple[int, int], float] = {}
    for pair in pairs:
        if pair.confidence < threshold or pair.a == pair.b:
            continue
        key = (pair.a, pair.b) if pair.a < pair.b else (pair.b, pair.a)
        known, agreeing = confidence[pair.a].get(pair.b), pair.scores.get("detail", 1.0)
        strength = (pair.confidence, pair.similarity, agreeing)
        if known is not None and (known, similarity[key], words[key]) >= strength:
            continue
        confidence[pair.a][pair.b] = confidence[pair.b][pair.a] = pair.confidence
        similarity[key], words[key] = pair.similarity, agreeing
    strong = {i for key, agreeing in words.items() if agreeing >= WEAK_WORDS for i in key}
    kept = _kept_weak_pairs(words, confidence, similarity, strong)
    for (a, b), agreeing in list(words.items()):
        if agreeing < WEAK_WORDS and (a, b) not in kept:
            del confidence[a][b], confidence[b][a], similarity[a, b], words[a, b]
    return confidence, similarity, words


def _kept_weak_pairs(
    words: Agreement,
    confidence: Matches,
    similarity: Mapping[tuple[int, int], float],
    strong: set[int],
) -> set[tuple[int, int]]:
    """The weak page pairs that still link: an image with no strong pair keeps its best weak
    one (words, then confidence, then similarity) and those with the images its best partner
    pairs strongly with, so a copy whose words read weak keeps its page's copies, and a
    look-alike page with no copy joins one page's group at most, never a hub joining many."""
    partners: dict[int, list[int]] = defaultdict(list)
    for key, agreeing in words.items():
        a, b = key
        if agreeing >= WEAK_WORDS:
            partners[a].append(b)
            partners[b].append(a)
    best: dict[int, tuple[tuple[float, float, float, int], int]] = {}
    weak: dict[int, list[int]] = defaultdict(list)
    for key, agreeing in words.items():
        if agreeing >= WEAK_WORDS:
            continue
        a, b = key
        for node, other in ((a, b), (b, a)):
            if node in strong:
                continue
            weak[node].append(other)
            rank = (agreeing, confidence[a][b], similarity[key], -other)
            if node not in best or rank > best[node][0]:
                best[node] = (rank, other)
    kept: set[tuple[int, int]] = set()
    for node, (_, partner) in best.items():
        star = {partner, *partners[partner]}
        kept.update((min(node, o), max(node, o)) for o in weak[node] if o in star)
    return kept


def told_apart(
    apart: Iterable[tuple[int, int]], pairs: Iterable[Pair], threshold: float
) -> dict[int, set[int]]:
    """Each image's images told apart from it (`apart`: the words comparison's vetoes), but
    for pairs other images show to be one picture: two or more images match both, more than
    match only one (a copy's rare wrong veto; two documents share at most the copies too
    degraded to read). On the calibration halves copies told apart share 67-83 % of their
    matches, other pictures at most 50 %. Matches are all pairs at or above `threshold`, those
    step 1 leaves out for weak words too: a noisy copy read as a page agrees weakly with its
    own copies' words, yet they are its matches (RESULTS.md, session 45, R99)."""
    matches: dict[int, set[int]] = defaultdict(set)
    for pair in pairs:
        if pair.confidence >= threshold and pair.a != pair.b:
            matches[pair.a].add(pair.b)
            matches[pair.b].add(pair.a)
    told: dict[int, set[int]] = defaultdict(set)
    for a, b in apart:
        ma, mb = matches.get(a, set()), matches.get(b, set())
        both = len(ma & mb)
        if both >= 2 and both > len(ma ^ mb):
            continue
        told[a].add(b)
        told[b].add(a)
    return told


def place(
    images: Sequence[Features],
    confidence: Matches,
    told: dict[int, set[int]],
    words: Agreement | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """(home: each matched image's centre, via: the image through which each non-centre
    joined) of the match graph `confidence`, kept out of stars as above (`told`: each image's
    images told apart from it). Among centres (or step 3's images) it matches at equal
    confidence, an image joins the one whose words agree with its own most (`words`):
    confidence saturates at 1.0 for copies and look-alike pages alike, and the order the
    centres were chosen in says nothing of which is its page (RESULTS.md, session 30)."""
    home: dict[int, int] = {}
    via: dict[int, int] = {}
    stars: dict[int, set[int]] = {}
    graph, pending = confidence, set(confidence)
    while graph:
        placed = _place_once(images, graph, confidence, told, home, via, stars, words or {})
        pending -= placed
        if not placed or not pending:
            break  # what is left matches only images of stars it was told apart from
        graph = {n: {m: c for m, c in confidence[n].items() if m in pending} for n in pending}
        graph = {n: matches for n, matches in graph.items() if matches}
    return home, via


def _place_once(
    images: Sequence[Features],
    graph: Matches,
    confidence: Matches,
    told: dict[int, set[int]],
    home: dict[int, int],
    via: dict[int, int],
    stars: dict[int, set[int]],
    words: Agreement,
) -> set[int]:
    """One pass of steps 2-4 over `graph`; returns the images it placed. Stars' images are
    kept only where images were told apart (the check reads them)."""
    centres = _centres(images, graph, told)
    paper = {n: mostly_paper(images[n].page) for n in told}  # held to fewer than they match
    order = {c: n for n, c in enumerate(centres)}  # a dict: `in` and the order in O(1)
    placed: set[int] = set(centres)
    joined: dict[int, int] = dict.fromkeys(centres, 0)
    for centre in centres:
        home[centre] = centre
        if told:
            stars[centre] = {centre}

    def fits(node: int, centre: int) -> bool:
        apart = told.get(node)
        if not apart:
            return True
        star = stars[centre]
        told_there, matched = len(apart & star), sum(m in star for m in confidence[node])
        return told_there < matched or (told_there <= TOLD_PER_MATCH * matched and not paper[node])

    def agree(node: int, other: int) -> float:
        return words.get((node, other) if node < other else (other, node), 1.0)

    def join(node: int, centre: int, through: int) -> None:
        home[node], via[node] = centre, through
        joined[centre] = joined.get(centre, 0) + 1
        placed.add(node)
        if told:
            stars[centre].add(node)
            members.append(node)

    def leave_unfit() -> None:
        """Members that joined a star before it was complete and no longer fit it leave it
        (until none does), to be placed again in the next pass."""
        while unfit := [n for n in members if not fits(n, home[n])]:
            for node in unfit:
                centre = home.pop(node)
                del via[node]
                joined[centre] -= 1
                placed.discard(node)
                stars[centre].discard(node)
            members[:] = [n for n in members if n not in unfit]

    members: list[int] = []
    """The images joined to stars in this step, where images were told apart."""

    for node in sorted(graph):  # step 3: the centre it matches best
        if node in placed:
            continue
        near = sorted(
            (c for c in graph[node] if c in order),
            key=lambda c: (-graph[node][c], -agree(node, c), order[c]),
        )
        best = next((c for c in near if fits(node, c)), None)
        if best is not None:
            join(node, best, best)
    leave_unfit()
    members.clear()
    for centre in centres:  # a centre every image of whose star went elsewhere is no centre
        if not joined[centre]:
            del home[centre], order[centre]
            placed.discard(centre)
            stars.pop(centre, None)
    starred = set(placed)  # step 4 joins through these only: one hop past a star, never two
    for node in sorted(graph):  # step 4: through the best image of a star it matches
        if node in placed:
            continue
        near = sorted(
            (m for m in graph[node] if m in starred),
            key=lambda m: (-graph[node][m], -agree(node, m), m),
        )
        best = next((m for m in near if fits(node, home[m])), None)
        if best is not None:
            join(node, home[best], best)
    leave_unfit()
    return placed


def _centres(
    images: Sequence[Features], confidence: Matches, told: dict[int, set[int]]
) -> list[int]:
    """Greedy cover of the match graph by stars (step 2), in the order chosen.

    An image matching two images told apart (a copy too degraded to read, matching two
    documents) would gather both as a centre, so such images come after every other, and not
    at all once another centre covers them; one read through an odd match (`_hubs`) does not,
    and neither counts nor covers that match. Lazy greedy: an image's gain only shrinks as
    others are covered, so a stale gain popped from the heap is recomputed and pushed back;
    the work grows with the pairs, not N^2.
    """
    covered: set[int] = set()
    centres: list[int] = []
    order = sorted(confidence, key=lambda i: keeper_rank(images[i]))
    rank = {node: r for r, node in enumerate(order)}
    hubs, odd = _hubs(confidence, told)

    def gain(node: int) -> tuple[int, float]:
        new = [m for m in confidence[node] if m not in covered and m != odd.get(node)]
        return len(new) + (node not in covered), sum(confidence[node][m] for m in new)

    heap = [(n in hubs, -g[0], -g[1], rank[n], n) for n in order for g in [gain(n)]]
    heapq.heapify(heap)
    while heap:
        hub, count, total, r, node = heapq.heappop(heap)
        now = gain(node)
        if (-now[0], -now[1]) != (count, total):
            if now[0] >= 2:
                heapq.heappush(heap, (hub, -now[0], -now[1], r, node))
            continue
        if now[0] < 2 or (hub and node in covered):
            continue  # a hub's turn may still come: the heap is ordered by that first
        centres.append(node)
        covered.add(node)
        covered.update(m for m in confidence[node] if m != odd.get(node))
    return centres


def _hubs(confidence: Matches, told: dict[int, set[int]]) -> tuple[set[int], dict[int, int]]:
    """The hubs: images matching both images of a pair told apart (read from the smaller of the
    two's matches); and apart from them, each with it, the images read through one odd match.
    Such an image was itself told apart from some image (its words were read), one same image
    of its matches is in every such pair, and that one matches more of its matches than it was
    told apart from: a copy of its page that the words told apart from one look-alike, not two
    documents meeting in a copy too degraded to read. As a hub, chosen last, a spreadsheet's
    original left its copies split over three small stars and a look-alike's (RESULTS.md,
    session 67)."""
    met: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, others in told.items():
        for b in others:
            if a < b and a in confidence and b in confidence:
                small, large = sorted((confidence[a], confidence[b]), key=len)
                for m in small:
                    if m in large:
                        met[m].append((a, b))
    odd: dict[int, int] = {}
    for m, pairs in met.items():
        near = confidence[m].keys()
        if m not in told or any(2 * _shared(confidence, t, near) >= len(near) for t in told[m]):
            continue  # not read, or told apart from an image half its matches match
        for one in _in_every(pairs):
            if len(told[one] & near) < _shared(confidence, one, near):
                odd[m] = one
                break
    return set(met) - set(odd), odd


def _shared(confidence: Matches, node: int, near: Collection[int]) -> int:
    """How many of `near` `node` matches."""
    return sum(n in near for n in confidence.get(node, ()))


def _in_every(pairs: list[tuple[int, int]]) -> list[int]:
    """The images in every pair of `pairs` (both, where there is one pair)."""
    return [node for node in pairs[0] if all(node in pair for pair in pairs)]
