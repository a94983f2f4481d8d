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

from neardup.fusion import PairFacts
from neardup.method_scores import EMBEDDING_METHODS, INSET, facts, flat_apart
from neardup.records import Features
from neardup.scoring import INSET_CHECK, Scored, fuse_arrays

Check = tuple[float, float, float, int, float]
"""What the check found: the shared frame (the smaller of the two pictures' shares), aligned,
agree, RANSAC inliers, and the containment (the larger share; `neardup.verify.Geometry`)."""


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
        by_keys.setdefault(tuple(rows[-1][0]), []).append(n)
    for keys, members in by_keys.items():
        pairs = [checked[n][0] for n in members]
        part = facts(images, pairs)
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
    geometry, aligned, agree, _, contained = check
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
