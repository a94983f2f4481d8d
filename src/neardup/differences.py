"""What differs between the two pictures of a pair, measured rather than guessed.

For each reported pair (paths in, `Differences` out, as an engine stage):
1. same bytes -> "identical file"; same size and same working pixels, confirmed by a full
   decode -> "identical pixels";
2. both decoded upright at a working size, uniform borders trimmed (`neardup.decode`): the
   border each one has in excess of the other, where its canvas reaches past the other's
   whole canvas once aligned (step 3), is "borders";
3. ORB keypoints and a RANSAC similarity transform from a to b, also against b mirrored
   (the more inliers wins): mirrored, turned (angle of the transform), scale (its size
   factor, in full-resolution pixels) and the share of each picture the two have in common
   ("cropped"). Too few keypoints (flat graphics, strong blur): the best of the 8 dihedral
   views of whole frames instead, and crop and small turns are left unmeasured;
4. a on b's frame at a coarse size: a colour map fitted from a's pixels to b's (robustly,
   so an overlay does not bend it) says how much the colours changed ("colour", or
   "greyscale" when one lost its colour); the share of the common area the fitted map
   still gets wrong is "overlay";
5. quality: contrast-normalised Laplacian variance in matching tiles at one scale ("quality"
   when the ratio leaves `SHARPNESS_BAND`), grain where a is flat (from `GRAIN_LEVELS`), and
   the JPEG quality estimated from the quantisation tables ("quality" when one is below
   `LOW_JPEG_QUALITY` and `JPEG_GAP` under the other).

The parts: `difference_pictures` (decoding, cache), `difference_alignment` (step 3's
transform), `difference_frames` (canvases, borders), `difference_measures` (pixel measures),
`difference_resample` (their area reductions, remembered per worker, and the small warp).
Method and measured accuracy per kind: docs/differences.md.

Tolerances (constants below and in the parts) were set so that a plain re-encode (JPEG
quality 75-95, same size) reports no kind; tests check both the edits and that silence.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from neardup.difference_alignment import Aligner
from neardup.difference_frames import canvas_matrix, excess_borders, picture_frame
from neardup.difference_measures import (
    COLOUR_SPREAD,
    GREY_SPREAD,
    colour_fit,
    shared_boxes,
    sharpness,
)
from neardup.difference_pictures import Picture, PictureCache, same_pixels
from neardup.difference_resample import Reductions
from neardup.engines.base import Engine, Stage
from neardup.item_pixels import Ref, ref_of, ref_order
from neardup.pair_order import by_image
from neardup.pair_store import PairKeys, pair_store
from neardup.records import Differences, Features, Pair, ScanResult
from neardup.store import CacheSetting
from neardup.stretch import STRETCH_BAND, in_band, stretch_of

COMPARE_SIDE = 96
"""Longer side at which aligned colours are compared: JPEG noise and mild blur vanish,
an overlay of a few per cent of the area still covers many pixels."""
TURN_SNAP = 1.0
"""A turn within this many degrees of 0, 90, 180 or 270 is that turn."""
COMMON_FULL = 0.95
"""Each picture sharing at least this much counts as not cropped (keypoint frames are
measured to about a pixel at the working size)."""
SCALE_BAND = (0.95, 1.05)
"""A size factor inside this band is not a scale change."""
COLOUR_LEVELS = 6.0
"""Colour change (0-255, `difference_measures.colour_fit`) above which "colour" is reported; a
re-encode moves about 0.1, a blur about 1."""
OVERLAY_SHARE = 0.03
"""Share of the common area that must disagree for "overlay"."""
SHARPNESS_BAND = (1 / 1.7, 1.7)
"""Laplacian-variance ratio inside which the two count as equally sharp: the same factor each
way, so a pair reads the same told either way round."""
GRAIN_LEVELS = 1.0
"""Grain (`difference_measures.sharpness`) from which b counts as noisier (negative: a)."""
LOW_JPEG_QUALITY = 50
JPEG_GAP = 20


class Differ:
    """Measures differences; one per worker, with a small cache of decoded pictures and
    keypoints (a picture in many pairs is decoded once)."""

    def __init__(self, cache_size: int = 128) -> None:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the engine's processes
        self._cv2 = cv2
        self._aligner = Aligner(cv2)
        self._pictures = PictureCache(cv2, cache_size)
        self._reductions = Reductions(cv2)

    def fetch_frames(self, refs: Iterable[Ref]) -> None:
        """Decode the video frames among `refs` ahead, each video once."""
        self._pictures.frames.fetch(refs)

    def measure(self, path_a: Ref, path_b: Ref) -> Differences:
        """How b differs from a; never raises (an unreadable file gives a note)."""
        a = self._pictures.load(path_a)
        if isinstance(a, str):
            return Differences((), note=a)
        if self._pictures.copy_of(path_b, a):  # the same bytes: b is not even decoded
            orientation = (a.orientation, a.orientation)
            return Differences(("identical file",), "file", orientation=orientation)
        b = self._pictures.load(path_b)
        if isinstance(b, str):
            return Differences((), note=b)
        orientation = (a.orientation, b.orientation)
        quality = (a.quality, b.quality)
        see_through = _transparent(a, b)
        if same_pixels(a, b):
            kinds = (
                ("identical pixels",)
                + (("transparency",) if see_through else ())
                + (("orientation tag",) if len(set(orientation)) > 1 else ())
            )
            return Differences(
                kinds,
                "pixels",
                jpeg_quality=quality,
                orientation=orientation,
                transparent=see_through,
            )
        try:
            return self._compare(a, b)
        except Exception as error:  # a measuring failure must not stop the scan
            return Differences((), note=f"not measured ({type(error).__name__}: {error})")

    def _compare(self, a: Picture, b: Picture) -> Differences:
        kinds: list[str] = []
        notes: list[str] = []
        matrix, mirrored, aligned_by = self._aligner.align(a, b)
        grey_flag = _greyscale(a, b)
        borders = excess_borders(a, b, None)
        turned = scale = stretch = None
        common: tuple[float, float] | None = None
        colour = overlay = sharp = grain = None
        if matrix is None:
            notes.append("could not align the two pictures (too few keypoints)")
        else:
            m = np.asarray(matrix, dtype=np.float64)
            factor = math.sqrt(abs(float(np.linalg.det(m[:, :2]))))  # a stretch's mean scale
            stretch = stretch_of(m)[0]
            # Image y points down: a positive matrix angle is a clockwise turn on screen.
            angle = -math.degrees(math.atan2(m[1, 0], m[0, 0]))
            turned = _snap(-angle if mirrored else angle)
            scale = factor * b.per_work_pixel / a.per_work_pixel
            target_rgb = b.rgb[:, ::-1] if mirrored else b.rgb
            if aligned_by in ("keypoints", "canvas", "dense"):
                canvas = canvas_matrix(m, a, b, mirrored)
                borders = excess_borders(a, b, canvas)
                common = shared_boxes(
                    canvas, picture_frame(a, borders, "a"), picture_frame(b, borders, "b")
                )
            else:
                notes.append("aligned by whole frames (too few keypoints): crop not measured")
            fitted = colour_fit(
                self._cv2,
                m,
                a.rgb,
                target_rgb,
                COMPARE_SIDE,
                grey=grey_flag is not None,
                reduce=self._reductions,
            )
            if fitted is not None:
                colour, overlay = fitted
                target_grey = b.grey[:, ::-1] if mirrored else b.grey
                sharp, grain = sharpness(self._cv2, m, a.grey, target_grey, self._reductions)
        if mirrored:
            kinds.append("mirrored")
        if turned is not None and abs(turned) >= TURN_SNAP / 2:
            kinds.append("turned")
        if common is not None and min(common) < COMMON_FULL:
            kinds.append("cropped")
        if scale is not None and not SCALE_BAND[0] <= scale <= SCALE_BAND[1]:
            kinds.append("scaled")
        if stretch is not None and not in_band(stretch, STRETCH_BAND):
            kinds.append("stretched")
        if borders:
            kinds.append("borders")
        if grey_flag:
            kinds.append("greyscale")
        see_through = _transparent(a, b)
        if see_through:
            kinds.append("transparency")
        if not grey_flag and colour is not None and colour > COLOUR_LEVELS:
            kinds.append("colour")
        if overlay is not None and overlay >= OVERLAY_SHARE:
            kinds.append("overlay")
        quality = (a.quality, b.quality)
        # An overlay on a flat area reads as grain there: the overlay already says it.
        grainy = grain is not None and abs(grain) >= GRAIN_LEVELS and "overlay" not in kinds
        if _worse_quality(sharp, quality) or grainy:
            kinds.append("quality")
        if a.orientation != b.orientation:
            kinds.append("orientation tag")
        return Differences(
            tuple(kinds),
            None,
            aligned_by,
            mirrored,
            _round(turned, 1),
            None if common is None else (round(common[0], 3), round(common[1], 3)),
            _round(scale, 3),
            _round(stretch, 3),
            borders,
            grey_flag,
            _round(colour, 1),
            _round(overlay, 3),
            _round(sharp, 3),
            _round(grain, 1),
            quality,
            (a.orientation, b.orientation),
            "; ".join(notes),
            see_through,
        )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _snap(angle: float) -> float:
    """Normalise to (-180, 180] and snap near-right angles to them."""
    angle = (angle + 180.0) % 360.0 - 180.0
    angle = 180.0 if angle <= -180.0 else angle
    for right in (-90.0, 0.0, 90.0, 180.0, -180.0):
        if abs(angle - right) < TURN_SNAP:
            return abs(right) if right in (-180.0, 180.0) else right
    return angle


def _transparent(a: Picture, b: Picture) -> str | None:
    """ "a" or "b": the picture with see-through pixels while the other has none."""
    return None if a.transparent == b.transparent else "a" if a.transparent else "b"


def _greyscale(a: Picture, b: Picture) -> str | None:
    for name, grey, other in (("a", a, b), ("b", b, a)):
        if grey.spread < GREY_SPREAD and other.spread > COLOUR_SPREAD:
            return name
    return None


def _worse_quality(sharp: float | None, quality: tuple[int | None, int | None]) -> bool:
    if sharp is not None and not SHARPNESS_BAND[0] <= sharp <= SHARPNESS_BAND[1]:
        return True
    qa, qb = (100 if q is None else q for q in quality)
    return min(qa, qb) < LOW_JPEG_QUALITY and abs(qa - qb) >= JPEG_GAP


def _measure_chunk(differ: Differ, pairs: list[tuple[Ref, Ref]]) -> list[Differences]:
    differ.fetch_frames(ref for pair in pairs for ref in pair)  # each video once a chunk
    return [differ.measure(a, b) for a, b in pairs]


DIFFERENCES: Stage[tuple[Ref, Ref], Differ, Differences] = Stage(
    "differences", Differ, _measure_chunk, chunk=16
)
"""The measurement as an engine stage: pairs of items (paths, or (video path, frame)) in,
`Differences` out; one `Differ` (and its picture cache) per worker."""


def measure_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Differences]:
    """Differences for each pair of items (a, b), in this process."""
    return _measure_chunk(Differ(), pairs)


def measure_reported(
    images: Sequence[Features],
    pairs: list[Pair],
    cut: float,
    engine: Engine,
    progress: Callable[[int, int], None] | None = None,
    *,
    cache: CacheSetting = False,
) -> list[Pair]:
    """`pairs` (positions in `images`) with `differences` measured on those at or above `cut`
    (the reported ones; a scan for evaluation keeps lower pairs too, and they are not
    measured). Pairs are packed so that a worker's chunk holds whole groups of pairs that
    share pictures (`pair_order.by_image`) and its cache decodes each once. Pairs measured
    before are read from `cache`'s store by the items' content hashes, new ones kept there."""

    def ref(i: int) -> Ref:
        return ref_of(images[i].path, images[i].frame)

    wanted = {(ref(p.a), ref(p.b)): (p.a, p.b) for p in pairs if p.confidence >= cut}
    key = PairKeys(images)
    keys = {refs: key(a, b) for refs, (a, b) in wanted.items()}
    found: dict[tuple[Ref, Ref], Differences] = {}
    with pair_store(cache, "differences", _version) as known:
        stored = {} if known is None else known.get(k for k in keys.values() if k)
        found = {refs: differences_of(stored[k]) for refs, k in keys.items() if k in stored}
        # Each chunk holds whole groups of pairs that share pictures, as the check's do.
        todo = by_image(
            sorted(
                (refs for refs in wanted if refs not in found),
                key=lambda pair: (ref_order(pair[0]), ref_order(pair[1])),
            ),
            DIFFERENCES.chunk,
        )
        if progress and found:
            progress(len(found), len(wanted))
        for chunk, results in engine.map(DIFFERENCES, todo):
            found.update(zip(chunk, results, strict=True))
            if known is not None:  # kept chunk by chunk: an interrupted run resumes
                known.put(
                    (k, differences_value(d))
                    for refs, d in zip(chunk, results, strict=True)
                    if (k := keys[refs]) and _lasting(d) and key.still(*wanted[refs], k)
                )
            if progress:
                progress(len(found), len(wanted))
    return [replace(p, differences=found.get((ref(p.a), ref(p.b)))) for p in pairs]


DIFFERENCES_VERSION = 10
"""Bumped whenever a change would make the measures of the same two pictures differ: stored
measures of another version are not read (`neardup.pair_store`). 10: smooth pictures aligned
by grey levels (`aligned_by: "dense"`)."""


def _version() -> str:
    import cv2

    return f"{DIFFERENCES_VERSION}-opencv-{cv2.__version__}"


def _lasting(found: Differences) -> bool:
    """Whether a measure holds for as long as the two files' contents do: not when a file
    could not be read or a measure failed (the next run tries again)."""
    return not found.note.startswith(("cannot ", "not measured"))


def differences_value(found: Differences) -> dict[str, object]:
    """`found` as the JSON value the cache keeps."""
    return dataclasses.asdict(found)


def differences_of(value: dict[str, Any]) -> Differences:
    """The `Differences` that `differences_value` gave (JSON lists back to tuples)."""
    common, jpeg, orientation = value["common"], value["jpeg_quality"], value["orientation"]
    return Differences(
        **value
        | {
            "kinds": tuple(value["kinds"]),
            "common": None if common is None else (common[0], common[1]),
            "borders": tuple((who, tuple(sides), share) for who, sides, share in value["borders"]),
            "jpeg_quality": (jpeg[0], jpeg[1]),
            "orientation": (orientation[0], orientation[1]),
        }
    )


def measure_differences(
    result: ScanResult,
    cut: float,
    engine: Engine,
    *,
    every: bool,
    progress: Callable[[int, int], None] | None = None,
    cache: CacheSetting = False,
) -> list[Pair]:
    """The result's pairs with `differences` measured on every reported pair (`every`), or on
    the pairs that put each member in its group (what the report and `act` show; on a
    copy-dense set that is far fewer than all pairs: N - 1 per group, not N (N - 1) / 2)."""
    if every:
        chosen = result.pairs
    else:
        wanted = {
            (min(m, g.via.get(m, g.keeper)), max(m, g.via.get(m, g.keeper)))
            for g in result.groups
            for m, _ in g.members
        }
        chosen = [p for p in result.pairs if (min(p.a, p.b), max(p.a, p.b)) in wanted]
    measured = measure_reported(result.images, chosen, cut, engine, progress, cache=cache)
    by_pair = {(p.a, p.b): p for p in measured}
    return [by_pair.get((p.a, p.b), p) for p in result.pairs]
