"""Groups that keep every found pair and never chain: stars around centres, one hop more at most,
and stars of one picture joined one level.

Linking pairs transitively (union-find, connected components) lets a long path of small edits
join unrelated images: A~B, B~C, ..., Y~Z puts A and Z in one group. Keeping only a star around
the keeper loses pairs instead: a copy that matches the original but not the chosen keeper (a
letterboxed or rotated copy kept for its size) falls out of every group. The rule here:

1. The match graph holds the pairs at or above the threshold, but for a pair of pages whose
   words were compared and agree less than `group_stars.WEAK_WORDS` where each of its images
   has a pair that is not so weak: a form copy that passes with look-alike forms at words
   0.8-0.9 linked their groups (RESULTS.md, session 33). The pair stays listed. An image
   whose passing pairs are all weak keeps its best one and those with the images that best
   partner pairs strongly with: a copy whose words read weak keeps its page's copies, a
   look-alike page with no copy joins one page's group at most (RESULTS.md, session 34).
2. Centres are chosen greedily: the image whose matches cover the most images not yet covered
   (itself included; ties: more confidence, then keeper rank). An original with many copies is
   the natural centre. Choosing stops when no image would cover two or more new ones. Images
   matching two images the words comparison told apart are chosen last (`neardup.group_stars`).
3. Every other covered image joins the centre it matches with the highest confidence (ties:
   the pair whose words agree most, `detail`, a pair without one counting as agreeing, then
   the centres' order; where the words comparison told images apart: the best whose star it
   fits, `neardup.group_stars`; an image that fits none is placed again among the others left,
   in a further pass). A centre left without members is placed as any other image.
4. An image left over (each image it matches is already in a group, none of them a centre it
   matches) joins the group of the image step 3 placed that it matches best (ties as in step
   3), through it: one hop past a star, never more, so two images in a group are at most four
   matched pairs apart, and every image is in a group with an image it matches directly.
5. The keeper of a group is the image to keep (`choose_keeper`): among its central images (the
   sum of an image's similarities to the others it matches is within `CENTRAL_SHARE` of the
   group's highest), the highest resolution without borders, then no added borders, then a
   lossless file over a lossy one, then one with transparent parts, then the most central, then
   the largest file (then one outside hidden folders, then the path); an image showing another
   of the group inside a frame (a screenshot of it, `keeper_rank.framed`) comes last. An
   original is more like each of its copies than they are like one another, so a same-size copy
   with noise, other colours or a blur (often the larger file), or a copy on a larger canvas (a
   turn without crop, a banner, a screenshot) is not kept over it; a downscaled copy is central
   too, but has less resolution. Downscaled copies can be more like one another than their
   larger original is like them: an image with `LARGER_ORIGINAL` times the keeper's pixels that
   is the same picture (`similarity` >= `SAME_PICTURE`, or whole frames whose hashes agree:
   `keeper_rank.same_frame`) is kept instead. A group of fewer than
   `CENTRAL_FROM` images has too few pairs for this (a PNG original with two JPEG copies can be
   the least central of the three): there every image is central. In a leakage scan (`scan
   --against`, `--against-index`) only the images of the earliest set a group holds can be its
   keeper: the reference's image is kept, and the copies that leaked into later sets are the
   members. Each member is listed with its similarity to the keeper when that pair was found,
   else to the image that brought it in, else to the member it matches best (`Group.via`).
6. Where the caller can score pairs on demand (`score_now`: `scan`, `index duplicates`),
   groups linked by a pair whose keepers are the same picture (their pair, listed or scored
   now, at the cut with `similarity` >= `SAME_PICTURE`) join, the smaller into the larger,
   one level only; so does a smaller group whose keeper matches (listed pairs) more images of
   the larger than of its own, or as many where that is two or more, or most of whose images
   (two or more) each match more of the larger's images than of their own (its keeper a copy
   under an overlay that matches its own star only), or whose images' passing pairs with the
   larger's outnumber their pairs among themselves (a compressed copy matching the original
   became a second centre), counted on the pairs listed before any keeper pair is scored
   now, the two keepers not both
   mostly paper (`features.page.MOSTLY_PAPER`: a sheet of thin print is not read as a page),
   nor both pages where the words told an image of either group apart (pixel art reads as a
   page): a split group, its original left a star with a crop of it while its other copies
   formed a star around a copy the original does not match (RESULTS.md, sessions 59-60 and
   66-68). Each image is paired with its nearest few, so hundreds of
   near-identical items (a static shot's frames) would otherwise come out as several groups
   of one picture (`neardup.group_joins`).
   Two images of a joined group are at most fourteen matched pairs apart (ten where both
   joins were of same-picture keepers, which hang on the larger group's keeper), at most two
   of them pairs that joined two groups (same-picture keepers, or a keeper or another image
   of the smaller group and the image of the larger group it matches best; four within each
   star group, as in step 4); the groups a
   group took in are never taken in again, so nothing chains further. Parts of one picture
   that no pair links (each member's bounded neighbours all inside its own part, so each
   part is larger than the bound) are found by searching the keepers of groups larger than
   the bound among themselves (`near_keepers`), and join by the same rule. Two groups whose
   images were told apart in more pairs than they match stay apart. `scan --against`
   regroups the pairs across sets without this step.
So every image with a passing pair ends in a group together with an image it matches, but one
told apart from as many of that group's images as it matches there or more where it is mostly
paper, or from more than twice as many where it is not (`apart`: a third document of one
template matching only a copy of another too degraded to read; its pairs stay listed;
`neardup.group_stars`). A veto between two images others show to be one picture (two or more
match both, more than match only one of them, counting every passing pair, those of weak words
too) does not count: the words comparison's rare wrong veto of a copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from neardup.group_joins import (
    SAME_PICTURE,
    NearKeepers,
    ScoreNow,
    join_large,
    join_same_picture,
    pair_key,
)
from neardup.group_stars import match_graph, place, told_apart
from neardup.keeper_rank import framed, keeper_rank, lossy, same_frame
from neardup.records import Features, Group, Pair

__all__ = ["build_groups", "choose_keeper", "keeper_rank"]

CENTRAL_SHARE = 0.01
"""How far below the most central image's (a share of it) an image's centrality may be for it
to be kept: chosen on the evaluation sets' calibration halves (benchmarks/RESULTS.md)."""


CENTRAL_FROM = 4
"""Groups of fewer images keep by resolution, lossless file and file size alone (rule 5)."""

LARGER_ORIGINAL = 1.5
"""How many times the central keeper's pixels an image of the same picture (`SAME_PICTURE`)
needs to be kept instead: a larger original of a downscaled copy."""


def choose_keeper(
    images: Sequence[Features],
    nodes: list[int],
    matches: dict[int, dict[int, float]],
    similarity: dict[tuple[int, int], float],
    sets: Sequence[int] | None = None,
    frames: set[int] | frozenset[int] = frozenset(),
    same: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
) -> int:
    """The group's image to keep (rule 5 above), from each node's matches (`matches[i]`: the
    images i matches) and the matched pairs' similarity; the work grows with the group's pairs.
    With `sets` (each image's set in a leakage scan) only images of the earliest set held;
    images in `frames` (`keeper_rank.framed`) only where every image is. Pairs in `same`
    (`keeper_rank.same_frame`) are the same picture whatever their similarity."""
    inside = set(nodes)
    first = None if sets is None else min(sets[i] for i in nodes)
    central = {
        i: sum(similarity[pair_key(i, j)] for j in matches.get(i, {}) if j in inside) for i in nodes
    }
    if len(nodes) < CENTRAL_FROM:  # too few pairs to tell the original by them
        central = dict.fromkeys(nodes, 0.0)
    # In a leakage scan the reference's image is kept, however central a leaked copy is.
    pool = nodes if sets is None else [i for i in nodes if sets[i] == first]
    # A screenshot of a member is never kept over an image that is not one: its copies are
    # alike, so the picture they show would be the least central.
    pool = [i for i in pool if i not in frames] or pool
    floor = (1 - CENTRAL_SHARE) * max(central[i] for i in pool) - 1e-9
    candidates = [i for i in pool if central[i] >= floor]

    def rank(i: int) -> tuple[bool, int, bool, int, bool, float, int, bool, str, int]:
        steps, bordered, size, hidden, path, frame = keeper_rank(images[i])
        flat = not images[i].transparent  # the same picture without its see-through parts
        shows = i in frames  # a screenshot of another member
        return (
            shows,
            steps,
            bordered,
            lossy(images[i]),
            flat,
            -central[i],
            size,
            hidden,
            path,
            frame,
        )

    keeper = min(candidates, key=rank)
    # A larger original of downscaled copies is less like them than they are like one
    # another: an image with much more resolution that is the same picture is kept instead.
    larger = [
        i
        for i in matches.get(keeper, {})
        if i in inside
        and i not in frames
        and (sets is None or sets[i] == first)
        and images[i].content_pixels >= LARGER_ORIGINAL * images[keeper].content_pixels
        and (similarity[pair_key(i, keeper)] >= SAME_PICTURE or pair_key(i, keeper) in same)
    ]
    return min(larger, key=rank) if larger else keeper


def build_groups(
    images: Sequence[Features],
    pairs: list[Pair],
    threshold: float,
    *,
    score_now: ScoreNow | None = None,
    near_keepers: NearKeepers | None = None,
    bound: int = 0,
    sets: Sequence[int] | None = None,
    apart: Iterable[tuple[int, int]] = (),
) -> list[Group]:
    """Groups from the pairs whose confidence is at or above `threshold` (rule above; step 6
    when `score_now` is given, with its search among large groups when `near_keepers` and the
    caller's bound on each image's neighbours are given too). The keeper pairs step 6 scored
    and kept are in the groups; `score_now` is how the caller learns of them, to list them.
    `sets` (a leakage scan: each image's set, 0 the reference) keeps a group's image of the
    earliest set it holds, so the copy that leaked into a later set is never its keeper.
    `apart`: pairs shown to be other pictures (the words comparison's vetoes), which keep an
    image out of a star or two groups apart where they outweigh its matches there
    (`neardup.group_stars`)."""
    confidence, similarity, words = match_graph(pairs, threshold)  # step 1
    told = told_apart(apart, pairs, threshold)
    frames, same = framed(images, pairs, threshold), same_frame(images, pairs, threshold)
    home, via = place(images, confidence, told, words)  # steps 2-4
    members: dict[int, list[int]] = defaultdict(list)
    for node, centre in home.items():
        members[centre].append(node)
    if score_now is not None:
        keeper = {
            c: choose_keeper(images, nodes, confidence, similarity, frames=frames, same=same)
            for c, nodes in members.items()
        }
        took = join_same_picture(
            images, members, home, via, keeper, confidence, similarity, threshold, score_now, told
        )
        if near_keepers is not None and bound > 0:
            join_large(
                images,
                members,
                via,
                keeper,
                confidence,
                similarity,
                threshold,
                score_now,
                took,
                (near_keepers, bound),
                told,
            )
    groups = [
        _group(images, nodes, via, confidence, similarity, sets, frames, same)
        for nodes in members.values()
    ]
    groups.sort(key=lambda g: (-len(g.members), images[g.keeper].path))
    return groups


def _group(
    images: Sequence[Features],
    nodes: list[int],
    via: dict[int, int],
    matches: dict[int, dict[int, float]],
    similarity: dict[tuple[int, int], float],
    sets: Sequence[int] | None = None,
    frames: set[int] | frozenset[int] = frozenset(),
    same: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
) -> Group:
    keeper = choose_keeper(images, nodes, matches, similarity, sets, frames, same)
    members: list[tuple[int, float]] = []
    links: dict[int, int] = {}
    inside = set(nodes)
    for node in nodes:
        if node == keeper:
            continue
        if pair_key(node, keeper) in similarity:
            members.append((node, similarity[pair_key(node, keeper)]))
            continue
        # Matched to the centre or to a member, not to the keeper: name that image (the one
        # it joined through, else the member it matches best).
        other = via.get(node, keeper)
        if other == keeper or other not in inside or pair_key(node, other) not in similarity:
            near = [m for m in matches[node] if m in inside and m != node]
            other = max(near, key=lambda m: (matches[node][m], -m)) if near else keeper
        links[node] = other
        members.append((node, similarity.get(pair_key(node, other), 0.0)))
    members.sort(key=lambda ms: (-ms[1], keeper_rank(images[ms[0]])))
    return Group(keeper=keeper, members=members, via=links)
