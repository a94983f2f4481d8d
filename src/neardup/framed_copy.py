"""A picture found whole inside the other with a seam around it: a copy shown framed.

A screenshot or a slide that shows a picture small holds it whole, every pixel agreeing, yet
the fitted model reads the small shared share (the picture is 10-30 % of the frame) as weak
where the two embeddings are far apart and the inset view did not match (session 66: a
picture in a window, 75 inliers, aligned 0.999, agreeing 1.0, at 0.829). The part check's
finding (`part_check.part_of`) tells a framed picture from a detail cut out: a pasted
picture's sides are a seam in the frame holding it, a detail's sides go on into the picture.
So a pair under a cut whose keypoint frame holds one picture whole and agrees as the dense
gate asks is read there, and raised where the part lies wholly inside its holder with a seam
along its sides:

    keypoint frame under a cut, one picture held whole (`CROP_GATE`'s inside share), under
    `PART_GATE`'s share of the other, aligned and agreeing at `DENSE_GATE`'s, not two pages
        --PART--> Part --framed_rescored--> raised to `DENSE_CONFIDENCE` where the part lies
                                             inside with a seam (`PART_GATE`'s step)

On 30 calibration halves: blind 98 +5 and the fixed held set +10 right group pairs, no half's
precision lower (RESULTS.md, session 66, R-s66d).
"""

from __future__ import annotations

from neardup.checked_scores import DENSE_CONFIDENCE, DENSE_GATE
from neardup.detail_check import two_pages
from neardup.part_check import CROP_GATE, PART_GATE, Part
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry


def framed_wanted(
    scored: Scored, geometry: Geometry, a: Features, b: Features, cuts: tuple[float, ...]
) -> bool:
    """Whether a pair under a cut is read for a frame around one picture: a keypoint frame
    holding it whole, covering under the part gate's share of the other, its pixels aligned
    and agreeing at the dense gate's, and not two pages (a page of a template holds another's
    layout whole)."""
    _, least_aligned, least_agree, _ = DENSE_GATE
    return (
        scored.confidence < max(cuts)
        and not geometry.dense
        and 0.0 < geometry.score < PART_GATE[0]
        and geometry.contained >= CROP_GATE[1]
        and geometry.aligned >= least_aligned
        and geometry.agree >= least_agree
        and not two_pages(a, b)
    )


def framed_rescored(scored: Scored, found: Part) -> Scored:
    """A pair raised to `DENSE_CONFIDENCE` where the part lies wholly inside its holder with a
    seam along its sides (`PART_GATE`'s step, which the part check reads as no detail), else as
    it was."""
    if scored.confidence >= DENSE_CONFIDENCE:
        return scored
    if found.inside < CROP_GATE[1] or found.seam < PART_GATE[2]:
        return scored
    return Scored(scored.similarity, DENSE_CONFIDENCE, scored.scores, "geometry", scored.inliers)
