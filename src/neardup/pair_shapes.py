"""The shapes of two pictures: each one's aspect inside its borders, and whether a pair's are
swapped (one portrait, one landscape), as a copy turned a quarter's are (`neardup.turned_views`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neardup.records import Features

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SWAPPED = 0.15
"""|log aspect| each picture of a pair reaches, one portrait and one landscape, for its
shapes to read as swapped (a quarter turn): nearly square pictures (8:7 or squarer) are read
as they are, their shapes telling a turn from a crop no better than chance. Set, not fitted
(no other value was tried)."""


def aspect_ratio(image: Features) -> float:
    """Width / height of the picture inside any trimmed border."""
    left, top, right, bottom = image.trimmed or (0, 0, 0, 0)
    width = max(1, image.width - left - right)
    height = max(1, image.height - top - bottom)
    return width / height


def swapped(log_a: FloatArray, log_b: FloatArray) -> BoolArray:
    """Pairs whose shapes are swapped: one picture portrait and one landscape, each by
    `SWAPPED` or more (logs of width / height)."""
    return (np.minimum(np.abs(log_a), np.abs(log_b)) >= SWAPPED) & (log_a * log_b < 0)
