"""The fine comparison of words as an engine stage, for pairs of pages of text.

    pairs of two pages from `WORDS_FLOOR` (`detail_wanted`) --DETAIL--> Detail or None
    --detail_vetoes--> confidence `DETAIL_CONFIDENCE` (two documents of one template: their
                       words differ at every scale, or in many places where the rest agrees,
                       or in vertical strokes over much of the page, not for a blur)
    --words_lift--> confidence at least `LIFT_CONFIDENCE` (the same words in both directions
                    of strokes, over a frame the check found shared; or the same words
                    outside a box painted over one page: `neardup.painted_box`)

`neardup.checking` runs it last, on the pairs from `WORDS_FLOOR` whose pictures both read as
pages of text (`neardup.features.page`). It lowers a pair where the pictures align (a
template shares many keypoints) and then disagree in their strokes at every scale that holds
enough of them (`neardup.detail_compare`); a pair below the cut that it vetoes keeps its
verdict, but the grouping keeps its pictures apart. It lifts a pair whose words read the same
(a page under an overlay, a border or a turn that the whole picture's scores miss), only
where compared directly: the horizontal strokes alone let two signs of one shape pass, and
pages merely inside one set of agreeing pages let look-alikes pass (RESULTS.md, session 28).
Photographs are not compared: their copies agree anyway, and their decode at `FINE_SIDE`
would cost a scan of photos dearly.
"""

from __future__ import annotations

from collections.abc import Callable

from neardup.decode import DecodeSpec
from neardup.detail_compare import (
    AGREEING,
    FINE_SIDE,
    SCALES,
    Detail,
    Page,
    Vertical,
    compare,
)
from neardup.detail_maps import Scatter
from neardup.detail_pages import PageCache
from neardup.engines.base import Stage
from neardup.item_pixels import FramePictures, Ref
from neardup.method_scores import EMBEDDING_METHODS
from neardup.painted_box import Outside
from neardup.pair_checks import checked_chunk, in_process
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Unread, read_grey

DETAIL_VERSION = 18
"""Bumped whenever a change would make the fine comparison of the same pixels differ (the pair
store keeps it under kind "detail" with this version); also when the thresholds that decide
what it holds change: `VETO_INLIERS`, `VETO_SHARE`, `MIN_TILES` (a `Scatter`) and the vetoes'
(`Detail.outside`, `_painted_wanted`). 3: pages that agree are compared in vertical strokes too
(`Detail.across`); 4: so are pages that nearly agree, and where they differ there, what might
explain it (`Detail.vertical`); 5: its sharpness over the tiles of letters, its area from a
sample of `MAP_TILES` tiles; 14: pages aligned by a quarter turn compared in the other frame
too (`detail_compare.QUARTER`), and where they disagree mapped without their rules
(`detail_maps.unruled`) (6-13: tried in session 31, refused); 15-16: the words outside a
painted box (`Detail.outside`); 17-18: a homography where the affine transform leaves them
apart (`detail_compare.KEYSTONE_FROM`), and the vetoes' `ACROSS_VETO` and `OVERLAID`."""
PAGES = ((0.3, 0.005), (0.7, 0.002), (0.8, 0.001))
"""A pair is compared when, for one of these (paper, strokes), both pictures are at least
that much paper and either has at least that share of strokes (`neardup.features.page`; a
blurred copy has fewer strokes than its page, and small print on a plain page shows few at
the working size). On the calibration halves: nearly all documents, most screenshots,
charts and diagrams; 8 % of photos' passing pairs (RESULTS.md, session 25). The third row
reads a form of thin print on white as a page (strokes 0.0016-0.0019 at the working size):
without it two filled instances of one form template passed as copies (RESULTS.md, session
39)."""
VETO_INLIERS = 30
"""Fewer inliers and the alignment is not trusted to say where the words differ (`SCATTERED`,
`OTHER_NUMBERS`, `ACROSS_VETO`) or that they are the same (`detail_same`)."""
SHARE_INLIERS = 15
"""Fewer inliers and the alignment is not trusted to say the words differ at every scale
(`VETO_SHARE`). On the calibration halves' comparisons aligned on 15-29 inliers, 407 pairs so
vetoed were look-alikes and 4 copies (blurred: their coarsest scale 0.18-0.33 disagreeing);
RESULTS.md, session 30 (`VETO_INLIERS` had been set in session 25 before it was measured).
Such an alignment may be a mirrored fit (`detail_compare` tries the mirror under 30): the
copies' share counts those too. Nothing stored depends on it (the store keeps the comparison,
and `_scatter_wanted` reads `VETO_INLIERS`), so `DETAIL_VERSION` stays."""
MIN_TILES = (8, 24)
"""A scale counts with at least the first number of tiles; a veto needs two scales with at
least the second."""
VETO_SHARE = 0.17
"""A pair is vetoed when at every scale that counts at least this share of tiles disagree.
Chosen on the calibration halves (RESULTS.md, session 25): the share that kept the most
documents of one template apart while every other half's groups stayed the same and at most
1 % of the vetoed pairs were copies (7 of 1,478; 0.15 vetoed 17 of 1,507; 0.2 none of 1,311,
but the documents' group precision was 0.793 against 0.873)."""
SCATTERED = (0.15, 0.1, 0.1, 0.2)
"""(finest, half, close, apart) from which a pair aligned on `VETO_INLIERS` whose finest scale
holds `MIN_TILES[1]` tiles is vetoed (`detail_maps.Scatter`): its finest tiles disagree in
that share or more, so do the tiles at half scale (not noise a reduction smooths away), that
share of the finest agree closely (the template, as drawn: not a blurred or noisy copy), and
that share of the disagreeing lie outside their largest patch (fields, not one banner). A
form or a sheet with other values escapes `VETO_SHARE`: a number is a grey blob at a quarter
scale. Chosen on the calibration halves' tile maps (RESULTS.md, session 26): the rule of a
grid that kept the most look-alike pages apart with no copy vetoed on any half."""
OVERLAID = 0.8
"""Share of the finest tiles agreeing closely from which scattered disagreement is an overlay
(stickers, a meme's lines), not fields. Of the pairs `SCATTERED` vetoed on 16 calibration
halves (RESULTS.md, session 57): 30 copies, 8 of them from 0.8; 3,227 look-alikes, 1."""
OTHER_NUMBERS = (0.2, 0.05, 0.10)
"""(finest, half, close) from which a pair whose map was read (as for `SCATTERED`) is vetoed
wherever its disagreeing tiles lie: a spreadsheet of one template with other numbers in every
cell differs in one patch over the page, as a banner does, but over a fifth of it or more (a
banner or a logo on a copy covers less), while its grid and labels agree closely (a blurred
copy has no tile that does), and at half scale too (noise that a reduction smooths away
leaves 0.03 or less). Chosen on the calibration halves' tile maps, a second documents set's
with spreadsheets among them (RESULTS.md, session 27: refused then for splitting groups;
kept in session 28, where the vetoes between sets of pages are inherited: RESULTS.md). The
close share 0.15 -> 0.10 in session 29: a sheet of other numbers recompressed hard agrees
closely in 0.08-0.15 of its tiles, a blurred copy in 0.07 or less (one copy, bordered,
turned, noisy and blurred at once, 0.13: vetoed)."""
SAME_SHARE = 0.05
"""Disagreeing share at the finest scale up to which two pages show the same words, so that
their other pairs inherit what one of them shows (`neardup.detail_rounds`): copies' median
is 0, and look-alike pages that escape the veto sit at 0.1 or more."""
WORDS_FLOOR = 0.2
"""Confidence from which a pair of pages has its words compared (or the lowest cut, where a
lower one is asked for): a pair below the cut whose words are the same in both directions is
lifted (`words_lift`), and a veto keeps two pictures apart in the grouping. On the
calibration halves, of the page pairs from 0.2 up to the default cut that were vetoed
(compared or inherited), 6 of 3,067 were copies."""
ACROSS_VETO = (0.15, 0.1, 0.5, 0.05, 0.07)
"""(across, half, sharpness, half when sharp, area) of a pair vetoed for its vertical strokes:
the first share of the finest tiles or more disagree in them (`Detail.across`; copies' median
is 0); no blur explains it: they disagree at half that scale in the second share or more, or
in the fourth where the fainter picture's strokes are the third share of the other's or more;
no banner does: the disagreeing tiles cover the fifth share of the page or more
(`Detail.vertical`); on `MIN_TILES[1]` tiles of letters or more. Two sheets of one template,
one filled further, agree where both hold numbers, not where one holds none over the other's
grid. Chosen on the calibration halves (RESULTS.md, session 29); without the area, 12 copies
under a banner or a logo were vetoed too (0.07 of a page or less; the sheets 0.08 or more).
The fourth, session 57: 27 softened copies vetoed for sharpness 0.51-0.99 agree at half the
scale (0.0-0.047), the 55 look-alikes so vetoed disagree there in 0.06 or more (RESULTS.md)."""
LIFT_FRAME = 0.3
"""Share of each picture the geometric check found shared from which a pair whose words are
the same in both directions is lifted: two neighbouring tiles of one texture agree over
their small shared part."""
LIFT_CONFIDENCE = 0.993
"""The confidence a pair below it gets where its words are the same in both directions
(`words_lift`): on the calibration halves 270 of the 271 pairs so lifted were copies (by
Laplace's rule 271 / 273; RESULTS.md, sessions 28 and 29: the one not, two calendar pages of
one template that no passing pair linked)."""
WORDS_EVIDENCE = "words"
"""The evidence of a pair lifted by its words."""
DETAIL_EVIDENCE = "detail"
"""The evidence of a vetoed pair: two documents of one template."""
DETAIL_CONFIDENCE = 0.005
"""The confidence of a vetoed pair: of the 1,478 pairs vetoed on the calibration halves 7 were
copies (by Laplace's rule 8 / 1,480). With the sheets' rule and the inherited vetoes (session
28): 8 of 4,116, so the value stays on the safe side. Session 30 (alignments from
`SHARE_INLIERS`): of the 7,895 pairs the calibration halves' scans show vetoed (compared or
inherited, from any confidence), 26 were copies (Laplace 27 / 7,897: 0.0034)."""


def detail_version() -> str:
    """This code's version of the fine comparison, with OpenCV's (keypoints, RANSAC)."""
    import cv2

    return f"{DETAIL_VERSION}-opencv-{cv2.__version__}"


def detail_wanted(a: Features, b: Features, scored: Scored, cuts: tuple[float, ...]) -> bool:
    """Whether comparing a pair's words could change its verdict or its group: its confidence
    is at least `WORDS_FLOOR` (or the lowest cut), it is no exact copy, both pictures read as
    pages, and it was scored by an embedding (the hash-only pass runs no check)."""
    if scored.confidence < min(WORDS_FLOOR, *cuts) or scored.evidence == "exact":
        return False
    if not any(m in scored.scores for m in EMBEDDING_METHODS):
        return False
    return two_pages(a, b)


def two_pages(a: Features, b: Features) -> bool:
    """Whether both pictures read as pages of text (`PAGES`), whose words tell them apart: the
    pair's paper from the lesser, its strokes from either (a blurred copy keeps its page's)."""
    if a.page is None or b.page is None:
        return False
    paper, strokes = min(a.page[0], b.page[0]), max(a.page[1], b.page[1])
    return any(paper >= p and strokes >= s for p, s in PAGES)


def detail_score(found: Detail) -> float | None:
    """How far the fine detail agrees (1 - the least disagreeing share over the scales that
    count), None where no scale holds enough tiles."""
    shares = [s for n, s in zip(found.tiles, found.disagree, strict=True) if n >= MIN_TILES[0]]
    return None if not shares else round(1.0 - min(shares), 4)


def vetoed_score(found: Detail) -> float:
    """The `detail` shown for a vetoed pair: the agreement the veto read, not only the least
    disagreeing scale's (a coarse scale may agree where the finest, or the vertical strokes,
    told the pages apart: `detail 1.000` beside a veto would contradict it)."""
    shares = [1.0 - (detail_score(found) or 0.0)]
    if found.scatter is not None:
        shares.append(found.scatter.finest)
    if found.across is not None:
        shares.append(found.across)
    return round(1.0 - max(shares), 4)


def detail_vetoes(found: Detail) -> bool:
    """Whether the words differ: aligned on `SHARE_INLIERS`, at every scale that counts at
    least `VETO_SHARE` of the tiles disagree, two scales holding many tiles; or, aligned on
    `VETO_INLIERS`, in many places or over a table where the rest agrees closely (`SCATTERED`,
    `OTHER_NUMBERS`), or in vertical strokes over much of the page, no blur (`ACROSS_VETO`)."""
    if found.inliers >= SHARE_INLIERS and _every_scale(found):
        return True
    if found.inliers < VETO_INLIERS:
        return False
    return _scattered(found.scatter) or _across(found)


def _across(found: Detail) -> bool:
    """Whether vertical strokes differ over much of the page, not for a blur (`ACROSS_VETO`)."""
    across, half, sharpness, sharp_half, area = ACROSS_VETO
    vertical = found.vertical
    if found.across is None or vertical is None or found.tiles[0] < MIN_TILES[1]:
        return False  # not read, or too few letters to tell
    sharp = vertical.sharpness >= sharpness and vertical.half >= sharp_half
    return found.across >= across and (vertical.half >= half or sharp) and vertical.area >= area


def _every_scale(found: Detail) -> bool:
    """Whether at every scale that counts at least `VETO_SHARE` of the tiles disagree, two
    scales holding many tiles."""
    score = detail_score(found)
    many = sum(n >= MIN_TILES[1] for n in found.tiles)
    return score is not None and many >= 2 and 1.0 - score >= VETO_SHARE


def _scatter_wanted(found: Detail) -> bool:
    """Whether reading where the pages disagree could change the verdict: the alignment is
    trusted and the share at every scale has not vetoed the pair already (the maps cost as
    much as the comparison itself)."""
    return found.inliers >= VETO_INLIERS and not _every_scale(found)


def _scattered(scatter: Scatter | None) -> bool:
    """Whether words differ in many fields (`SCATTERED`, `OVERLAID`) or cells (`OTHER_NUMBERS`)."""
    if scatter is None or scatter.tiles < MIN_TILES[1]:
        return False
    finest, half, close, apart = SCATTERED
    if (
        scatter.finest >= finest
        and scatter.half >= half
        and close <= scatter.close < OVERLAID
        and scatter.apart >= apart
    ):
        return True
    finest, half, close = OTHER_NUMBERS
    return scatter.finest >= finest and scatter.half >= half and scatter.close >= close


def detail_rescored(scored: Scored, found: Detail) -> Scored:
    """A pair with its words compared: its `detail` score shown, and lowered to
    `DETAIL_CONFIDENCE` where they differ (`detail_vetoes`). Its similarity stays: the pages
    do look alike."""
    score = detail_score(found)
    shown = scored.scores if score is None else scored.scores | {"detail": score}
    if detail_vetoes(found):
        shown = shown | {"detail": vetoed_score(found)}
        return Scored(scored.similarity, DETAIL_CONFIDENCE, shown, DETAIL_EVIDENCE, scored.inliers)
    if words_lift(found, scored):
        return Scored(scored.similarity, LIFT_CONFIDENCE, shown, WORDS_EVIDENCE, scored.inliers)
    return Scored(scored.similarity, scored.confidence, shown, scored.evidence, scored.inliers)


def words_lift(found: Detail, scored: Scored) -> bool:
    """Whether a compared pair's words are the same in both directions of strokes, or outside
    a painted box (`painted_same`), over a frame the check found shared (`LIFT_FRAME`)."""
    return (_same_both_ways(found) or painted_same(found)) and may_lift(scored)


def _same_both_ways(found: Detail) -> bool:
    """The same words in horizontal (`detail_same`) and vertical strokes (`Detail.across`)."""
    return found.across is not None and found.across <= SAME_SHARE and detail_same(found)


def painted_same(found: Detail) -> bool:
    """The same words both ways outside a box painted over one page (a banner, a logo; R91)."""
    out = found.outside
    if out is None or found.inliers < VETO_INLIERS or out.tiles < MIN_TILES[1]:
        return False
    return out.disagree <= SAME_SHARE and out.across <= SAME_SHARE


def _painted_wanted(found: Detail) -> bool:
    """Whether a painted box could lift a pair: aligned well, not vetoed, words not same."""
    return found.inliers >= VETO_INLIERS and not (detail_vetoes(found) or _same_both_ways(found))


def may_lift(scored: Scored) -> bool:
    """Whether the words could lift this pair: it is below `LIFT_CONFIDENCE` and the check
    found a shared frame of `LIFT_FRAME` or more."""
    return scored.confidence < LIFT_CONFIDENCE and scored.scores.get("geometry", 0.0) >= LIFT_FRAME


def veto_inherited(scored: Scored) -> Scored:
    """A pair between two sets of pages whose words were told apart each time they were
    compared (`neardup.detail_rounds.PROBES` times): lowered as a vetoed pair is, with
    no `detail` score (none was measured on this pair)."""
    return Scored(
        scored.similarity, DETAIL_CONFIDENCE, scored.scores, DETAIL_EVIDENCE, scored.inliers
    )


def detail_same(found: Detail) -> bool:
    """Whether the two pictures show the same words: aligned on enough inliers, and at the
    finest scale nearly every tile agreeing (a blurred page agrees at a coarser one with
    other words too, and a form with other values in a few fields disagrees in few tiles)."""
    count, share = found.tiles[0], found.disagree[0]
    return found.inliers >= VETO_INLIERS and count >= AGREEING[0] and share <= SAME_SHARE


def _telling(plain: Detail, turned: Callable[[], Detail]) -> Detail:
    """Of a quarter-turned pair's comparisons in its own frame and turned a quarter, the one
    kept: the turned one where the plain one shows the same words and the turned one does not.
    In the frame of a page turned a quarter, another document's words read in the strokes
    least compared: such pairs agreed at the finest scale (every look-alike `detail_same`
    accepted on the calibration halves had a page turned a quarter), and the words' first
    round merged two documents' sets on them (RESULTS.md, session 31)."""
    if not detail_same(plain):
        return plain
    other = turned()
    return plain if detail_same(other) else other


def detail_value(found: Detail | None) -> list[float] | None:
    """A comparison as the JSON value the pair store keeps."""
    if found is None:
        return None
    across = -1.0 if found.across is None else found.across
    vertical = found.vertical
    read = [-1.0] * 3 if vertical is None else [vertical.half, vertical.sharpness, vertical.area]
    value: list[float] = [found.inliers, *found.tiles, *found.disagree, across, *read]
    out = found.outside
    value += [-1.0] * 3 if out is None else [out.tiles, out.disagree, out.across]
    where = found.scatter
    if where is not None:
        value += [where.tiles, where.finest, where.half, where.close, where.apart]
    return value


def detail_of(value: list[float] | None) -> Detail | None:
    """The comparison `detail_value` gave."""
    if value is None:
        return None
    scales = len(SCALES)
    across, half, sharpness, area = value[1 + 2 * scales : 5 + 2 * scales]
    tiles, disagree, across_out = value[5 + 2 * scales : 8 + 2 * scales]
    where = value[8 + 2 * scales :]
    return Detail(
        int(value[0]),
        tuple(int(v) for v in value[1 : 1 + scales]),
        tuple(float(v) for v in value[1 + scales : 1 + 2 * scales]),
        None if not where else Scatter(int(where[0]), *(float(v) for v in where[1:])),
        None if across < 0 else float(across),
        None if half < 0 else Vertical(float(half), float(sharpness), float(area)),
        None if tiles < 0 else Outside(int(tiles), float(disagree), float(across_out)),
    )


class DetailChecker:
    """Fine comparisons with a cache of pages (one per worker, `detail_pages`)."""

    def __init__(self) -> None:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the engine's processes
        self._cv2 = cv2
        self.cv2_error: type[Exception] = cv2.error
        self._pages = PageCache(cv2)
        self.frames = FramePictures(DecodeSpec(min_side=FINE_SIDE))
        self.unread: set[Ref] = set()

    def _page(self, ref: Ref) -> Page | None:
        return self._pages.get(
            ref, lambda: read_grey(self._cv2, ref, self.frames, self.unread, FINE_SIDE)
        )

    def check(self, ref_a: Ref, ref_b: Ref) -> Detail | None:
        """The fine comparison of a pair; None where a picture is unreadable or the two do
        not align."""
        page_a, page_b = self._page(ref_a), self._page(ref_b)
        if page_a is None or page_b is None:
            return None
        return compare(self._cv2, page_a, page_b, _scatter_wanted, _telling, _painted_wanted)


DETAIL: Stage[tuple[Ref, Ref], DetailChecker, Detail | Unread | None] = Stage(
    "detail", DetailChecker, checked_chunk, chunk=32, rounds=True
)
"""The fine comparison as an engine stage: pairs of items in, comparisons out."""


def detail_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Detail | None]:
    """The fine comparison of each pair of items, in this process."""
    return in_process(DetailChecker(), pairs)
