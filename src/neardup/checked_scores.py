"""A pair rescored once the geometric check decided (`neardup.checking`, `neardup.api`).

The check's findings join the pair's scores and the fitted `+geometry` model reads them. A
pair that its inset sent to the check (`neardup.scoring.INSET_CHECK`: a screenshot's picture
matching the other picture) is judged as that picture and the other: the model reads the
inset's cosine as the embedding score and the check's containment (the other picture found
whole inside it) as the shared frame, where the whole screenshot shares only the picture's
10-30 % of its frame. Its reported scores and its similarity stay those of the whole files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neardup.aligned_pixels import Spot
from neardup.fusion import PairFacts
from neardup.method_scores import EMBEDDING_METHODS, INSET, TURNED, facts, flat_apart
from neardup.records import Features
from neardup.scoring import INSET_CHECK, Scored, fuse_arrays

Check = tuple[float, float, float, int, float, bool, float]
"""What the check found: the shared frame (the smaller of the two pictures' shares), aligned,
agree, RANSAC inliers, the containment (the larger share), whether the pictures were
aligned densely for want of keypoints, and then how well their edges agree
(`neardup.verify.Geometry`)."""

CHECK_SCORES = ("geometry", "aligned", "agree", "dense", "edges", "spot")
"""The scores the check adds to a pair's."""
DENSE_GATE = (0.6, 0.95, 0.95, 0.8)
"""Shared frame, aligned, agree and edges (`neardup.verify.Geometry`) a dense alignment must
all reach to count. Chosen on the calibration halves (benchmarks/fit_dense.py, RESULTS.md,
session 24): the highest recall at which no half's group precision fell. Grey levels alone
passed look-alike ramps (similar gradients line up under many crops and scales); their edges
do not agree. Below the gate the pair keeps the verdict of its scores."""
DENSE_CONFIDENCE = 0.99
"""The confidence of a pair whose dense alignment passed `DENSE_GATE`, measured on the
calibration halves (benchmarks/fit_dense.py): aligning every undecided pair of the check's
band, 232 of 232 passing pairs were duplicates (by Laplace's rule 233 / 234, 0.996, rounded
down); of those the shipped stage aligns (confidence `dense_check.DENSE_FLOOR` to the cut),
31 of 31 (95 % interval 0.89-1.00). At 0.99 it is above the default and loose cuts and below
strict's (0.991)."""


SPOT_GATE = (0.97, 0.30, 0.97, 0.42, 0.40, 3.0)
"""Shared frame (at least), the spot's share of it (at most), the agreeing share of the rest,
the spot's depth, the detail the rest holds (at least) and how crowded the spot is (at most;
`neardup.aligned_pixels.Spot`) for a keypoint finding to read as a copy under an overlay:
the frame found whole, the pictures disagreeing strongly in one compact spot and nowhere
else, the rest holding the picture. The first four were chosen on the picture sets'
calibration halves (RESULTS.md, session 35, R53): 95 copies below the cut passed, no
look-alike; another frame of a clip disagrees in a larger, fainter spot (share 0.35, depth
0.35 at the median). The last two keep out signs of one set (a symbol on a flat ground or a
dark square: the rest agrees because it is plain, and each picture's detail is crowded into
the spot), which passed the first four on a seed's test half (R54, R55); all 95 copies pass
them. Pages are read so too since session 49 (R114): one changed field of a form is a compact
spot, and the first four passed 86 such look-alikes (R53); with the last two and the floor, on
15 calibration halves 48 pairs of two pages passed, all copies. A field of several lines can
still pass (a faint field does not: its depth is under the bound); the words stage reads such
pairs afterwards, and a pair so raised stays under strict's cut. The depth was 0.45 until
session 61 (R-s61a): on 82 calibration halves 0.42 added 48 right pairs to the groups (logos
and stickers whose spot's box holds some agreeing picture) and 4 false ones, judged against
0.45; 0.40 let in other frames of a clip (RESULTS.md, session 61)."""
SPOT_FLOOR = 0.2
"""The confidence (after the check) from which a pair is read for an overlay: below it the
model has other reasons against a copy (two signs of one set sat at 0.03-0.09 and passed
the gate on a seed's test half; R56 read from 0.5). On the 16 calibration halves of
session 46 (R104) the gate passed no look-alike at any confidence and 12 more copies' pairs
from 0.2 to 0.5; 0.2 keeps a margin above the signs (a choice not blind to that half)."""
SPOT_CONFIDENCE = 0.98
"""The confidence of a pair that `spot_rescored` raises: on the calibration halves 82 of 82
such pairs were copies (Wilson 95 % lower bound 0.955; session 35, from 0.5; 12 more from 0.2
in session 46); above the default cut, below strict's (0.991). Counted again in session 61 on 82
calibration halves (every pair the spot or `neardup.overlay_check` raised to this
confidence): with the depth at 0.45, 1,715 of 1,721 were copies; at 0.42, 1,945 of 1,956 (of
the 235 pairs the lower bound adds, 230 copies: 0.979, where the raise reports 0.98)."""


def spot_rescored(scored: Scored, frame: float, spot: Spot) -> Scored:
    """A pair at `SPOT_FLOOR` or more whose keypoint finding shares `frame` and disagrees in
    `spot`: raised to `SPOT_CONFIDENCE` where that passes `SPOT_GATE`, else as it was."""
    least_frame, most_share, least_rest, least_depth, least_held, most_crowded = SPOT_GATE
    passed = (
        scored.confidence >= SPOT_FLOOR
        and frame >= least_frame
        and spot.share <= most_share
        and spot.rest >= least_rest
        and spot.depth >= least_depth
        and spot.held >= least_held
        and spot.crowded <= most_crowded
    )
    if not passed or scored.confidence >= SPOT_CONFIDENCE:
        return scored
    shown = scored.scores | {"spot": round(spot.share, 4)}
    return Scored(scored.similarity, SPOT_CONFIDENCE, shown, "geometry", scored.inliers)


def add_geometry(
    scored: Scored, check: Check, methods: Sequence[str], a: Features, b: Features
) -> Scored:
    """A pair rescored once its geometric check decided."""
    return add_geometry_many([a, b], [((0, 1), scored, check)], methods)[0]


def add_geometry_many(
    images: Sequence[Features],
    checked: Sequence[tuple[tuple[int, int], Scored, Check]],
    methods: Sequence[str],
) -> list[Scored]:
    """Pairs ((a, b), scored, check) rescored, one `fuse_arrays` per set of present scores
    (rescoring pair by pair cost ~3 ms each in the parent process, as much as the check
    itself; each pair's row is computed alone within the arrays, so the numbers are the same)."""
    out: list[Scored | None] = [None] * len(checked)
    by_keys: dict[tuple[str, ...], list[int]] = {}
    rows: list[tuple[dict[str, float], dict[str, float]]] = []
    for n, (_, scored, check) in enumerate(checked):
        rows.append(_checked_scores(scored.scores, check, methods))
        if check[5]:  # a dense alignment: the fitted model never saw one
            out[n] = dense_rescored(scored, check, rows[-1][0])
            continue
        by_keys.setdefault(tuple(rows[-1][0]), []).append(n)
    for keys, members in by_keys.items():
        pairs = [checked[n][0] for n in members]
        turned = np.array([rows[n][1].get(TURNED, np.nan) for n in members], dtype=np.float64)
        part = facts(images, pairs, turned=turned)
        inliers = np.array([float(checked[n][2][3]) for n in members], dtype=np.float64)
        pair_facts = PairFacts(part.quality, part.aspect, inliers, part.kept)
        apart = flat_apart(images, pairs, part.aspect)
        shown, read = (
            {m: np.array([rows[n][k][m] for n in members], dtype=np.float64) for m in keys}
            for k in (0, 1)
        )
        similarity, confidence, labels = fuse_arrays(read, pair_facts, methods, apart)
        if any(rows[n][0] != rows[n][1] for n in members):  # similarity: the whole files
            similarity = fuse_arrays(shown, pair_facts, methods, apart)[0]
        for i, n in enumerate(members):
            out[n] = Scored(
                float(similarity[i]), float(confidence[i]), rows[n][0], labels[i], float(inliers[i])
            )
    return [s for s in out if s is not None]


def dense_passes(check: Check) -> bool:
    """Whether a dense alignment reaches `DENSE_GATE` (shared frame, aligned, agree, edges)."""
    measured = (*check[:3], check[6])
    return all(value >= gate for value, gate in zip(measured, DENSE_GATE, strict=True))


def dense_rescored(scored: Scored, check: Check, shown: dict[str, float]) -> Scored:
    """A pair whose pictures were aligned densely: raised to `DENSE_CONFIDENCE` where the
    alignment passed `DENSE_GATE`, else as its scores left it (the check could not tell)."""
    shown = shown | {"dense": 1.0, "edges": round(check[6], 4)}
    passed = dense_passes(check)
    if not passed or scored.confidence >= DENSE_CONFIDENCE:
        return Scored(scored.similarity, scored.confidence, shown, scored.evidence, scored.inliers)
    return Scored(scored.similarity, DENSE_CONFIDENCE, shown, "geometry", scored.inliers)


def picture_first(scores: dict[str, float], a: Features, b: Features) -> bool:
    """Whether to check (b, a) rather than (a, b): `a` frames `b`'s picture (the pair's inset
    matched; only `a` has an inset). ORB matches from the picture into its screenshot find it;
    the other way the frame's own corners crowd out the matches (a tester's cat on a slide:
    0.99 one way, 0.14 the other), so the verdict would follow file names."""
    return (
        scores.get(INSET, 0.0) >= INSET_CHECK
        and bool(a.embeddings_inset)
        and not b.embeddings_inset
    )


def _checked_scores(
    scores: dict[str, float], check: Check, methods: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """(the scores reported, the scores the model reads) of a checked pair."""
    geometry, aligned, agree, _, contained, _, _ = check
    shown = scores | {
        "geometry": round(geometry, 4),
        "aligned": round(aligned, 4),
        "agree": round(agree, 4),
    }
    inset = scores.get(INSET, 0.0)
    embedding = next((m for m in methods if m in EMBEDDING_METHODS and m in scores), None)
    if inset < INSET_CHECK or embedding is None:
        return shown, shown
    return shown, shown | {
        embedding: max(scores[embedding], inset),
        "geometry": round(max(geometry, contained), 4),
    }
