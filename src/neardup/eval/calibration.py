"""The reliability table: found pairs' confidence in equal bins, each bin's mean confidence
against the share of its pairs that are true duplicates (calibrated confidence has the two
close in every bin)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Bin(NamedTuple):
    """One row of a reliability table."""

    low: float
    high: float
    pairs: int
    confidence: float  # mean confidence of the bin's pairs
    duplicates: float  # share of them that are true duplicates
    likely: tuple[float, float] = (0.0, 1.0)
    """95 % Wilson interval of that share: a bin of 15 pairs cannot show a gap of 0.05, and
    this says which gaps the pairs do show."""


def reliability(
    confidence: Sequence[float], duplicate: Sequence[bool], bins: int = 10
) -> list[Bin]:
    """Mean confidence against the share of true duplicates, in `bins` equal bins."""
    values = np.asarray(confidence, dtype=np.float64)
    truth = np.asarray(duplicate, dtype=bool)
    out: list[Bin] = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    for n in range(bins):
        low, high = float(edges[n]), float(edges[n + 1])
        rows = (values >= low) & ((values < high) if n < bins - 1 else (values <= high))
        if rows.any():
            mean, count = float(values[rows].mean()), int(rows.sum())
            share = float(truth[rows].mean())
            out.append(Bin(low, high, count, mean, share, wilson(share, count)))
    return out


def wilson(share: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share observed in `count` trials (95 % at z = 1.96)."""
    if count == 0:
        return 0.0, 1.0
    centre = share + z * z / (2 * count)
    spread = z * float(np.sqrt(share * (1 - share) / count + z * z / (4 * count * count)))
    scale = 1 + z * z / count
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)
