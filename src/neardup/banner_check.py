"""A copy under a banner told from other content, where the scores so far left it under the cut.

A caption band painted across the top or the bottom of a picture (or down one side: a turned
copy's) replaces up to a third of its pixels, so the check's aligned pixels and the model's
reading of them say "other content", and the overlay stages do not read it as an overlay: the
band is not one compact spot, and below `overlay_check.OVERLAY_FLOOR` pictures of one template
stand against the copies. What tells a banner is where the pixels disagree: in the rows (or
columns) next to one edge, or in a run of rows across the middle (a caption painted there,
since session 67), and nowhere else. Three reading aids: the levels are mapped by a
robust tone map (`aligned_pixels.tone_fitted`), since a band of one colour over a quarter of a
picture bends a map by rank for the whole picture; both pictures are read on the mapped one's
scale, since the band's mass moves the other's own median and spread; and the band is read as
a profile of rows, since a uniform band's pixels agree wherever the picture below had its
colour, which splits it into pieces as regions (RESULTS.md, session 42: R79-R81, R83).

    keypoint frame found (BANNER_GATE's share at least), from BANNER_FLOOR under the
    highest cut a raise crosses (two pages too, since session 49)
        --BANNER--> the check's transform and pictures (`verify.Verifier.framed`)
        --`banner_of` at OVERLAY_SIDE--> Banner (the rows from one edge that best separate
                                          disagreeing from agreeing: their share of the
                                          picture, how far they disagree, how far the rest
                                          agrees; and the same for the rows touching no
                                          edge: a caption across the middle)
        --banner_rescored--> raised to the spot's confidence where it passes BANNER_GATE
                             (two pages: their band disagreeing in PAGES_BAND of it), or its
                             band across ACROSS_GATE too (session 67)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from neardup.aligned_pixels import AGREE_WITHIN, aligned_samples, robust_scale, tone_fitted
from neardup.checked_scores import SPOT_CONFIDENCE
from neardup.engines.base import Stage
from neardup.item_pixels import Ref
from neardup.overlay_check import OVERLAY_SIDE
from neardup.pair_checks import FramedChecker, checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry, Unread, check_version

BANNER_VERSION = 4
"""Bumped whenever a change would make the findings on the same pixels differ (the pair store
keeps them under kind "banner" with this version). 2: the band read as a profile of rows, the
levels mapped by a robust tone map (R80); 3: both pictures' levels compared on one scale (R81);
4: a band across the picture, away from its edges, read too (`Banner.across`, R-s67c)."""
BANNER_FLOOR = 0.1
"""The confidence (after the overlay stage) from which a pair is read for a banner: below it
the calibration halves held no copy, and pages of one template with a band apart."""
BANNER_GATE = (0.9, 0.3, 0.3, 0.95)
"""The smaller shared share of the keypoint frame (at least), the band's thickness (at most, a
share of the picture across it), the share of its pixels that disagree (at least) and the
agreeing share of the rest (at least) for a copy under a banner. The last three as the
loosest setting (of thickness 0.3 or 0.45, disagreeing 0.3 or 0.5, rest 0.9 or 0.95) that
raised no look-alike on 13 calibration halves (R81: 469 copies, 82 of them from below the
cut; at rest 0.9 burst frames of a panning clip, whose new strip at an edge reads as a band,
and pictures of one template came in, at thickness 0.45 a picture of one template)."""


ACROSS_GATE = (0.03, 0.76)
"""The thickness and the disagreeing share (at least) of a band away from the edges (a caption
painted across a picture's middle), the other bounds as `BANNER_GATE`'s. On 37 calibration
halves (session 67) such bands passing `BANNER_GATE` raised 121 copies and 50 look-alikes:
burst frames (a moving subject's strip), pages of one template (a field) and a recoloured pair
with 0.34-0.65 of the band's pixels disagreeing, and two of 0.75 and 0.99 one or two rows
thick; a caption covers several rows and hides what is under it."""


PAGES_BAND = 0.6
"""The band's disagreeing share (at least) for two pages (`detail_check.two_pages`), read here
since session 49 (R116b): a form's field along one edge whose words differ makes a band too,
fainter than a caption's (on 15 calibration halves, the one look-alike of two pages passing
the gate had 0.49; read at 0.3, it joined a mixed half's groups, R116)."""


@dataclass(frozen=True)
class Banner:
    """The rows (or columns) next to one edge that best separate where two aligned pictures
    disagree from where they agree: the largest share disagreeing among them less the share
    disagreeing in the rest, over the four edges and up to half the picture."""

    thickness: float
    """The band's share of the picture across it."""
    band: float
    """Share of its covered pixels that disagree."""
    rest: float
    """Share of the covered pixels outside it that agree."""
    across: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """The same three for the rows (or columns) away from every edge that best separate
    them: a caption painted across the picture (0.0: none read)."""


def banner_version() -> str:
    """This code's version of the banner check, with the check's (whose transform it uses)."""
    return f"{BANNER_VERSION}-{check_version()}"


def banner_value(found: Banner | None) -> list[float] | None:
    """A finding as the pair store keeps it (None: no transform, or nothing disagreeing)."""
    if found is None:
        return None
    return [found.thickness, found.band, found.rest, *found.across]


def banner_of_value(value: list[float] | None) -> Banner | None:
    """The finding `banner_value` gave."""
    if value is None:
        return None
    thickness, band, rest, *across = value
    return Banner(thickness, band, rest, (across[0], across[1], across[2]))


def banner_wanted(
    scored: Scored, geometry: Geometry, a: Features, b: Features, cuts: tuple[float, ...]
) -> bool:
    """Whether a pair's keypoint finding is read for a banner: a frame shared from the gate's
    share (two pages too, `PAGES_BAND`), from `BANNER_FLOOR` and under the highest of
    `cuts` a raise to `SPOT_CONFIDENCE` crosses: only there can it change a verdict (a pair
    already passing keeps its verdict at every preset, R83)."""
    crossed = max((cut for cut in cuts if cut <= SPOT_CONFIDENCE), default=0.0)
    return (
        not geometry.dense
        and geometry.score >= BANNER_GATE[0]
        and BANNER_FLOOR <= scored.confidence < crossed
    )


def banner_rescored(scored: Scored, found: Banner, pages: bool = False) -> Scored:
    """A pair raised to `SPOT_CONFIDENCE` where `found` passes `BANNER_GATE` (for two
    `pages`, its band disagreeing in `PAGES_BAND` of its pixels), or its band across the
    picture `ACROSS_GATE` too, else as it was."""
    _, most_thickness, least_band, least_rest = BANNER_GATE
    least_band = PAGES_BAND if pages else least_band
    along = (found.thickness, found.band, found.rest)
    across_thickness, across_band, across_rest = found.across
    if along[0] <= most_thickness and along[1] >= least_band and along[2] >= least_rest:
        thickness = along[0]
    elif (
        ACROSS_GATE[0] <= across_thickness <= most_thickness
        and across_band >= max(ACROSS_GATE[1], least_band)
        and across_rest >= least_rest
    ):
        thickness = across_thickness
    else:
        return scored
    if scored.confidence >= SPOT_CONFIDENCE:
        return scored
    shown = scored.scores | {"banner": round(thickness, 4)}
    return Scored(scored.similarity, SPOT_CONFIDENCE, shown, "geometry", scored.inliers)


def banner_of(cv2: Any, matrix: Any, grey_a: Any, grey_b: Any) -> Banner | None:
    """Grey picture `grey_a`, moved by `matrix` onto `grey_b`, compared with it at
    `OVERLAY_SIDE`, its levels mapped by `tone_fitted`; None where they share too few pixels
    or no band leaves 16 covered pixels on both sides."""
    small_a, small_b, inside = aligned_samples(cv2, matrix, grey_a, grey_b, OVERLAY_SIDE)
    if inside.sum() < 64:
        return None
    x, y = tone_fitted(small_a[inside], small_b[inside]), small_b[inside]
    # One scale for both, the mapped A's: B's own would move with the band's mass.
    apart = np.zeros_like(inside)
    apart[inside] = np.abs(x - y) / robust_scale(x)[1] >= AGREE_WITHIN
    best: tuple[float, Banner] | None = None
    for edge_first_apart, edge_first_inside in _from_each_edge(apart, inside):
        found = _best_band(edge_first_apart.sum(axis=1), edge_first_inside.sum(axis=1))
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    across = [
        _best_across(m.sum(axis=1), i.sum(axis=1))
        for m, i in ((apart, inside), (apart.T, inside.T))
    ]
    widest = max((a for a in across if a is not None), default=None, key=lambda a: a[0])
    if best is None and widest is None:
        return None
    edge = Banner(0.0, 0.0, 0.0) if best is None else best[1]
    return edge if widest is None else replace(edge, across=widest[1])


def _from_each_edge(apart: Any, inside: Any) -> list[tuple[Any, Any]]:
    """The two masks with the rows ordered from each edge in turn: top, bottom, left, right."""
    return [
        (apart, inside),
        (apart[::-1], inside[::-1]),
        (apart.T, inside.T),
        (apart.T[::-1], inside.T[::-1]),
    ]


def _best_band(apart_rows: Any, inside_rows: Any) -> tuple[float, Banner] | None:
    """(separation, band) of the first k rows (k up to half of them) whose disagreeing share
    less the rest's is largest (`_best_run`)."""
    found = _best_run(apart_rows, inside_rows, along_edge=True)
    return None if found is None else (found[0], Banner(*found[1]))


def _best_across(
    apart_rows: Any, inside_rows: Any
) -> tuple[float, tuple[float, float, float]] | None:
    """(separation, (thickness, band, rest)) of the rows touching neither edge whose
    disagreeing share less the rest's is largest (`_best_run`): a caption across the middle."""
    return _best_run(apart_rows, inside_rows, along_edge=False)


def _best_run(
    apart_rows: Any, inside_rows: Any, along_edge: bool
) -> tuple[float, tuple[float, float, float]] | None:
    """(separation, (thickness, band, rest)) of the run of rows from i to k (up to half of
    them; from the first row `along_edge`, else touching neither edge) whose disagreeing share
    less the rest's is largest, each side holding 16 covered pixels or more; the thinnest on
    a tie."""
    apart_before = np.concatenate([[0], np.cumsum(apart_rows)])
    inside_before = np.concatenate([[0], np.cumsum(inside_rows)])
    rows = len(inside_rows)
    first = np.arange(rows)[:, None]  # i: the run's first row
    last = np.arange(1, rows + 1)[None, :]  # k: one past its last
    band_apart = apart_before[last] - apart_before[first]
    band_inside = inside_before[last] - inside_before[first]
    rest_apart, rest_inside = apart_before[-1] - band_apart, inside_before[-1] - band_inside
    runs = (last > first) & (last - first <= rows // 2)
    runs &= (first == 0) if along_edge else (first > 0) & (last < rows)
    usable = runs & (band_inside >= 16) & (rest_inside >= 16)
    if not usable.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        band = band_apart / band_inside
        rest = rest_apart / rest_inside
    separation = np.where(usable, band - rest, -np.inf)
    i, k = np.unravel_index(int(np.argmax(separation)), separation.shape)
    found = (float(k + 1 - i) / rows, float(band[i, k]), float(1.0 - rest[i, k]))
    return float(separation[i, k]), found


class BannerChecker(FramedChecker[Banner]):
    """Banner findings: `banner_of` on the pictures the check's transform aligns."""

    def __init__(self) -> None:
        super().__init__(banner_of)


BANNER: Stage[tuple[Ref, Ref], BannerChecker, Banner | Unread | None] = Stage(
    "banner", BannerChecker, checked_chunk, chunk=16
)
"""The banner check as an engine stage: pairs (in the check's order) in, findings out."""


def banner_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Banner | None]:
    """The banner finding of each pair, in this process."""
    return in_process(BannerChecker(), pairs)
