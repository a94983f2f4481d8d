"""Whether two pictures that share their layout also share their fine detail: the words.

Two invoices, statements or forms made from one template, with other names and amounts, share
their frame, rules, headings and logo: their embeddings are close, the check's keypoints (at
`verify.VERIFY_SIDE`) find the shared frame, and at `aligned_pixels.ALIGNED_SIDE` a line of
text is a grey bar whatever its words. Only the letters tell them apart, so they are compared
where the letters are drawn:

1. each picture grey with its shorter side up to `FINE_SIDE` (the file's own pixels below it);
   ORB keypoints, and of the second picture mirrored too;
2. an affine transform by RANSAC (a copy may have been stretched: a border added and the
   canvas resized back), the picture at the finer scale first reduced to the other's; where
   the pages then disagree, a homography fitted to the same matches, where it explains
   clearly more of them, its comparison kept where the words agree (a copy seen in
   perspective, keystoned: `KEYSTONE_FROM`);
3. horizontal gradients (a letter's strokes; a line of text has the same vertical profile
   whatever its words) compared in tiles, each at its best shift (`neardup.detail_tiles`),
   at 1, 1/2 and 1/4 of that scale: per scale, the tiles with strokes in both pictures and
   the share of them that disagree;
4. where the alignment turns a page a quarter, compared in the other frame too (`QUARTER`).

A copy agrees at some scale: a blurred, noisy or recompressed one at a coarser scale than a
clean one. A document of the same template with other words disagrees at every scale where
its letters are drawn. A form or a sheet with other values in some fields may agree at a
coarse scale (a number is a grey blob there), so where the finest scale disagrees the whole
map of its tiles is read (`neardup.detail_maps`), the pages' rules taken out: such pages
disagree in several separate places while their template agrees closely, where a copy's edit
disagrees in one place (a banner, a logo) or, blurred or noisy, nowhere closely.
`detail_check` turns the shares into a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from neardup.detail_maps import Scatter, scatter_map, unruled
from neardup.detail_tiles import (
    MAP_TILES,
    STROKES,
    Strokes,
    Views,
    correlations,
    matched,
    spread_evenly,
    stroke_tiles,
    tiles_share,
)
from neardup.painted_box import Outside, outside_box
from neardup.perspective import gaining
from neardup.verify import ratio_matches

FINE_SIDE = 768
"""Shorter side at which letters are compared: 9-12 px text on a 1,200 px page stays legible."""
FEATURES = 1000
"""ORB keypoints a picture: a page's letters give many; the template's share most matches."""
SCALES = (1, 2, 4)
"""Reductions of the compared scale at which the tiles are compared again."""
MIN_MATCHES = 10
REPROJECTION = 3.0
"""Pixels (at `FINE_SIDE`) within which a match agrees with a fitted transform."""
FIRM = 0.5
"""Share of the ratio-test matches a transform must hold for the mirror not to be tried. On
the documents' calibration half mirrored copies aligned unmirrored held at most 0.08 of
their matches, pages aligned as they are 0.32 or more in 95 % of pairs (0.2 saved a tenth of
the stage's time on documents but moved which graphics pairs were compared mirrored)."""
AGREEING = (8, 0.2)
"""Tiles and disagreeing share below which a scale agrees: the coarser ones are not compared.
(`detail_check.VETO_SHARE` is lower: a pair that stops at a share of 0.17-0.2 with two scales
compared is vetoed without its coarsest scale; so the veto was calibrated, RESULTS.md.)"""
MAX_TILES = 128
"""Tiles compared at one scale, spread evenly over those with strokes: a share is known well
enough from them, and a page holds thousands."""
ACROSS_FROM = 0.15
"""Finest-scale share of disagreeing tiles up to which the pages are compared in vertical
strokes too (`Detail.across`): horizontal strokes alone miss a bar's edges, so two signs of
one shape agree in them (RESULTS.md, session 28), and a form or a sheet with other values
agrees in most letters' strokes but not in where its lines of text end (session 29)."""
VERTICAL_FROM = 0.15
"""Share of tiles disagreeing in vertical strokes from which `Detail.vertical` is read: a
blurred copy disagrees there too (at the finest scale only), and so does a copy under a banner
(in one place)."""
SCATTER_FROM = 0.1
"""Finest-scale share of disagreeing tiles from which the finest and the half scale are read
whole (`Scatter`): under it the pages agree too well for the words to differ in many places
(the veto, `detail_check.SCATTERED`, needs 0.15 of the whole map)."""
KEYSTONE_FROM = SCATTER_FROM
"""Finest-scale share of disagreeing tiles under the affine transform from which a homography
is fitted to the same matches (`perspective.gaining`: more inliers, a mild warp): an affine
transform cannot line up a copy seen in perspective, whose letters then disagree at every
scale (the blind set's keystoned charts and screenshots were vetoed as other documents:
RESULTS.md, session 57). The pages are compared under it too (`KEYSTONE_SAME`)."""
KEYSTONE_SAME = 0.05
"""Finest-scale share of disagreeing tiles up to which the homography's comparison is kept: the
same words (`detail_check.SAME_SHARE`). Kept wherever it disagreed less, it released four
look-alike pairs of a documents calibration half (RESULTS.md, session 57)."""


@dataclass(frozen=True, slots=True)
class Vertical:
    """What explains two aligned pages' disagreeing vertical strokes. A blur loses the finest
    strokes: they disagree at the finest scale but not at half of it, and the blurred page's
    strokes are fainter. A banner or a logo on a copy covers a small part of the page; other
    numbers in a sheet's cells a large one."""

    half: float
    """Share of the tiles at half the finest scale that disagree in vertical strokes."""
    sharpness: float
    """The fainter picture's strokes over the other's (the spread of their horizontal
    gradients, summed over the tiles where either holds letters; 1: equally sharp)."""
    area: float
    """Tiles of the finest scale's whole map that disagree (estimated from up to `MAP_TILES`
    of them), as a share of the grid's places (the page's area, not only its strokes)."""


@dataclass(frozen=True, slots=True)
class Detail:
    """The fine comparison of a pair: RANSAC inliers of its alignment, then per scale of
    `SCALES` the tiles with strokes in both pictures and the share of them that disagree (0
    and 0.0 for the scales after one that agreed, which are not compared); and where the
    finest scale disagrees in `SCATTER_FROM` of its tiles or more and the caller wants it
    (`compare`'s `scatter_wanted`), where (`Scatter`); else None."""

    inliers: int
    tiles: tuple[int, ...]
    disagree: tuple[float, ...]
    scatter: Scatter | None = None
    across: float | None = None
    """Where the finest scale agrees, or nearly (`ACROSS_FROM`): the share of its tiles that
    disagree in vertical strokes."""
    vertical: Vertical | None = None
    """Where `across` is `VERTICAL_FROM` or more: what might explain it."""
    outside: Outside | None = None
    """Where the caller wants it (`compare`'s `painted_wanted`) and a box is painted over one
    page (`neardup.painted_box`): the words compared outside it."""


Keypoints = tuple[Any, Any] | None
"""(x, y of each keypoint, their ORB descriptors); None with fewer than `MIN_MATCHES`."""


class Page:
    """A picture at the fine scale with its keypoints (and its mirror's, made when asked).
    `described`: the keypoints `described()` gave of this grey picture before (its mirror's
    False where not made), so a page kept packed is not described again."""

    def __init__(
        self,
        cv2: Any,
        grey: Any,
        described: tuple[Keypoints, Keypoints | Literal[False]] | None = None,
    ) -> None:
        self.grey = grey
        self._cv2 = cv2
        self._orb = cv2.ORB_create(nfeatures=FEATURES, fastThreshold=7)
        self.keypoints, self._mirror_keys = described or (self._describe(grey), False)
        self._mirrored: tuple[Any, Keypoints] | None = None

    def _describe(self, grey: Any) -> Keypoints:
        points, descriptors = self._orb.detectAndCompute(grey, None)
        if descriptors is None or len(points) < MIN_MATCHES:
            return None
        return np.array([p.pt for p in points], dtype=np.float32), descriptors

    def mirrored(self) -> tuple[Any, Keypoints]:
        """(grey, keypoints) of the picture mirrored, made on the first call."""
        if self._mirrored is None:
            flipped = np.ascontiguousarray(self.grey[:, ::-1])
            known = self._mirror_keys
            self._mirrored = (flipped, self._describe(flipped) if known is False else known)
        return self._mirrored

    def described(self) -> tuple[Keypoints, Keypoints | Literal[False]]:
        """The keypoints found so far: the picture's, and its mirror's (False where not made)."""
        return self.keypoints, self._mirrored[1] if self._mirrored else self._mirror_keys


def compare(
    cv2: Any,
    a: Page,
    b: Page,
    scatter_wanted: Callable[[Detail], bool] = lambda _: True,
    telling: Callable[[Detail, Callable[[], Detail]], Detail] | None = None,
    painted_wanted: Callable[[Detail], bool] = lambda _: False,
) -> Detail | None:
    """How far a's fine detail agrees with b's once aligned; None where no transform is found.
    Where the finest scale disagrees (`SCATTER_FROM`), the whole maps are read (`Scatter`) if
    `scatter_wanted` says they could change the verdict. Where the alignment turns a page by a
    quarter (`QUARTER`), `telling` is given the comparison and the pair's comparison turned
    a quarter (made when called), and returns the one to keep. Where `painted_wanted` says a
    box painted over one page could change the verdict, the words outside it are compared."""
    if a.keypoints is None:
        return None
    found = _aligned(cv2, a, b)
    if found is None:
        return None
    inliers, matrix, grey_b, (src, dst) = found
    affine = np.vstack([matrix, [0.0, 0.0, 1.0]])
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 1e-3:  # a degenerate fit
        return None
    pictures = _pictures(cv2, a.grey, affine, scale, grey_b, False)
    measured = _measured(cv2, pictures, inliers)
    if measured[0].disagree[0] >= KEYSTONE_FROM:
        size_a = (a.grey.shape[1], a.grey.shape[0])
        keystone = gaining(cv2, src, dst, size_a, inliers, REPROJECTION)
        if keystone is not None:
            # The affine fit's scale and inliers: the thresholds that read them were set on it.
            seen_pictures = _pictures(cv2, a.grey, keystone[1], scale, grey_b, True)
            seen = _measured(cv2, seen_pictures, inliers)
            if seen[0].disagree[0] <= KEYSTONE_SAME:
                measured, pictures = seen, seen_pictures
    # The maps (`Scatter`, the painted box) are read for the alignment kept only (a quarter
    # turn's comparison, below, reads its own).
    detail = _completed(cv2, pictures, *measured, scatter_wanted, painted_wanted)
    turn = abs(math.degrees(math.atan2(matrix[1, 0], matrix[0, 0])))
    if telling is None or not QUARTER[0] <= turn <= QUARTER[1]:
        return detail
    turned = [np.ascontiguousarray(np.rot90(p)) for p in pictures]
    return telling(detail, lambda: _compared(cv2, turned, inliers, scatter_wanted, painted_wanted))


def _pictures(
    cv2: Any, grey_a: Any, transform: Any, scale: float, grey_b: Any, perspective: bool
) -> list[Any]:
    """The pictures compared: a warped into b's frame by `transform` (3 x 3: affine, or a
    homography), b, and where a covers b. a, when the finer (the affine fit's `scale` under
    0.9), is reduced to b's scale first (the warp would alias its strokes); b, when the finer,
    is compared at its own scale: so calibrated (RESULTS.md, session 25)."""
    if scale < 0.9:
        size = (max(8, round(grey_a.shape[1] * scale)), max(8, round(grey_a.shape[0] * scale)))
        grey_a = cv2.resize(grey_a, size, interpolation=cv2.INTER_AREA)
        transform = transform @ np.diag([1 / scale, 1 / scale, 1.0])
    height, width = grey_b.shape
    warp = cv2.warpPerspective if perspective else cv2.warpAffine
    matrix = transform if perspective else transform[:2]
    warped = warp(grey_a, matrix, (width, height), flags=cv2.INTER_LINEAR)
    cover = warp(
        np.full(grey_a.shape, 255, np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    return [warped, grey_b, cover]


QUARTER = (45.0, 135.0)
"""Degrees of the alignment's turn within which one page is the other turned a quarter: the
words are compared in strokes across the page's frame (a letter's stems run along the rows of
a page as it was written), so in the frame of a page turned a quarter its lines of text read
in the other direction, and the words of a template's other page disagree mostly in the
strokes the comparison reads least (`Detail.across`). They are compared in the other frame too
(RESULTS.md, session 30)."""


def _compared(
    cv2: Any,
    pictures: list[Any],
    inliers: int,
    scatter_wanted: Callable[[Detail], bool],
    painted_wanted: Callable[[Detail], bool],
) -> Detail:
    """The comparison of two aligned pictures (a warped, b, a's cover) in their frame."""
    return _completed(
        cv2, pictures, *_measured(cv2, pictures, inliers), scatter_wanted, painted_wanted
    )


def _measured(cv2: Any, pictures: list[Any], inliers: int) -> tuple[Detail, Views]:
    """The tiles' shares per scale and the strokes (`Detail` without its maps), and the views
    the maps would read."""
    views = Views(cv2, pictures)
    tiles, shares = [], []
    for reduction in SCALES:
        count, share = tiles_share(correlations(cv2, views.at(reduction), MAX_TILES)[2])
        tiles.append(count)
        shares.append(share)
        if count >= AGREEING[0] and share < AGREEING[1]:
            break  # agrees at this scale: a copy, whatever the coarser scales say
    tiles += [0] * (len(SCALES) - len(tiles))
    shares += [0.0] * (len(SCALES) - len(shares))
    across, vertical = None, None
    if tiles[0] >= AGREEING[0] and shares[0] <= ACROSS_FROM:
        strokes = stroke_tiles(cv2, views.at(SCALES[0]), vertical=True)
        sampled = spread_evenly(strokes.places(), MAX_TILES)
        across = tiles_share(matched(strokes, sampled, cv2))[1]
        if across >= VERTICAL_FROM:
            vertical = _vertical(cv2, views, strokes)
    return Detail(inliers, tuple(tiles), tuple(shares), None, across, vertical), views


def _completed(
    cv2: Any,
    pictures: list[Any],
    detail: Detail,
    views: Views,
    scatter_wanted: Callable[[Detail], bool],
    painted_wanted: Callable[[Detail], bool],
) -> Detail:
    """`detail` with the maps that could change its verdict: where the pages disagree
    (`Scatter`), and the words outside a painted box."""
    if detail.tiles[0] and detail.disagree[0] >= SCATTER_FROM and scatter_wanted(detail):
        # Where the pages disagree is mapped without their rules (`unruled`): a sheet's grid
        # made its tiles agree whatever their numbers. The shares (and tile counts) keep them.
        unruled_pictures = [unruled(cv2, pictures[0]), unruled(cv2, pictures[1]), pictures[2]]
        scatter = scatter_map(cv2, Views(cv2, unruled_pictures), views, *SCALES[:2])
        detail = replace(detail, scatter=scatter)
    if not painted_wanted(detail):
        return detail
    return replace(detail, outside=outside_box(cv2, pictures))


def _vertical(cv2: Any, views: Views, across: Strokes) -> Vertical:
    """What might explain the aligned pictures' disagreeing vertical strokes (`Vertical`), from
    the finest scale's vertical strokes (`across`) and the views."""
    half = tiles_share(correlations(cv2, views.at(SCALES[1]), MAX_TILES, vertical=True)[2])[1]
    rows, cols = across.grid
    every = across.places()
    sampled = spread_evenly(every, MAP_TILES)
    disagreeing = tiles_share(matched(across, sampled, cv2))[1] * len(every)
    # Sharpness where either page holds letters: a page filled further has more of them,
    # which the mean over the whole page would read as the other being blurred.
    along = stroke_tiles(cv2, views.at(SCALES[0]))
    strokes = STROKES * STROKES
    letters = along.covered & ((along.variance[0] >= strokes) | (along.variance[1] >= strokes))
    strength = [float(np.sqrt(np.maximum(v[letters], 0.0)).sum()) for v in along.variance]
    sharpness = min(strength) / max(strength) if max(strength) > 0 else 1.0
    return Vertical(half, sharpness, disagreeing / max(1, rows * cols))


def _aligned(cv2: Any, a: Page, b: Page) -> tuple[int, Any, Any, tuple[Any, Any]] | None:
    """(inliers, 2 x 3 matrix from a to b's view, b's view, the matched points in a and in that
    view) of the better of b as it is and mirrored; the mirror is tried only when b as it is
    aligns poorly (few inliers, or fewer than `FIRM` of its matches: a page's rules and
    repeated letters match a mirrored page a little)."""
    best: tuple[int, Any, Any, tuple[Any, Any]] | None = None
    firm = False
    xy_a, des_a = a.keypoints  # type: ignore[misc]
    for mirror in (False, True):
        if mirror and firm:
            break
        grey, keypoints = b.mirrored() if mirror else (b.grey, b.keypoints)
        if keypoints is None:
            continue
        query, train = ratio_matches(des_a, keypoints[1])
        if len(query) < MIN_MATCHES:
            continue
        points = (xy_a[query], keypoints[0][train])
        matrix, mask = cv2.estimateAffine2D(
            *points,
            method=cv2.RANSAC,
            ransacReprojThreshold=REPROJECTION,
            maxIters=2000,
            confidence=0.995,
        )
        if matrix is None or mask is None:
            continue
        inliers = int(mask.sum())
        firm = inliers >= 3 * MIN_MATCHES and inliers >= FIRM * len(query)
        if best is None or inliers > best[0]:
            best = (inliers, matrix, grey, points)
    if best is None or best[0] < MIN_MATCHES:
        return None
    return best
