"""Where picture a lands on picture b for `neardup.differences`: ORB keypoints and a RANSAC
similarity transform (also against b mirrored); where keypoints are too few (a sky, a
gradient), one picture found turned on a flat canvas (`neardup.straighten`) gives the
transform, else their grey levels aligned (`neardup.dense_alignment`, refined by ECC) where
their edges agree; else the best dihedral view of whole frames."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from neardup.checked_scores import DENSE_GATE
from neardup.dense_alignment import align, edges_agree
from neardup.difference_measures import dihedral_view, frame_matrix, full_frame_matrix
from neardup.difference_pictures import Picture
from neardup.straighten import straighten
from neardup.stretch import STRETCH_BAND, in_band, stretch_fit, stretch_of
from neardup.verify import MIN_SIDE, ratio_matches

MIN_INLIERS = 12
Matrix = npt.NDArray[np.float64]
"""A 2 x 3 similarity transform."""
Grey = npt.NDArray[np.uint8]
WHOLE_FRAME_GAIN = 0.05
WHOLE_FRAME_SHARE = 0.5
"""Whole frame onto whole frame must beat the area-ratio mapping's correlation by
`WHOLE_FRAME_GAIN`, or leave at most this share of its disagreement (1 - correlation): on a
smooth picture both correlate above 0.98."""
STRONG_INLIERS = 40
"""A plain match with this many inliers is not checked against the mirrored picture."""


class Aligner:
    """Aligns pictures with its ORB detectors (one per `Differ`; each picture keeps its own
    keypoints)."""

    def __init__(self, cv2: Any) -> None:
        self._cv2 = cv2
        self._orbs = [cv2.ORB_create(nfeatures=600, fastThreshold=t) for t in (10, 3)]

    def align(self, a: Picture, b: Picture) -> tuple[Any, bool, str | None]:
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
                return least_turn(self._cv2, flipped, a.grey, b.grey[:, ::-1]), True, "keypoints"
            if plain_n >= MIN_INLIERS:
                return least_turn(self._cv2, plain, a.grey, b.grey), False, "keypoints"
        canvas = turned_canvas(a, b)
        if canvas is not None:
            return canvas[0], canvas[1], "canvas"
        dense = self._dense(a.grey, b.grey)
        view = dihedral_view(a.grey, b.grey)
        if view is None:
            return (None, False, None) if dense is None else (dense[0], dense[1], "dense")
        turns, mirror = view
        target = b.grey[:, ::-1] if mirror else b.grey
        frames = self._whole_frames(a.grey, target, turns)
        if dense is not None and _clearly_better(self._cv2, dense, (frames, mirror), a, b):
            return dense[0], dense[1], "dense"
        return frames, mirror, "frame"

    def _dense(self, grey_a: Grey, grey_b: Grey) -> tuple[Matrix, bool] | None:
        """(transform from a's working frame to b's or b mirrored's, mirrored) by aligning
        grey levels (`neardup.dense_alignment`), where the aligned pictures' edges agree as the
        check requires (`checked_scores.DENSE_GATE`): two ramps line up under many crops, and
        a crop or turn read from them would be made up. The coarse estimate (a scale within
        about 4 %) is refined by OpenCV's ECC on the grey levels where that converges."""
        found = align(self._cv2, grey_a, grey_b)
        if found is None or edges_agree(self._cv2, found, grey_a) < DENSE_GATE[3]:
            return None
        matrix = np.asarray(found.to_picture(grey_b), dtype=np.float64)
        target = grey_b[:, ::-1] if found.mirror else grey_b
        return _refined(self._cv2, matrix, grey_a, target), found.mirror

    def _whole_frames(self, grey_a: Grey, grey_b: Grey, turns: int) -> Matrix:
        """a's frame on b's at the area ratio, or, where the proportions differ, a's whole
        frame stretched onto b's whole frame if the pixels agree clearly better so (a copy
        resized to a square); a crop to other proportions keeps the area ratio."""
        same = frame_matrix(grey_a.shape, grey_b.shape, turns)
        full = full_frame_matrix(grey_a.shape, grey_b.shape, turns)
        if in_band(stretch_of(full)[0], STRETCH_BAND):
            return np.asarray(same, dtype=np.float64)
        agree_same = _agreement(self._cv2, same, grey_a, grey_b)
        agree_full = _agreement(self._cv2, full, grey_a, grey_b)
        better = agree_full >= agree_same + WHOLE_FRAME_GAIN or (
            1.0 - agree_full <= WHOLE_FRAME_SHARE * (1.0 - agree_same)
        )
        return np.asarray(full if better else same, np.float64)

    def _keypoints(self, picture: Picture, mirror: bool) -> tuple[Any, Any] | None:
        if mirror not in picture.keypoints:
            grey = picture.grey[:, ::-1].copy() if mirror else picture.grey
            found = None
            descriptors = None
            for orb in self._orbs if min(grey.shape[:2]) >= MIN_SIDE else ():
                points, descriptors = orb.detectAndCompute(grey, None)
                if descriptors is not None and len(points) >= 150:
                    break
            if descriptors is not None and len(points) >= MIN_INLIERS:
                found = (self._cv2.KeyPoint_convert(points), descriptors)  # N x 2 float32
            picture.keypoints[mirror] = found
        return picture.keypoints[mirror]

    def _transform(self, a: Picture, b: Picture, mirror: bool) -> tuple[Any, int]:
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
        fit: dict[str, Any] = {
            "method": self._cv2.RANSAC,
            "ransacReprojThreshold": max(2.0, 0.006 * float(np.hypot(*b.grey.shape))),
            "maxIters": 4000,
            "confidence": 0.998,
            "refineIters": 20,
        }
        matrix, mask = self._cv2.estimateAffinePartial2D(src, dst, **fit)
        if matrix is None or mask is None:
            return None, 0
        if not 0.1 < math.hypot(matrix[0, 0], matrix[1, 0]) < 10:  # a degenerate fit
            return None, 0
        inliers = int(mask.sum())
        return stretch_fit(self._cv2, src, dst, fit, inliers) or (matrix, inliers)


SAME_AGREEMENT = 0.03
"""How much less the pixels may correlate under a smaller turn that is still taken."""


def least_turn(cv2: Any, matrix: Any, grey_a: Grey, grey_b: Grey) -> Any:
    """`matrix`, or it followed by a half turn about b's centre (a quarter turn too, on a
    square frame) where that turns a less and the pixels agree as well (`SAME_AGREEMENT`).

    On a picture that a half turn leaves alike (a tiling, a symmetric emblem), keypoints match
    either way round and RANSAC may settle on the larger turn: a copy turned 15 degrees read
    as turned 165 degrees the other way. The smaller turn is the edit a person made."""
    m = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    if abs(_degrees(m)) <= 45:
        return matrix
    h, w = grey_b.shape[:2]
    quarter = abs(w - h) <= 0.02 * max(w, h)
    cx, cy = (w - 1) / 2, (h - 1) / 2  # pixel centres, as OpenCV and ORB place them
    agreement = _agreement(cv2, m, grey_a, grey_b)
    best, best_turn = matrix, abs(_degrees(m))
    for turn in (90, 180, 270) if quarter else (180,):
        t = math.radians(turn)
        c, s = math.cos(t), math.sin(t)
        about = np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy]])
        other = np.vstack([about, [0.0, 0.0, 1.0]]) @ m
        if abs(_degrees(other)) < best_turn and (
            _agreement(cv2, other, grey_a, grey_b) >= agreement - SAME_AGREEMENT
        ):
            best, best_turn = other[:2], abs(_degrees(other))
    return best


def _nearest_similarity(linear: Matrix) -> Matrix:
    """The rotation-and-scale closest to a 2 x 2 linear map (its mean of the two diagonal and
    off-diagonal terms), so ECC's affine freedom does not read as a stretch."""
    c = (linear[0, 0] + linear[1, 1]) / 2
    s = (linear[1, 0] - linear[0, 1]) / 2
    return np.array([[c, -s], [s, c]])


ECC_SIDE = 128
"""Longer side at which a dense alignment is refined (smooth pictures lose nothing there)."""


def _refined(cv2: Any, matrix: Matrix, grey_a: Grey, grey_b: Grey) -> Matrix:
    """`matrix` (a's working pixels to b's) refined by ECC on both pictures reduced to
    `ECC_SIDE`, a similarity fitted to it; `matrix` itself where ECC fails or moves it far."""
    fa = ECC_SIDE / max(grey_a.shape[:2])
    fb = ECC_SIDE / max(grey_b.shape[:2])
    small_a = cv2.resize(grey_a, None, fx=fa, fy=fa, interpolation=cv2.INTER_AREA)
    small_b = cv2.resize(grey_b, None, fx=fb, fy=fb, interpolation=cv2.INTER_AREA)
    # ECC warps the template's frame onto the input's: b's pixels to a's, at the small sizes.
    forward = np.vstack([matrix, [0.0, 0.0, 1.0]])
    to_small = np.diag([fb, fb, 1.0]) @ forward @ np.diag([1 / fa, 1 / fa, 1.0])
    start = np.linalg.inv(to_small)[:2].astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        _, warp = cv2.findTransformECC(
            small_b.astype(np.float32),
            small_a.astype(np.float32),
            start,
            cv2.MOTION_AFFINE,
            criteria,
            None,
            3,
        )
    except cv2.error:  # did not converge
        return matrix
    small = np.linalg.inv(np.vstack([warp.astype(np.float64), [0.0, 0.0, 1.0]]))
    refined = np.diag([1 / fb, 1 / fb, 1.0]) @ small @ np.diag([fa, fa, 1.0])
    refined[:2, :2] = _nearest_similarity(refined[:2, :2])  # the search's model: no stretch
    corners = np.array([[0, 0, 1], [grey_a.shape[1], grey_a.shape[0], 1]], dtype=np.float64)
    moved = np.abs(corners @ refined[:2].T - corners @ matrix.T).max()
    if moved > 0.1 * max(grey_b.shape[:2]):  # ECC wandered off: keep the search's estimate
        return matrix
    return np.asarray(refined[:2], dtype=np.float64)


def _clearly_better(
    cv2: Any, dense: tuple[Matrix, bool], frames: tuple[Matrix, bool], a: Picture, b: Picture
) -> bool:
    """Whether the dense alignment's pixels agree clearly better than the whole frames' (at
    most half their disagreement, as `Aligner._whole_frames` decides): an uncropped copy of
    a smooth picture is its whole frame, and the search's coarse estimate would only add a
    small crop or turn that is not there."""

    def disagreement(aligned: tuple[Matrix, bool]) -> float:
        matrix, mirror = aligned
        target = b.grey[:, ::-1] if mirror else b.grey
        m = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
        return 1.0 - _agreement(cv2, m, a.grey, target)

    return disagreement(dense) <= WHOLE_FRAME_SHARE * disagreement(frames)


def _degrees(m: npt.NDArray[np.float64]) -> float:
    return math.degrees(math.atan2(m[1, 0], m[0, 0]))


def _agreement(cv2: Any, m: npt.NDArray[np.float64], grey_a: Grey, grey_b: Grey) -> float:
    """Correlation of a's grey levels warped by `m` with b's, over the pixels a covers."""
    h, w = grey_b.shape[:2]
    warped = cv2.warpAffine(np.ascontiguousarray(grey_a), m[:2], (w, h), flags=cv2.INTER_AREA)
    cover = cv2.warpAffine(np.full(grey_a.shape[:2], 255, np.uint8), m[:2], (w, h)) >= 250
    if cover.sum() < 64:
        return -1.0
    x = warped[cover].astype(np.float64)
    y = np.asarray(grey_b)[cover].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    norm = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float((x * y).sum()) / norm if norm > 1e-6 else -1.0


def turned_canvas(a: Picture, b: Picture) -> tuple[Matrix, bool] | None:
    """(transform from a's working frame to b's or b mirrored's, mirrored) where one picture
    is the other turned on a flat canvas and the other is not; None otherwise. The turned
    picture, turned back, must have the other's shape (within 5 %) and look like it or its
    mirror image (`MATCH`): a turned canvas alone says nothing about the other picture."""
    turn_a, turn_b = straighten(a.rgb), straighten(b.rgb)
    if turn_a is not None and turn_b is None:
        plain, turned, turn = b, a, turn_a
    elif turn_b is not None and turn_a is None:
        plain, turned, turn = a, b, turn_b
    else:
        return None
    ph, pw = plain.grey.shape[:2]
    back = turn.picture if turn.expanded else None
    frame = back.size if back is not None else (turned.grey.shape[1], turned.grey.shape[0])
    if abs(math.log((frame[0] / frame[1]) / (pw / ph))) > 0.05:
        return None
    mirrored = _view(turn.picture, plain.grey)
    if mirrored is None:
        return None
    degrees = turn.degrees
    if mirrored and turned is b:  # b mirrored is a canvas turned the other way
        degrees = -degrees
    scale = math.sqrt((frame[0] * frame[1]) / (pw * ph))
    t = math.radians(degrees)
    # Counter-clockwise on screen, with y pointing down, about the two centres.
    rotate = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]) * scale
    shift = np.array(turn.centre) - rotate @ np.array([pw / 2, ph / 2])
    forward: Matrix = np.hstack([rotate, shift[:, None]])
    if plain is a:
        return forward, mirrored
    inverse: Matrix = np.linalg.inv(np.vstack([forward, [0.0, 0.0, 1.0]]))[:2]
    return inverse, mirrored


MATCH = 0.9
"""Correlation of 32 x 32 grey thumbnails (zero mean, unit norm) a picture turned back must
reach with the other picture, as is or mirrored. Copies with a colour change stay above it;
two skies or gradients of the same kind may too, but only a reported pair or `compare` is
described, and the transform is then the turn the canvas shows."""


def _view(picture: Image.Image, grey: npt.NDArray[np.uint8]) -> bool | None:
    """Whether `picture` matches `grey` mirrored (True), as is (False), or neither (None)."""

    def small(image: Image.Image) -> npt.NDArray[np.float64]:
        out = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.BOX), np.float64)
        out -= out.mean()
        return out / max(float(np.sqrt((out * out).sum())), 1e-6)

    mine = small(picture)
    other = Image.fromarray(np.ascontiguousarray(grey))
    plain = float((mine * small(other)).sum())
    mirror = float((mine * small(other.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).sum())
    if max(plain, mirror) < MATCH:
        return None
    return mirror > plain + 0.05
