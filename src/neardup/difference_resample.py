"""Resampling for `neardup.difference_measures`: area reductions that a worker remembers by
picture and size, and picture a warped onto b's frame at the colour fit's compare size."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Reduce = Callable[[Array, tuple[int, int]], Array]
"""An area reduction (`cv2.resize`, INTER_AREA) of a picture to a size (w, h)."""


def area_reduce(cv2: Any) -> Reduce:
    """The plain area reduction."""

    def reduce(image: Array, size: tuple[int, int]) -> Array:
        return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))

    return reduce


class Reductions:
    """Area reductions of the pictures a worker compares, remembered by source array and
    size: a picture in several pairs is often reduced to the same size for each (its pairs
    with copies of its own working size), and the reduction is among the measures' dearest
    steps. Results are shared: callers must not write to them."""

    def __init__(self, cv2: Any, size: int = 64) -> None:
        self._reduce = area_reduce(cv2)
        self._done: OrderedDict[tuple[int, tuple[int, int]], tuple[Array, Array]] = OrderedDict()
        self._size = size

    def __call__(self, image: Array, size: tuple[int, int]) -> Array:
        # Keyed by identity: the entry holds the source, so no other array can take its id
        # while the entry lives (a mirrored view is a new array each time, so never found).
        key = (id(image), size)
        found = self._done.get(key)
        if found is not None and found[0] is image:
            self._done.move_to_end(key)
            return found[1]
        reduced = self._reduce(image, size)
        self._done[key] = (image, reduced)
        if len(self._done) > self._size:
            self._done.popitem(last=False)
        return reduced


def pixel_scale(sx: float, sy: float) -> Array:
    """The 3 x 3 map of pixel coordinates (centres at whole numbers) through a resize by (sx,
    sy), as `cv2.resize` places them."""
    return np.array([[sx, 0.0, (sx - 1) / 2], [0.0, sy, (sy - 1) / 2], [0.0, 0.0, 1.0]])


def warp_small(
    cv2: Any,
    matrix: Array,
    rgb_a: Array,
    frame: tuple[int, int],
    size: tuple[int, int],
    reduce: Reduce,
) -> tuple[Array, Array]:
    """a warped onto b's frame (w, h) as it looks at `size`, in 0-1, and its cover (0-255).

    a is first area-reduced to about that scale, then warped at the small size: nearly the
    picture that warping at the working size and reducing after gave, for a sixteenth of the
    pixels warped. Bicubic, since a bilinear warp at the small size blurs by up to half a
    small pixel (the calibration pairs: fewer changed verdicts than bilinear). The cover
    counts a pixel whose sample lies (almost) wholly on a; the erosion in
    `difference_measures.colour_fit` then keeps the seam out, as before."""
    to_small = pixel_scale(size[0] / frame[0], size[1] / frame[1])
    shrink = float(np.hypot(matrix[0, 0], matrix[1, 0])) * size[0] / frame[0]
    from_a = np.eye(3)
    if shrink < 1:
        ha, wa = rgb_a.shape[:2]
        reduced = (max(1, round(wa * shrink)), max(1, round(ha * shrink)))
        rgb_a = reduce(rgb_a, reduced)
        from_a = np.linalg.inv(pixel_scale(reduced[0] / wa, reduced[1] / ha))
    small = (to_small @ np.vstack([matrix, [0.0, 0.0, 1.0]]) @ from_a)[:2]
    warped = cv2.warpAffine(rgb_a, small, size, flags=cv2.INTER_CUBIC)
    ones = np.full(rgb_a.shape[:2], 255, np.uint8)
    cover = cv2.warpAffine(ones, small, size, flags=cv2.INTER_LINEAR)
    return warped.astype(np.float64) / 255, np.asarray(cover)
