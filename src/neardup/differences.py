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

Method and measured accuracy per kind: docs/differences.md.

Tolerances (constants below) were set so that a plain re-encode (JPEG quality 75-95, same
size) reports no kind; tests check both the edits and that silence.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from neardup.decode import Decoded, DecodeSpec, decode, pixel_hash_of
from neardup.difference_measures import (
    COLOUR_SPREAD,
    GREY_SPREAD,
    Box,
    colour_fit,
    colour_spread,
    dihedral_view,
    frame_matrix,
    jpeg_quality,
    shared_boxes,
    sharpness,
)
from neardup.engines.base import Engine, Stage
from neardup.records import Differences, Pair
from neardup.verify import ratio_matches

WORK_SIDE = 384
"""Decode side for measuring: enough keypoints and detail for blur, a few ms a picture."""
COMPARE_SIDE = 96
"""Longer side at which aligned colours are compared: JPEG noise and mild blur vanish,
an overlay of a few per cent of the area still covers many pixels."""
MIN_INLIERS = 12
STRONG_INLIERS = 40
"""A plain match with this many inliers is not checked against the mirrored picture."""
TURN_SNAP = 2.0
"""A turn within this many degrees of 0, 90, 180 or 270 is that turn."""
COMMON_FULL = 0.95
"""Each picture sharing at least this much counts as not cropped (keypoint frames are
measured to about a pixel at the working size)."""
SCALE_BAND = (0.95, 1.05)
"""A size factor inside this band is not a scale change."""
BORDER_MIN = 0.01
"""Border share of the canvas (in excess of the other picture's) below which none is reported."""
COLOUR_LEVELS = 6.0
"""Colour change (0-255, `difference_measures.colour_fit`) above which "colour" is reported; a
re-encode moves about 0.1, a blur about 1."""
OVERLAY_SHARE = 0.03
"""Share of the common area that must disagree for "overlay"."""
SHARPNESS_BAND = (0.6, 1.7)
"""Laplacian-variance ratio inside which the two count as equally sharp."""
GRAIN_LEVELS = 1.0
"""Grain (`difference_measures.sharpness`) from which b counts as noisier (negative: a)."""
LOW_JPEG_QUALITY = 50
JPEG_GAP = 20


@dataclass(slots=True)
class _Picture:
    """One decoded picture and what the measures need of it (kept in the worker's cache)."""

    path: str
    digest: str
    width: int
    height: int
    trimmed: tuple[int, int, int, int]
    orientation: int
    quality: int | None
    rgb: npt.NDArray[np.uint8]
    grey: npt.NDArray[np.uint8]
    spread: float
    """Mean spread between its channels: 0 for grey."""
    pixel_hash: str | None = None
    """Hash of the full-resolution pixels, made when a pair first needs it (then kept)."""

    @property
    def content(self) -> tuple[int, int]:
        """Full-resolution size of the picture inside its borders."""
        left, top, right, bottom = self.trimmed
        return max(1, self.width - left - right), max(1, self.height - top - bottom)

    @property
    def per_work_pixel(self) -> float:
        """Full-resolution pixels per working pixel."""
        return float(self.content[0] / self.rgb.shape[1])


class Differ:
    """Measures differences; one per worker, with a small cache of decoded pictures and
    keypoints (a picture in many pairs is decoded once)."""

    def __init__(self, cache_size: int = 128) -> None:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the engine's processes
        self._cv2 = cv2
        self._orbs = [cv2.ORB_create(nfeatures=600, fastThreshold=t) for t in (10, 3)]  # type: ignore[attr-defined]
        self._cache: OrderedDict[str, _Picture | str] = OrderedDict()
        self._keys: dict[str, tuple[Any, Any] | None] = {}
        self._cache_size = cache_size

    def measure(self, path_a: str, path_b: str) -> Differences:
        """How b differs from a; never raises (an unreadable file gives a note)."""
        a, b = self._load(path_a), self._load(path_b)
        if isinstance(a, str) or isinstance(b, str):
            return Differences((), note=a if isinstance(a, str) else str(b))
        orientation = (a.orientation, b.orientation)
        if a.digest == b.digest:
            return Differences(("identical file",), "file", orientation=orientation)
        quality = (a.quality, b.quality)
        if self._same_pixels(a, b):
            kinds = ("identical pixels",) + (
                ("orientation tag",) if len(set(orientation)) > 1 else ()
            )
            return Differences(kinds, "pixels", jpeg_quality=quality, orientation=orientation)
        try:
            return self._compare(a, b)
        except Exception as error:  # a measuring failure must not stop the scan
            return Differences((), note=f"not measured ({type(error).__name__}: {error})")

    # ------------------------------------------------------------------ reading

    def _load(self, path: str) -> _Picture | str:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            found: _Picture | str = f"cannot read {path}: {error.strerror or error}"
        else:
            decoded = decode(data, path, DecodeSpec(min_side=WORK_SIDE))
            if isinstance(decoded, Decoded):
                found = self._picture(path, data, decoded)
            else:
                found = f"cannot decode {path}: {decoded.reason}"
        self._cache[path] = found
        if len(self._cache) > self._cache_size:
            old, _ = self._cache.popitem(last=False)
            self._keys.pop(old, None)
            self._keys.pop(old + "\0mirror", None)
        return found

    def _picture(self, path: str, data: bytes, decoded: Decoded) -> _Picture:
        quality = None
        if decoded.format == "JPEG":
            with Image.open(io.BytesIO(data)) as image:
                quality = jpeg_quality(getattr(image, "quantization", None))
        grey = np.asarray(self._cv2.cvtColor(decoded.rgb, self._cv2.COLOR_RGB2GRAY), np.uint8)
        return _Picture(
            path,
            hashlib.blake2b(data, digest_size=16).hexdigest(),
            decoded.width,
            decoded.height,
            decoded.trimmed or (0, 0, 0, 0),
            decoded.orientation,
            quality,
            decoded.rgb,
            grey,
            colour_spread(decoded.rgb),
        )

    def _same_pixels(self, a: _Picture, b: _Picture) -> bool:
        """Identical displayed pixels: same size, near-equal working pixels, then confirmed
        by full decodes (rare: only candidates pay for them)."""
        if (a.width, a.height) != (b.width, b.height) or a.rgb.shape != b.rgb.shape:
            return False
        gap = np.abs(a.rgb.astype(np.int16) - b.rgb.astype(np.int16)).mean()
        if gap > 2.0:
            return False
        for picture in (a, b):
            if picture.pixel_hash is None:
                try:
                    found = pixel_hash_of(Path(picture.path).read_bytes())
                except OSError:
                    found = None
                picture.pixel_hash = found or ""  # "" : tried, cannot tell
        return bool(a.pixel_hash) and a.pixel_hash == b.pixel_hash

    # ------------------------------------------------------------------ geometry

    def _keypoints(self, picture: _Picture, mirror: bool) -> tuple[Any, Any] | None:
        key = picture.path + ("\0mirror" if mirror else "")
        if key not in self._keys:
            grey = picture.grey[:, ::-1].copy() if mirror else picture.grey
            found = None
            for orb in self._orbs:
                points, descriptors = orb.detectAndCompute(grey, None)
                if descriptors is not None and len(points) >= 150:
                    break
            if descriptors is not None and len(points) >= MIN_INLIERS:
                found = (np.array([p.pt for p in points], np.float32), descriptors)
            self._keys[key] = found
        return self._keys[key]

    def _transform(self, a: _Picture, b: _Picture, mirror: bool) -> tuple[Any, int]:
        """Similarity transform from a's working frame to b's (mirrored), and its inliers."""
        ka, kb = self._keypoints(a, False), self._keypoints(b, mirror)
        if ka is None or kb is None:
            return None, 0
        # OpenCV's knnMatch(k=2) + ratio test, the same matches at a quarter of its cost.
        query, train = ratio_matches(ka[1], kb[1])
        if len(query) < MIN_INLIERS:
            return None, 0
        src = ka[0][query]
        dst = kb[0][train]
        matrix, mask = self._cv2.estimateAffinePartial2D(
            src,
            dst,
            method=self._cv2.RANSAC,
            ransacReprojThreshold=max(2.0, 0.006 * float(np.hypot(*b.grey.shape))),
            maxIters=4000,
            confidence=0.998,
            refineIters=20,
        )
        if matrix is None or mask is None:
            return None, 0
        if not 0.1 < math.hypot(matrix[0, 0], matrix[1, 0]) < 10:  # a degenerate fit
            return None, 0
        return matrix, int(mask.sum())

    def _align(self, a: _Picture, b: _Picture) -> tuple[Any, bool, str | None]:
        """(matrix from a's working frame to b's or b mirrored's, mirrored, how aligned).

        The mirrored match is tried only when the plain one is weak (it costs as much again);
        a mirrored copy gives the plain match few inliers, as ORB descriptors are not
        mirror-invariant."""
        plain, plain_n = self._transform(a, b, False)
        flipped, flipped_n = None, 0
        if plain_n < STRONG_INLIERS:
            flipped, flipped_n = self._transform(a, b, True)
        if max(plain_n, flipped_n) >= MIN_INLIERS:
            if flipped_n > 1.2 * plain_n + 4:
                return flipped, True, "keypoints"
            if plain_n >= MIN_INLIERS:
                return plain, False, "keypoints"
        view = dihedral_view(a.grey, b.grey)
        if view is None:
            return None, False, None
        turns, mirror = view
        return frame_matrix(a.grey.shape, b.grey.shape, turns), mirror, "frame"

    # ------------------------------------------------------------------ the comparison

    def _compare(self, a: _Picture, b: _Picture) -> Differences:
        kinds: list[str] = []
        notes: list[str] = []
        matrix, mirrored, aligned_by = self._align(a, b)
        grey_flag = _greyscale(a, b)
        borders = _borders(a, b, None)
        turned = scale = None
        common: tuple[float, float] | None = None
        colour = overlay = sharp = grain = None
        if matrix is None:
            notes.append("could not align the two pictures (too few keypoints)")
        else:
            m = np.asarray(matrix, dtype=np.float64)
            factor = math.hypot(m[0, 0], m[1, 0])
            # Image y points down: a positive matrix angle is a clockwise turn on screen.
            angle = -math.degrees(math.atan2(m[1, 0], m[0, 0]))
            turned = _snap(-angle if mirrored else angle)
            scale = factor * b.per_work_pixel / a.per_work_pixel
            target_rgb = b.rgb[:, ::-1] if mirrored else b.rgb
            if aligned_by == "keypoints":
                canvas = _canvas_matrix(m, a, b, mirrored)
                borders = _borders(a, b, canvas)
                common = shared_boxes(canvas, _frame(a, borders, "a"), _frame(b, borders, "b"))
            else:
                notes.append("aligned by whole frames (too few keypoints): crop not measured")
            fitted = colour_fit(
                self._cv2, m, a.rgb, target_rgb, COMPARE_SIDE, grey=grey_flag is not None
            )
            if fitted is not None:
                colour, overlay = fitted
                target_grey = b.grey[:, ::-1] if mirrored else b.grey
                sharp, grain = sharpness(self._cv2, m, a.grey, target_grey)
        if mirrored:
            kinds.append("mirrored")
        if turned is not None and abs(turned) >= TURN_SNAP / 2:
            kinds.append("turned")
        if common is not None and min(common) < COMMON_FULL:
            kinds.append("cropped")
        if scale is not None and not SCALE_BAND[0] <= scale <= SCALE_BAND[1]:
            kinds.append("scaled")
        if borders:
            kinds.append("borders")
        if grey_flag:
            kinds.append("greyscale")
        elif colour is not None and colour > COLOUR_LEVELS:
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
            borders,
            grey_flag,
            _round(colour, 1),
            _round(overlay, 3),
            _round(sharp, 3),
            _round(grain, 1),
            quality,
            (a.orientation, b.orientation),
            "; ".join(notes),
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


def _greyscale(a: _Picture, b: _Picture) -> str | None:
    for name, grey, other in (("a", a, b), ("b", b, a)):
        if grey.spread < GREY_SPREAD and other.spread > COLOUR_SPREAD:
            return name
    return None


_SIDES = ("left", "top", "right", "bottom")


def _canvas_matrix(m: npt.NDArray[np.float64], a: _Picture, b: _Picture, mirrored: bool) -> Any:
    """The fitted transform between the two whole canvases in full-resolution pixels (it was
    fitted between the trimmed working pictures, b mirrored when `mirrored`)."""
    fa, fb = a.per_work_pixel, b.per_work_pixel
    to_work = np.array(
        [[1 / fa, 0, -a.trimmed[0] / fa], [0, 1 / fa, -a.trimmed[1] / fa], [0, 0, 1]]
    )
    fitted = np.vstack([m, [0.0, 0.0, 1.0]])
    unmirror = (
        np.array([[-1.0, 0, b.rgb.shape[1]], [0, 1, 0], [0, 0, 1]]) if mirrored else np.eye(3)
    )
    to_canvas = np.array([[fb, 0, b.trimmed[0]], [0, fb, b.trimmed[1]], [0, 0, 1]])
    return (to_canvas @ unmirror @ fitted @ to_work)[:2]


def _frame(p: _Picture, borders: tuple[tuple[str, tuple[str, ...], float], ...], name: str) -> Box:
    """The picture's frame: inside its borders if they are added ones, else the canvas (a
    flat background trimmed more in one copy than in the other is picture, not border)."""
    if any(image == name for image, _, _ in borders):
        left, top, right, bottom = p.trimmed
        return left, top, p.width - right, p.height - bottom
    return 0.0, 0.0, float(p.width), float(p.height)


def _borders(
    a: _Picture, b: _Picture, canvas: Any | None
) -> tuple[tuple[str, tuple[str, ...], float], ...]:
    """The borders one picture has in excess of the other, as a share of its canvas.

    With the canvas transform, a border counts only where that picture's canvas reaches
    past the other's whole canvas: decoding trims a flat background too, and a blurred,
    noisy or cropped copy of a graphic on a plain background is trimmed differently."""

    def share(p: _Picture) -> float:
        width, height = p.content
        return 1.0 - (width * height) / max(1, p.width * p.height)

    out = []
    for name, own, other in (("a", a, b), ("b", b, a)):
        excess = share(own) - share(other)
        if excess >= BORDER_MIN and canvas is not None:
            to_own = canvas if name == "b" else _inverse(canvas)
            whole = (0.0, 0.0, float(other.width), float(other.height))
            _, covered = shared_boxes(
                to_own, whole, (0.0, 0.0, float(own.width), float(own.height))
            )
            if 1.0 - covered < excess / 2:
                continue
        if excess >= BORDER_MIN:
            sides = tuple(
                side
                for side, width, full in zip(
                    _SIDES, own.trimmed, (own.width, own.height) * 2, strict=True
                )
                if width >= BORDER_MIN * full
            )
            out.append((name, sides, round(excess, 3)))
    return tuple(out)


def _inverse(matrix: Any) -> Any:
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def _worse_quality(sharp: float | None, quality: tuple[int | None, int | None]) -> bool:
    if sharp is not None and not SHARPNESS_BAND[0] <= sharp <= SHARPNESS_BAND[1]:
        return True
    qa, qb = (100 if q is None else q for q in quality)
    return min(qa, qb) < LOW_JPEG_QUALITY and abs(qa - qb) >= JPEG_GAP


def _measure_chunk(differ: Differ, pairs: list[tuple[str, str]]) -> list[Differences]:
    return [differ.measure(a, b) for a, b in pairs]


DIFFERENCES: Stage[tuple[str, str], Differ, Differences] = Stage(
    "differences", Differ, _measure_chunk, chunk=16
)
"""The measurement as an engine stage: (path a, path b) in, `Differences` out; one `Differ`
(and its picture cache) per worker."""


def measure_pairs(pairs: list[tuple[str, str]]) -> list[Differences]:
    """Differences for each (path a, path b), in this process."""
    return _measure_chunk(Differ(), pairs)


def measure_reported(
    paths: Sequence[str], pairs: list[Pair], cut: float, engine: Engine
) -> list[Pair]:
    """`pairs` with `differences` measured on those at or above `cut` (the reported ones; a
    scan for evaluation keeps lower pairs too, and they are not measured). Pairs are sorted
    by path so that a worker's chunk shares pictures and its cache decodes each once."""
    todo = sorted({(paths[p.a], paths[p.b]) for p in pairs if p.confidence >= cut})
    found: dict[tuple[str, str], Differences] = {}
    for chunk, results in engine.map(DIFFERENCES, todo):
        found.update(zip(chunk, results, strict=True))
    return [replace(p, differences=found.get((paths[p.a], paths[p.b]))) for p in pairs]
