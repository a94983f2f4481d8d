"""Where picture a lands on picture b for `neardup.differences`: ORB keypoints and a RANSAC
similarity transform (also against b mirrored); where keypoints are too few (a sky, a
gradient), one picture found turned on a flat canvas (`neardup.straighten`) gives the
transform; else the best dihedral view of whole frames."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neardup.difference_measures import dihedral_view, frame_matrix
from neardup.difference_pictures import Picture
from neardup.straighten import straighten
from neardup.verify import MIN_SIDE, ratio_matches

MIN_INLIERS = 12
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
                return flipped, True, "keypoints"
            if plain_n >= MIN_INLIERS:
                return plain, False, "keypoints"
        canvas = turned_canvas(a, b)
        if canvas is not None:
            return canvas, False, "canvas"
        view = dihedral_view(a.grey, b.grey)
        if view is None:
            return None, False, None
        turns, mirror = view
        return frame_matrix(a.grey.shape, b.grey.shape, turns), mirror, "frame"

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


def turned_canvas(a: Picture, b: Picture) -> Any:
    """The similarity transform from a's working frame to b's where one of them is the other
    turned on a flat canvas (the other not), or None. The turned picture's own frame, turned
    back, is scaled onto the other's whole frame about the centres."""
    turn_a, turn_b = straighten(a.rgb), straighten(b.rgb)
    if (turn_a is None) == (turn_b is None):
        return None
    plain, turned, turn = (a, b, turn_b) if turn_b is not None else (b, a, turn_a)
    assert turn is not None
    ph, pw = plain.grey.shape[:2]
    th, tw = turned.grey.shape[:2]
    scale = math.sqrt((turn.picture.width * turn.picture.height) / (pw * ph))
    if not turn.expanded:  # turned within its old frame: that frame is the canvas
        scale = math.sqrt((tw * th) / (pw * ph))
    t = math.radians(turn.degrees)
    # Counter-clockwise on screen, with y pointing down.
    rotate = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]) * scale
    centre_plain = np.array([pw / 2, ph / 2])
    centre_turned = np.array([tw / 2, th / 2])
    forward = np.hstack([rotate, (centre_turned - rotate @ centre_plain)[:, None]])
    if plain is a:
        return forward
    back = np.linalg.inv(np.vstack([forward, [0.0, 0.0, 1.0]]))
    return back[:2]
