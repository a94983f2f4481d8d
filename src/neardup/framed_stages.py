"""The stages after the check that read the two pictures its transform aligns
(`pair_checks.FramedChecker`), in the order `checking.verify_pairs` runs them on the keypoint
findings, each rescoring the pairs it wants by the scores the stages before it left:

1. overlay (`overlay_check`): a spot the check's 64 px did not read as an overlay (its box
   joined a drawing's lines), or a moved subject, compared again at twice the side, asking
   whether motion explains it; raised where it does not;
2. banner (`banner_check`): a caption band along one side, no compact spot, read by where
   the pixels disagree; raised, where that can change the verdict at a cut (two pages too,
   their band disagreeing more);
3. painted (`painted_check`): a logo or a caption box painted over a copy, read as a region
   whose local mean level moved, solid, the rest agreeing; raised where that can change the
   verdict at a cut;
4. framed (`framed_copy`, under a cut): a picture held whole in the other, agreeing, read by
   the part check's finding for a seam along its sides, as a picture pasted in a screenshot
   has; raised;
5. part (`part_check`, at the lowest cut): a detail cut out of a picture (a tile of a
   photograph), which matches it with every pixel agreeing as a picture shown small in a
   screenshot does, read for the frame a screenshot has around it and a detail has not
   (where a picture holds a framed picture, only a part lying partly outside the other; two
   pages only where neither holds one); lowered;
6. window (`window_check`, at the lowest cut): two frames shared whole (one window, one
   slide layout) around pictures that embed apart, read for a framed picture's box that both
   frame with nothing inside it agreeing; lowered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neardup.banner_check import BANNER, banner_rescored, banner_wanted
from neardup.detail_check import two_pages
from neardup.engines.base import Stage
from neardup.framed_copy import framed_rescored, framed_wanted
from neardup.item_pixels import Ref
from neardup.overlay_check import OVERLAY, overlay_rescored, overlay_wanted
from neardup.painted_check import PAINTED, painted_rescored, painted_wanted
from neardup.part_check import PART, holds_inset, part_rescored, part_wanted
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry
from neardup.window_check import WINDOW, window_rescored, window_wanted

Wanted = Callable[[Scored, Geometry, Features, Features, tuple[float, ...]], bool]
"""Whether a stage reads a pair: its scores so far, its keypoint finding, its two pictures'
features and the cuts the scan runs at."""
Rescore = Callable[[Scored, Any, Features, Features], Scored]
"""A pair's scores once the stage's finding is read (and its two pictures' features)."""


def _overlay_wanted(s: Scored, g: Geometry, a: Features, b: Features, _: tuple[float, ...]) -> bool:
    return overlay_wanted(s, g, a, b)


def _part_wanted(s: Scored, g: Geometry, a: Features, b: Features, cuts: tuple[float, ...]) -> bool:
    return part_wanted(s, g, a, b, min(cuts))


def _banner_rescored(s: Scored, found: Any, a: Features, b: Features) -> Scored:
    return banner_rescored(s, found, pages=two_pages(a, b))


def _part_rescored(s: Scored, found: Any, a: Features, b: Features) -> Scored:
    return part_rescored(s, found, holds_frame=holds_inset(a, b))


def _reads_finding_only(rescore: Callable[[Scored, Any], Scored]) -> Rescore:
    """A stage's rescoring that reads its finding alone, not the pictures' features."""
    return lambda s, found, _a, _b: rescore(s, found)


FRAMED_STAGES: tuple[tuple[Stage[tuple[Ref, Ref], Any, Any], Wanted, Rescore], ...] = (
    (OVERLAY, _overlay_wanted, _reads_finding_only(overlay_rescored)),
    (BANNER, banner_wanted, _banner_rescored),
    (PAINTED, painted_wanted, _reads_finding_only(painted_rescored)),
    (PART, framed_wanted, _reads_finding_only(framed_rescored)),
    (PART, _part_wanted, _part_rescored),
    (WINDOW, window_wanted, _reads_finding_only(window_rescored)),
)
"""Each stage, which pairs it reads, and how its finding rescores them, in order."""
