"""Step 6 of the grouping (`neardup.groups`): star groups of one picture joined, one level.

Each image is paired with its nearest few, so the stars of hundreds of near-identical items
(a static shot's frames) split one picture into several groups, and a greedy cover can leave
an original in a star with its crop while its other copies form a star around a copy the
original does not match. Linked groups join, the smaller into the larger, where their keepers
score as one picture (`SAME_PICTURE`) or where the smaller group's keeper matches more of the
larger's images than of its own, or as many from two, or where most of the smaller group's
images each match more of the larger's images than of their own, or where its images' pairs
with the larger's outnumber their pairs among themselves (`_belongs`; not where both
keepers are mostly paper, nor pages where the words told an image of either group apart); a
group that took others in is never taken in, so nothing chains; groups told apart by their
words more than they match stay apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from neardup.detail_check import two_pages
from neardup.features.page import mostly_paper
from neardup.keeper_rank import keeper_rank
from neardup.records import Features, Pair

SAME_PICTURE = 0.98
"""The `similarity` from which two images are one picture: two groups' keepers so join
(`join_same_picture`), and an image with `groups.LARGER_ORIGINAL` times the central keeper's
pixels is kept instead (a larger original of a downscaled copy, not a larger canvas around
it); chosen on the calibration halves (benchmarks/RESULTS.md)."""

TIE_FROM = 2
"""The matches in the larger group from which a keeper matching as many of its own joins it:
a keeper that is one link of a chain of small edits matches one image on each side, and a
group joined so would chain (session 66)."""

ScoreNow = Callable[[list[tuple[int, int]]], list[Pair]]
"""Scores pairs of images on demand (positions a < b, none of them listed): the pairs at or
above the cut."""

NearKeepers = Callable[[list[int]], list[tuple[int, int]]]
"""Candidate pairs among the given images (positions), found by the caller's candidate search."""


def join_same_picture(
    images: Sequence[Features],
    members: dict[int, list[int]],
    home: dict[int, int],
    via: dict[int, int],
    keeper: dict[int, int],
    confidence: dict[int, dict[int, float]],
    similarity: dict[tuple[int, int], float],
    threshold: float,
    score_now: ScoreNow,
    told: dict[int, set[int]],
) -> set[int]:
    """Step 6: groups of one picture split by the bound on each image's neighbours join.

    Each image is paired with its nearest few (`neardup.index.nearest`), so hundreds of
    near-identical items (a static shot's frames, a placeholder's re-encodes) are covered by
    several stars. Groups linked by a pair whose keepers are the same picture (their pair,
    listed or scored now, at the cut with `similarity` >= `SAME_PICTURE`) join, the smaller
    into the larger, one level only: a group that took others in is not taken in, so no chain
    forms. A smaller group whose keeper matches more of the larger's images than of its own, or
    as many from two, or most of whose images each match more of the larger's images than of
    their own, or whose images' pairs with the larger's outnumber their pairs among themselves,
    joins so too, except where both keepers are mostly paper, or pages and the words
    told an image of either group apart (`_belongs`). `keeper`: each star's keeper,
    on which the groups it takes in hang. Returns the groups (by centre) that took others in."""
    linked: dict[int, set[int]] = defaultdict(set)
    for node, centre in home.items():
        for other in confidence[node]:
            if home.get(other, centre) != centre:
                linked[centre].add(home[other])
    wanted = {pair_key(keeper[c], keeper[d]) for c in linked for d in linked[c]}
    if not wanted:
        return set()
    # Each linked group's images' listed matches, before the keeper pairs scored now join the
    # graph, and each group's images before any joins: a group joins on its own images'
    # evidence, never on that of a group taken in before it (one level).
    listed = {n: dict(confidence[n]) for c in linked for n in members[c]}
    own = {c: list(nodes) for c, nodes in members.items()}
    same = _same_picture(wanted, confidence, similarity, threshold, score_now)
    taken: set[int] = set()
    took: set[int] = set()
    for centre in sorted(members, key=lambda c: (-len(members[c]), keeper_rank(images[keeper[c]]))):
        if centre in taken:
            continue
        for other in sorted(linked[centre] - taken, key=lambda c: (-len(members[c]), c)):
            a, b = keeper[centre], keeper[other]
            if other not in members:
                continue
            through = a
            if same.get(pair_key(a, b), 0.0) < SAME_PICTURE:
                found = _belongs(images, (b, a), (own[other], own[centre]), listed[b], told, listed)
                if found is None:
                    continue
                through = found
            if _told_apart(members[centre], members[other], told, confidence):
                continue
            via[b] = through
            members[centre].extend(members.pop(other))
            taken.add(other)
            took.add(centre)
        taken.add(centre)
    return took


def join_large(
    images: Sequence[Features],
    members: dict[int, list[int]],
    via: dict[int, int],
    keeper: dict[int, int],
    confidence: dict[int, dict[int, float]],
    similarity: dict[tuple[int, int], float],
    threshold: float,
    score_now: ScoreNow,
    took: set[int],
    search: tuple[NearKeepers, int],
    told: dict[int, set[int]],
) -> None:
    """Step 6, for parts of one picture that no pair links: each image's neighbours are
    bounded (`bound` of them), so a run of near-identical copies can split into parts whose
    members all find their neighbours inside their own part, each part then holding more than
    `bound` images. The keepers of such large groups are searched among themselves
    (`near_keepers`, the caller's candidate search) and their pairs scored; a group that took
    none in joins a group whose keeper is the same picture (the larger one where both could
    take the other), as in step 6. Two parts that have each taken others in never join."""
    near_keepers, bound = search
    large = [c for c in members if len(members[c]) > bound]
    if len(large) < 2:
        return
    group_of = {keeper[c]: c for c in large}
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in near_keepers(sorted(group_of)):
        if a in group_of and b in group_of and a != b:
            partners[group_of[a]].add(group_of[b])
            partners[group_of[b]].add(group_of[a])
    wanted = {pair_key(keeper[c], keeper[d]) for c in partners for d in partners[c]}
    same = _same_picture(wanted, confidence, similarity, threshold, score_now)
    for centre in sorted(large, key=lambda c: (-len(members[c]), keeper_rank(images[keeper[c]]))):
        if centre not in members:  # taken in already
            continue
        for other in sorted(partners[centre], key=lambda c: (-len(members.get(c, ())), c)):
            a, b = keeper[centre], keeper[other]
            if (
                other in took
                or other not in members
                or same.get(pair_key(a, b), 0.0) < SAME_PICTURE
            ):
                continue
            if _told_apart(members[centre], members[other], told, confidence):
                continue
            via[b] = a
            members[centre].extend(members.pop(other))
            took.add(centre)


def _belongs(
    images: Sequence[Features],
    keepers: tuple[int, int],
    groups: tuple[list[int], list[int]],
    matches: dict[int, float],
    told: dict[int, set[int]],
    confidence: dict[int, dict[int, float]],
) -> int | None:
    """The image of the larger group through which a group joins it (`keepers`: the group's
    keeper, whose listed matches are `matches`, then the larger group's; `groups`: the two
    groups' images): the one the keeper matches best, where it matches more images of the larger
    group than of its own, or as many from `TIE_FROM` (a split group: the original left with a
    crop of it, its other copies in another star, RESULTS.md, session 59; a tie since session
    66: a texture's original in a star of four, its other copies around a noisy one); else,
    where most of the group's images belong to the larger so (`_most_belong`), the one they
    match best; else, where more of their pairs cross to it than stay inside (`_more_across`),
    the one in the surest pair across (`confidence`: the pairs as listed before any keeper
    pair was scored now). None otherwise, or where the two keepers are both pages (the words
    keep the pages of one template apart, and such a page can match many of another's copies:
    unless the words told no image of either group from any image, `told`, no look-alike pages
    about, a picture read as a page, pixel art, split as any picture is; RESULTS.md, session
    67), or both mostly paper (`_paper`, told apart or not: sheets of thin print whose words are
    too small to be compared)."""
    keeper, other = keepers
    own, larger = groups
    if _paper(images[keeper], images[other]):
        return None
    if two_pages(images[keeper], images[other]) and any(n in told for n in (*own, *larger)):
        return None
    inside = set(larger)
    there = [m for m in matches if m in inside]
    if _more_there(matches, inside, set(own), TIE_FROM):
        return max(there, key=lambda m: (matches[m], -m))
    found = _most_belong(own, inside, confidence)
    return _more_across(own, inside, confidence) if found is None else found


def _more_there(matches: dict[int, float], there: set[int], own: set[int], tie: int) -> bool:
    """Whether an image matches more images of `there` than of `own`, or as many from `tie`."""
    found = sum(m in there for m in matches)
    held = sum(m in own for m in matches)
    return found > held or found == held >= tie


def _most_belong(
    own: list[int], larger: set[int], confidence: dict[int, dict[int, float]]
) -> int | None:
    """The image of the larger group that the group's images match best, where more than half of
    them, and `TIE_FROM` or more, each match more images of the larger group than of their own
    (a split group whose keeper, a copy under an overlay, matches its own star only, while the
    star's other copies match the original's group more: RESULTS.md, session 68); else None."""
    mine = set(own)
    belong = [n for n in own if _more_there(confidence[n], larger, mine - {n}, len(own) + 1)]
    if len(belong) * 2 <= len(own) or len(belong) < TIE_FROM:
        return None
    best = max(
        ((confidence[n][m], -m, m) for n in belong for m in confidence[n] if m in larger),
        default=None,
    )
    return None if best is None else best[2]


def _more_across(
    own: list[int], larger: set[int], confidence: dict[int, dict[int, float]]
) -> int | None:
    """The image of the larger group in the group's surest pair across, where its images'
    pairs with the larger group's outnumber their pairs among themselves (a copy matching the
    original became a centre of its own, covering two copies the original does not match:
    RESULTS.md, session 68); else None."""
    mine = set(own)
    across = [(confidence[n][m], -m, m) for n in own for m in confidence[n] if m in larger]
    among = sum(m in mine for n in own for m in confidence[n]) // 2
    return max(across)[2] if len(across) > among else None


def _paper(a: Features, b: Features) -> bool:
    """Whether both pictures are mostly paper (`features.page.mostly_paper`), read as pages or
    not: two spreadsheets of thin print have too few strokes at the working size for
    `two_pages`, and one template's sheets match many of each other's copies (a documents
    calibration half lost 0.13 of its precision so: RESULTS.md, session 60)."""
    return mostly_paper(a.page) and mostly_paper(b.page)


def _same_picture(
    wanted: set[tuple[int, int]],
    confidence: dict[int, dict[int, float]],
    similarity: dict[tuple[int, int], float],
    threshold: float,
    score_now: ScoreNow,
) -> dict[tuple[int, int], float]:
    """The similarity of each `wanted` keeper pair at the cut: listed, or scored now (and then
    added to the match graph, so the group lists it)."""
    same = {k: similarity[k] for k in wanted if k in similarity}  # listed: at the cut already
    for p in score_now(sorted(wanted - same.keys())) if wanted - same.keys() else ():
        key = pair_key(p.a, p.b)
        if key in wanted and key not in same and p.confidence >= threshold:
            confidence[p.a][p.b] = confidence[p.b][p.a] = p.confidence
            similarity[key] = same[key] = p.similarity
    return same


def _told_apart(
    group: list[int],
    other: list[int],
    told: dict[int, set[int]],
    matches: dict[int, dict[int, float]],
) -> bool:
    """Whether the two groups' images were told apart in more pairs than they match: they stay
    apart (`neardup.group_stars`)."""
    if not any(node in told for node in other):
        return False
    inside = set(group)
    apart = sum(len(told[node] & inside) for node in other if node in told)
    return apart > 0 and apart > sum(m in inside for node in other for m in matches[node])


def pair_key(a: int, b: int) -> tuple[int, int]:
    """A pair's key: (smaller position, larger)."""
    return (a, b) if a < b else (b, a)
