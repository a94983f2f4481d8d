"""Where scan runs the geometric check: the band of confidence where it pays, and the pairs
their hashes settle (fitted with the fusion by `fit_fusion.py`, on the calibration halves)."""

from __future__ import annotations

import numpy as np
from fusion_pairs import fusion

CHECK_PAYS = 50
"""The check runs only where it corrects, net of the verdicts it spoils, at least one verdict
per this many pairs checked."""


SETTLED_QUALITY = 50.0
"""PDQ quality from which a hash settles a pair: the floor Meta's PDQ recommends for matching."""
SETTLED_THUMB = 0.9
"""Thumbnail correlation a settled pair also needs (a witness against PDQ collisions)."""


def settled_rule(data: dict[str, np.ndarray]) -> dict[str, float]:
    """Hashes that settle a pair (`neardup.fusion.Settled`): PDQ at most half the Hamming
    distance of the closest non-duplicate calibration pair of quality >= `SETTLED_QUALITY`."""
    pdq = np.nan_to_num(data["raw:pdq"], nan=0.0)
    negatives = ~data["label"] & (data["quality"] >= SETTLED_QUALITY)
    closest = round((1.0 - float(pdq[negatives].max())) * 256 / 2)  # bits (similarity 1 - 2d/256)
    return {
        "pdq": round(1.0 - 2.0 * (closest // 2) / 256, 6),
        "quality": SETTLED_QUALITY,
        "thumb": SETTLED_THUMB,
    }


def settles(rule: dict[str, float], data: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs whose hashes settle them under `rule` (not yet the cut: see `band_for`)."""
    return fusion.Settled(**rule).holds(data["raw:pdq"], data["raw:thumb"], data["quality"])


def band_for(
    without: np.ndarray,
    withgeo: np.ndarray,
    truth: np.ndarray,
    cut: float,
    settled: np.ndarray | None = None,
) -> tuple[float, float]:
    """The confidence range (before the check) where checking pays at `cut`: from the start
    of the run of pairs, in order of confidence, with the largest (fixed - spoiled - checks /
    CHECK_PAYS) (Kadane's maximum-sum run), up to 1. Pairs `settled` and above the cut are
    never checked, so they count nothing."""
    order = np.argsort(without, kind="stable")
    before = without[order] >= cut
    after = withgeo[order] >= cut
    label = truth[order]
    gain = (after == label).astype(float) - (before == label).astype(float) - 1.0 / CHECK_PAYS
    if settled is not None:
        gain[settled[order] & before] = 0.0
    best, best_span, run, start = 0.0, (1.0, 0.0), 0.0, 0
    for i, value in enumerate(gain):
        if run <= 0.0:
            run, start = 0.0, i
        run += value
        if run > best:
            best, best_span = run, (start, i)
    if best <= 0.0:
        return 1.0, 0.0
    # Upwards the band stays open: pairs the embedding is sure of include the look-alikes
    # (pages of one template, neighbouring tiles) that only the check tells apart, and how
    # many there are differs more between collections than the calibration halves show.
    # Measured (2026-12-02, out of fold): ending it where the run ends (0.875 at the default
    # cut) would save 12 % of the checks but let 31 more false pairs through (0.9948 -> 0.9904).
    low = without[order][int(best_span[0])]
    return float(np.floor(low * 1e4) / 1e4), 1.0


def checked(
    without: np.ndarray,
    withgeo: np.ndarray,
    truth: np.ndarray,
    cut: float,
    settled: np.ndarray | None = None,
) -> np.ndarray:
    """Confidence as scan gives it at `cut`: with the check inside that cut's band, except
    on pairs above the cut that their hashes settle."""
    low, high = band_for(without, withgeo, truth, cut, settled)
    run = (without >= low) & (without <= high)
    if settled is not None:
        run &= ~(settled & (without >= cut))
    return np.where(run, withgeo, without)
