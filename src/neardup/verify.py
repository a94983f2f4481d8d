"""A precise check for borderline pairs: do the two pictures share geometry, and how much?

Embeddings say two pictures look alike; they cannot tell a cropped or slightly rotated copy
from another picture of the same texture or scene (two tiles of one brick wall score as high
as a crop). Local features can: ORB keypoints matched between the two, a similarity transform
(rotation, scale, shift) fitted with RANSAC, then the overlap of the two frames under that
transform. A copy shares most of its frame with the source (a 75 % crop: >= 0.56 of the larger
picture); a neighbouring tile or another frame of a scene shares little or no consistent
geometry. Where that transform leaves the pixels apart, a homography fitted to the same
matches is read instead if it gains inliers and aligns the pixels as a copy's: a copy seen in
perspective (keystoned, re-photographed) or stretched to other proportions. Runs only on the
few pairs whose evidence is embeddings alone, near the threshold.
A picture too smooth for keypoints (a sky, a gradient wallpaper) is left undecided here, for
the dense alignment (`neardup.dense_check`), which takes the same frame and pixel measures.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import astuple, dataclass, replace
from typing import Any

import numpy as np

from neardup.aligned_pixels import (
    NO_SPOT,
    Spot,
    frame_shares,
    pixels_compared,
)
from neardup.decode import Decoded, DecodeSpec
from neardup.engines.base import Stage
from neardup.item_pixels import FramePictures, Ref, read_still
from neardup.perspective import in_perspective, worth_a_homography
from neardup.records import Skipped

VERIFY_SIDE = 256
"""Decode side for the check: enough keypoints, about 5 ms a picture."""
MIN_INLIERS = 10
WEAK_SUPPORT = 25
"""Inliers below which a found transform is confirmed by matching in the other direction."""
MIN_KEYPOINTS = 30
"""Fewer keypoints in either picture (a flat graphic, a blurred copy) and the check cannot
decide: it reports nothing rather than a false 'no geometry in common'."""
FAST_THRESHOLDS = (7, 2)
"""Corner contrast for ORB: the lower one is tried on smooth pictures (skies, gradients,
wallpapers) where the first finds too few corners; RANSAC and the aligned pixels then tell
whether the faint corners agree."""
ENOUGH_KEYPOINTS = 150
MIN_SIDE = 16
"""Pictures with a shorter side are not searched for keypoints: ORB's pyramid scales a side
of one pixel to nothing and fails, and one this small holds too few to decide anyway."""


@dataclass(frozen=True, slots=True)
class Geometry:
    """What the check found: RANSAC inliers, the shared fraction of each frame, and how well
    the pixels agree once aligned."""

    matches: int
    inliers: int
    overlap_a: float
    overlap_b: float
    aligned: float = 0.0
    """Correlation (floored at 0) of the two pictures' grey levels over the shared frame, one
    warped onto the other by the fitted transform and its levels mapped onto the other's, at
    `aligned_pixels.ALIGNED_SIDE` pixels: near 1 for a copy (colour, tone, blur, compression and
    noise edits keep it high, an overlay lowers it by its share), low for look-alikes whose layout
    or background matched but whose content differs (two pages of one template, two frames
    of one scene)."""

    agree: float = 0.0
    """Share of the shared frame's pixels (at `aligned_pixels.ALIGNED_SIDE`) whose robustly
    normalised grey levels agree: an overlay on a tenth of a copy leaves about 0.9, other
    content far less."""

    dense: bool = False
    """Found by aligning grey levels (`neardup.dense_alignment`), the pictures being too smooth
    for keypoints: no inliers; the fitted model does not read it (`DENSE_GATE` does)."""

    edges: float = 0.0
    """For a dense finding: how well the aligned pictures' edges agree
    (`neardup.dense_alignment.edges_agree`)."""

    spot: Spot = NO_SPOT
    """For a keypoint finding: where the aligned pixels disagree (an overlay's one spot)."""

    def swapped(self) -> Geometry:
        """The same finding with the two pictures' roles exchanged."""
        return replace(self, overlap_a=self.overlap_b, overlap_b=self.overlap_a)

    @property
    def score(self) -> float:
        """Similarity in [0, 1]: the smaller shared fraction, if the geometry is consistent."""
        if self.inliers < MIN_INLIERS and not self.dense:
            return 0.0
        return min(self.overlap_a, self.overlap_b)

    @property
    def contained(self) -> float:
        """The larger shared fraction, if the geometry is consistent: 1 where one picture is
        found whole inside the other (a screenshot of it, or a crop of it)."""
        if self.inliers < MIN_INLIERS:
            return 0.0
        return max(self.overlap_a, self.overlap_b)

    def evidence(self) -> tuple[float, float, float, int, float, bool, float]:
        """What rescoring reads (`neardup.checked_scores.Check`)."""
        return (
            self.score,
            self.aligned,
            self.agree,
            self.inliers,
            self.contained,
            self.dense,
            self.edges,
        )


CHECK_VERSION = 11
"""Bumped whenever a change would make the check's findings on the same pixels differ: cached
findings of another version are not read (`neardup.pair_store`). 2: a screenshot is checked
after the picture it frames (`neardup.checked_scores.picture_first`), whichever was first;
3: its finding is stored under that order (2 stored it under the files' order); 4: aligned
pixels compared after a tone match (`neardup.aligned_pixels.tone_matched`); 5: a stored
finding records whether it was found densely, and its edges (`neardup.dense_check`); 8: and
where the aligned pixels disagree (`Geometry.spot`; 6 and 7 were trials of it, never released);
11: a homography where it explains a copy seen whole in perspective
(`neardup.perspective`; 9 and 10 were trials of it, never released)."""


def check_version() -> str:
    """This code's version of the check, with OpenCV's (its keypoints and RANSAC)."""
    import cv2

    return f"{CHECK_VERSION}-opencv-{cv2.__version__}"


def geometry_value(found: Geometry | None) -> list[float] | None:
    """A finding as the JSON value the cache keeps (None: the check could not tell)."""
    if found is None:
        return None
    return [
        found.matches,
        found.inliers,
        found.overlap_a,
        found.overlap_b,
        found.aligned,
        found.agree,
        float(found.dense),
        found.edges,
        *astuple(found.spot),
    ]


def geometry_of(value: list[float] | None) -> Geometry | None:
    """The finding `geometry_value` gave."""
    if value is None:
        return None
    matches, inliers, overlap_a, overlap_b, aligned, agree, dense, edges, *spot = value
    shares = (overlap_a, overlap_b, aligned, agree)
    return Geometry(int(matches), int(inliers), *shares, bool(dense), edges, Spot(*spot))


@dataclass(frozen=True, slots=True)
class Unread:
    """A pair the check could not read (a file gone, unreadable or a video that fails for
    now): undecided like None, but never kept in the pair store, so a later run checks it."""


def _support(geometry: Geometry) -> int:
    return geometry.inliers


class Verifier:
    """Geometric checks with a small cache of keypoints, so a picture in many pairs is read once."""

    def __init__(self, cache_size: int = 1024) -> None:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the engine's processes
        self._cv2 = cv2
        self.cv2_error: type[Exception] = cv2.error
        self._orbs = [
            cv2.ORB_create(nfeatures=400, fastThreshold=t)  # type: ignore[attr-defined]
            for t in FAST_THRESHOLDS
        ]
        self._cache: OrderedDict[Any, tuple[Any, Any, tuple[int, int]] | None] = OrderedDict()
        self._cache_size = cache_size
        self.frames = FramePictures(DecodeSpec(min_side=VERIFY_SIDE))
        self.unread: set[Ref] = set()
        """Pictures that could not be read, as opposed to read and found wanting."""

    def keypoints(self, ref: Ref) -> tuple[Any, Any, tuple[int, int]] | None:
        """An item's keypoints, descriptors, size and grey picture at the check's size."""
        if ref in self._cache:
            self._cache.move_to_end(ref)
            return self._cache[ref]
        result = None
        grey = read_grey(self._cv2, ref, self.frames, self.unread)
        if grey is not None:
            result = self.describe(grey)
            if result is not None:
                result = (*result, grey)  # type: ignore[assignment]
        self._cache[ref] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def describe(self, grey: Any) -> tuple[Any, Any, tuple[int, int]] | None:
        """A grey picture's ORB keypoints, descriptors and size; None with too few."""
        if min(grey.shape[:2]) < MIN_SIDE:  # OpenCV's ORB fails on a side of one pixel
            return None
        for orb in self._orbs:
            points, descriptors = orb.detectAndCompute(grey, None)
            if descriptors is not None and len(points) >= ENOUGH_KEYPOINTS:
                break
        if descriptors is None or len(points) < MIN_INLIERS:
            return None
        xy = np.array([p.pt for p in points], dtype=np.float32)
        return xy, descriptors, (grey.shape[1], grey.shape[0])

    def check(self, path_a: Ref, path_b: Ref) -> Geometry | None:
        """The geometry two pictures share, as is or mirrored; None when it cannot tell.

        A shared frame found with weak support (fewer than `WEAK_SUPPORT` inliers) is checked
        by matching the other way (B's keypoints against A's) and the estimate with more
        inliers wins: on repetitive textures one direction can settle on a spurious transform
        while the other finds the true one. A mirrored estimate wins only with more inliers.
        """
        framed = self.framed(path_a, path_b)
        return None if framed is None else framed[0]

    def framed(self, path_a: Ref, path_b: Ref) -> tuple[Geometry, Any, Any, Any] | None:
        """`check`'s finding with the similarity transform it found (None where none; see
        `transform` for a finding read under a homography) and the two grey
        pictures that transform maps, from and onto: A's onto B's, B's onto A's where matching
        the other way won, A's onto the mirrored B's where the mirror won."""
        ka, kb = self.keypoints(path_a), self.keypoints(path_b)
        if ka is None or kb is None or min(len(ka[0]), len(kb[0])) < MIN_KEYPOINTS:
            return None  # the dense alignment may still decide (`neardup.dense_check`)
        found, matrix = self.transform(ka, kb)
        chosen = (found, matrix, ka, kb)
        if found.score >= 0.5 and found.inliers < WEAK_SUPPORT:
            back, back_matrix = self.transform(kb, ka)
            if _support(back) > _support(found):  # on a tie the first direction stands
                chosen = (back.swapped(), back_matrix, kb, ka)
        if chosen[0].score < 0.5:
            mirrored = self.mirrored(path_b)
            if mirrored is not None:
                flipped, flipped_matrix = self.transform(ka, mirrored)
                if _support(flipped) > _support(chosen[0]):
                    chosen = (flipped, flipped_matrix, ka, mirrored)
        geometry, matrix, source, target = chosen
        return geometry, matrix, source[3], target[3]  # type: ignore[misc]

    def mirrored(self, ref: Ref) -> tuple[Any, Any, tuple[int, int]] | None:
        """Keypoints of the mirrored picture (ORB descriptors are not mirror-invariant)."""
        key = (ref, "mirror")
        if key not in self._cache:
            found = self.keypoints(ref)
            grey = found[3] if found is not None else None  # type: ignore[misc]
            mirrored = None if grey is None else grey[:, ::-1].copy()
            described = None if mirrored is None else self.describe(mirrored)
            self._cache[key] = None if described is None else (*described, mirrored)  # type: ignore[assignment]
        return self._cache[key]

    def match(self, ka: tuple[Any, ...], kb: tuple[Any, ...]) -> Geometry:
        """The shared frame RANSAC finds from A's matched keypoints into B's."""
        return self.transform(ka, kb)[0]

    def transform(self, ka: tuple[Any, ...], kb: tuple[Any, ...]) -> tuple[Geometry, Any]:
        """`match`'s finding and the 2 x 3 similarity transform it found (None where it found
        none). The finding is read under a homography instead where that explains a copy seen
        whole in perspective (`neardup.perspective`); the transform returned stays the
        similarity, which the stages after the check read (they raise pairs only, and such a
        copy reads aligned 0.98 or more already)."""
        (xy_a, des_a, size_a), (xy_b, des_b, size_b) = ka[:3], kb[:3]
        query, train = ratio_matches(des_a, des_b)
        if len(query) < MIN_INLIERS:
            return Geometry(len(query), 0, 0.0, 0.0), None
        src = xy_a[query]
        dst = xy_b[train]
        diagonal = float(np.hypot(*size_b))
        matrix, mask = self._cv2.estimateAffinePartial2D(
            src,
            dst,
            method=self._cv2.RANSAC,
            ransacReprojThreshold=max(2.0, 0.01 * diagonal),
            maxIters=2000,
            confidence=0.995,
        )
        if matrix is None or mask is None:
            return Geometry(len(query), 0, 0.0, 0.0), None
        inliers = int(mask.sum())
        overlap_a, overlap_b = frame_shares(self._cv2, matrix, size_a, size_b)
        # A transform with fewer inliers is chance (most pairs checked are not copies): its
        # frames are not compared. That skips the comparison on ~85 % of the pairs checked in
        # calibration; refitted without it, out-of-fold precision held and recall rose.
        aligned, agree, spot = (
            pixels_compared(self._cv2, matrix, ka[3], kb[3])
            if inliers >= MIN_INLIERS and len(ka) > 3 and len(kb) > 3
            else (0.0, 0.0, NO_SPOT)
        )
        found = Geometry(len(query), inliers, overlap_a, overlap_b, aligned, agree, spot=spot)
        if len(ka) > 3 and len(kb) > 3 and worth_a_homography(inliers, aligned, agree):
            seen = in_perspective(
                self._cv2,
                src,
                dst,
                (size_a, size_b),
                inliers,
                lambda warp: pixels_compared(self._cv2, warp, ka[3], kb[3]),
            )
            if seen is not None:  # the stages after the check still read `matrix`
                found_in, shared_a, shared_b, aligned, agree, spot = seen
                found = Geometry(
                    len(query), found_in, shared_a, shared_b, aligned, agree, spot=spot
                )
        return found, matrix


def read_grey(
    cv2: Any, ref: Ref, frames: FramePictures, unread: set[Ref], side: int = VERIFY_SIDE
) -> Any:
    """An item's grey picture with its shorter side `side` (the check's working size; the
    frames are decoded at the size `frames` was made for), or None where it cannot be read
    (then added to `unread`) or decoded."""
    decoded: Decoded | Skipped | None
    if isinstance(ref, tuple):  # a video frame
        decoded = frames.get(ref)
        if not isinstance(decoded, Decoded):  # a video that fails to seek may not later
            unread.add(ref)
    else:
        try:
            decoded = read_still(ref, DecodeSpec(min_side=side))
        except OSError:
            decoded = None
            unread.add(ref)
    if not isinstance(decoded, Decoded):
        return None
    return cv2.cvtColor(decoded.rgb, cv2.COLOR_RGB2GRAY)


RATIO = 0.8
"""Lowe's ratio test: a match counts when its distance is below this share of the runner-up's."""


def ratio_matches(des_a: Any, des_b: Any) -> tuple[Any, Any]:
    """For each of A's descriptors whose nearest B descriptor (Hamming) passes the ratio
    test: its index and that neighbour's, in A's order.

    The same matches as OpenCV's brute-force `knnMatch(k=2)` with the test, about 4x faster
    (faiss's 256-bit Hamming kernels). Ties cannot differ: a pair passes only when its
    nearest neighbour is strictly closer than the runner-up, so that neighbour is unique.
    """
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # 400 x 400 codes: threads cost more than they save
    try:
        distance, index = faiss.knn_hamming(des_a, des_b, 2)
    finally:
        faiss.omp_set_num_threads(threads)
    query = np.flatnonzero((index[:, 1] >= 0) & (distance[:, 0] < RATIO * distance[:, 1]))
    return query, index[query, 0]


def _check_chunk(
    verifier: Verifier, pairs: list[tuple[Ref, Ref]]
) -> list[Geometry | Unread | None]:
    verifier.frames.fetch(ref for pair in pairs for ref in pair)  # each video once a chunk
    return [_check_or_none(verifier, a, b) for a, b in pairs]


def _check_or_none(verifier: Verifier, a: Ref, b: Ref) -> Geometry | Unread | None:
    """The check of one pair; an assertion OpenCV fails on a picture it cannot take leaves
    that pair undecided instead of stopping the scan."""
    try:
        found = verifier.check(a, b)
    except verifier.cv2_error:
        return None
    return Unread() if found is None and {a, b} & verifier.unread else found


VERIFY: Stage[tuple[Ref, Ref], Verifier, Geometry | Unread | None] = Stage(
    "verify", Verifier, _check_chunk, chunk=64
)
"""The check as an engine stage: pairs of items (paths, or (video path, frame)) in, geometry
out; one verifier (and its keypoint cache) per worker."""


def check_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Geometry | None]:
    """The geometric check for each pair of items, in this process."""
    return [None if isinstance(g, Unread) else g for g in _check_chunk(Verifier(), pairs)]
