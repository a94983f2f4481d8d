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
            mean = float(values[rows].mean())
            out.append(Bin(low, high, int(rows.sum()), mean, float(truth[rows].mean())))
    return out
