"""The geometric check of a picture against the screenshot that frames it, read in the inset.

A pair the inset view sends to the check with the picture first
(`neardup.checked_scores.picture_first`) is checked as any pair: the picture's keypoints
matched into the whole screenshot at `VERIFY_SIDE`. There the picture may be a tenth of the
frame, a hundred pixels across: too few keypoints to find it, and its aligned pixels compared
at a dozen. So it is checked again inside the inset: the screenshot decoded larger
(`FRAMED_SIDE`), the inset found again at the features' scale (the box the embedding saw), cut
out at up to `VERIFY_SIDE` on its shorter side, and the picture matched into it. The finding
with more inliers is kept, its shared fractions told of the whole frames, so it reads as any
other check's.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from neardup.decode import Decoded, DecodeSpec, decode
from neardup.engines.base import Stage
from neardup.features.embed import EMBED_SIDE
from neardup.features.inset import find_inset
from neardup.item_pixels import FramePictures, Ref
from neardup.sources.remote import read_bytes
from neardup.verify import MIN_KEYPOINTS, VERIFY_SIDE, Geometry, Unread, Verifier, decided

FRAMED_SIDE = 1024
"""Shorter side at which a framing screenshot is decoded: an inset a quarter of its side
across still has `VERIFY_SIDE` pixels."""
INSETS_KEPT = 64
"""Framing screenshots whose cut inset a worker keeps (few pairs are framed)."""

Keys = tuple[Any, Any, tuple[int, int], Any]
"""Keypoints, descriptors, (width, height) and grey pixels, as `Verifier` keeps them."""


class FramedVerifier(Verifier):
    """A `Verifier` that also reads a framing screenshot's inset."""

    def __init__(self, cache_size: int = 1024) -> None:
        super().__init__(cache_size)
        self._insets: OrderedDict[Ref, tuple[Keys, Any, tuple[int, int]] | None] = OrderedDict()
        self._large_frames = FramePictures(DecodeSpec(min_side=FRAMED_SIDE), size=16)

    def check_framed(self, picture: Ref, screenshot: Ref) -> Geometry | None:
        """The geometry `picture` shares with `screenshot`, matched into the whole frame or
        into its inset, whichever finds more inliers; None when neither can tell."""
        whole = self.check(picture, screenshot)
        ka = self._keypoints(picture)
        inset = self._inset(screenshot)
        if ka is None or inset is None or min(len(ka[0]), len(inset[0][0])) < MIN_KEYPOINTS:
            return whole
        keys, to_frame, frame_size = inset
        matches, matrix, inliers = self._fit(ka, keys)
        if matrix is None or (whole is not None and inliers <= whole.inliers):
            return whole
        # The transform into the inset's pixels, then from those into the whole frame's.
        in_frame = (to_frame @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
        overlap_a, overlap_b = self._overlap(in_frame, ka[2], frame_size)
        aligned, agree = self._compared(matrix, inliers, ka, keys)
        return Geometry(matches, inliers, overlap_a, overlap_b, aligned, agree)

    def _inset(self, ref: Ref) -> tuple[Keys, Any, tuple[int, int]] | None:
        """The inset's keypoints, the matrix taking its pixels to the frame's, the frame's
        size; None where the screenshot cannot be read or holds no inset."""
        if ref in self._insets:
            self._insets.move_to_end(ref)
            return self._insets[ref]
        rgb = self._large(ref)
        found = None if rgb is None else self._cut(rgb)
        self._insets[ref] = found
        if len(self._insets) > INSETS_KEPT:
            self._insets.popitem(last=False)
        return found

    def _large(self, ref: Ref) -> Any:
        decoded: object
        if isinstance(ref, tuple):  # a video frame
            decoded = self._large_frames.get(ref)
        else:
            try:
                spec = DecodeSpec(min_side=FRAMED_SIDE)
                decoded = decode(read_bytes(ref), ref, spec, hash_pixels=False)
            except OSError:
                return None
        return decoded.rgb if isinstance(decoded, Decoded) else None

    def _cut(self, rgb: Any) -> tuple[Keys, Any, tuple[int, int]] | None:
        cv2 = self._cv2
        height, width = rgb.shape[:2]
        k = min(1.0, EMBED_SIDE / min(height, width))  # the features' scale
        small = rgb
        if k < 1.0:
            size = (max(1, round(width * k)), max(1, round(height * k)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        box = find_inset(small)
        if box is None:
            return None
        left, top, right, bottom = (round(v / k) for v in box)
        grey = cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right]), cv2.COLOR_RGB2GRAY)
        s = min(1.0, VERIFY_SIDE / min(grey.shape[:2]))
        if s < 1.0:
            size = (max(1, round(grey.shape[1] * s)), max(1, round(grey.shape[0] * s)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        described = self._describe(grey)
        if described is None:
            return None
        to_frame = np.array([[1 / s, 0.0, left], [0.0, 1 / s, top], [0.0, 0.0, 1.0]])
        return (*described, grey), to_frame, (width, height)


def _check_chunk(
    verifier: FramedVerifier, pairs: list[tuple[Ref, Ref]]
) -> list[Geometry | Unread | None]:
    verifier.frames.fetch(ref for pair in pairs for ref in pair)  # each video once a chunk
    return [decided(verifier, verifier.check_framed, a, b) for a, b in pairs]


VERIFY_FRAMED: Stage[tuple[Ref, Ref], FramedVerifier, Geometry | Unread | None] = Stage(
    "verify-framed", FramedVerifier, _check_chunk, chunk=16
)
"""The check of (picture, the screenshot framing it) pairs as an engine stage."""


def check_framed_pairs(pairs: list[tuple[Ref, Ref]]) -> list[Geometry | None]:
    """The framed check for each (picture, screenshot) pair, in this process."""
    return [None if isinstance(g, Unread) else g for g in _check_chunk(FramedVerifier(), pairs)]
