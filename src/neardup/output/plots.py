"""Plots as PNG files (matplotlib, Agg: no display needed): the pair scores of a scan with its
cut, and precision / recall against the threshold and the reliability curve of an evaluation.

Each plot has a data function (tested on its own: what is drawn is right) and a writer that
draws that data. Figures are `SIZE` inches at `DPI`, so every PNG is 800 x 450 pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.output.targets import writing

SIZE = (8.0, 4.5)
DPI = 100
BINS = 50

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of pair scores in equal bins over [0, 1], split at the cut."""

    edges: Floats
    above: npt.NDArray[np.int64]
    """Pairs at or above the cut, per bin (the reported ones)."""
    below: npt.NDArray[np.int64]
    """Pairs below the cut (kept with `--keep-below`), per bin."""


def score_histogram(
    scores: Sequence[float], cut_scores: Sequence[float], cut: float, bins: int = BINS
) -> Histogram:
    """Histogram of `scores`, each pair counted as above or below `cut` by its `cut_scores`
    value (the confidence, which presets cut on, whichever score is plotted)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    values = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    reported = np.asarray(cut_scores, dtype=np.float64) >= cut
    above, _ = np.histogram(values[reported], bins=edges)
    below, _ = np.histogram(values[~reported], bins=edges)
    return Histogram(edges, above.astype(np.int64), below.astype(np.int64))


def scan_scores(doc: Mapping[str, Any]) -> tuple[list[float], list[float], float, dict[str, float]]:
    """(confidences, similarities, cut, presets) of a scan's JSON (`neardup.scan/2`)."""
    schema = str(doc.get("schema", ""))
    if not schema.startswith("neardup.scan/"):
        raise ValueError(f"not a neardup scan result (schema {schema or 'missing'})")
    settings = doc.get("settings") or {}
    pairs = doc.get("pairs") or []
    confidence = [float(p["confidence"]) for p in pairs]
    similarity = [float(p["similarity"]) for p in pairs]
    presets = {str(k): float(v) for k, v in (settings.get("presets") or {}).items()}
    return confidence, similarity, float(settings.get("threshold", 0.0)), presets


def _figure(columns: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, columns, figsize=SIZE, dpi=DPI)
    return figure, axes


def _save(figure: Any, path: str | Path) -> Path:
    from matplotlib import pyplot as plt

    target = Path(path)
    try:
        with writing(target):  # a full disk or a folder gone: one line, not a traceback
            target.parent.mkdir(parents=True, exist_ok=True)
            figure.tight_layout()
            figure.savefig(target, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return target


def _bars(axis: Any, histogram: Histogram, label: str) -> None:
    left, width = histogram.edges[:-1], np.diff(histogram.edges)
    axis.bar(left, histogram.below, width, align="edge", color="#bbbbbb", label="below the cut")
    axis.bar(
        left,
        histogram.above,
        width,
        bottom=histogram.below,
        align="edge",
        color="#3b75af",
        label="reported",
    )
    axis.set_xlim(0, 1)
    axis.set_xlabel(label)
    axis.set_ylabel("pairs")
    if (histogram.above + histogram.below).max(initial=0) > 0:
        axis.set_yscale("log")
    else:  # no pair: matplotlib would centre the empty axis on 0, down to negative counts
        axis.set_ylim(0, 1)


def write_score_histogram(doc: Mapping[str, Any], path: str | Path) -> Path:
    """Confidence (the cut and the presets marked) and similarity of every pair in a scan."""
    confidence, similarity, cut, presets = scan_scores(doc)
    figure, (left, right) = _figure(2)
    _bars(left, score_histogram(confidence, confidence, cut), "confidence")
    for name, value in presets.items():
        left.axvline(value, color="#999999", linestyle=":", linewidth=1)
        left.text(
            value,
            1.0,
            f" {name}",
            transform=left.get_xaxis_transform(),
            fontsize=7,
            va="top",
            rotation=90,
            color="#666666",
        )
    left.axvline(cut, color="#c0392b", linewidth=1.5, label=f"cut {cut:g}")
    left.legend(fontsize=7, loc="upper left")
    _bars(right, score_histogram(similarity, confidence, cut), "similarity")
    right.set_title(f"{len(confidence)} pairs", fontsize=9)
    return _save(figure, path)


@dataclass(frozen=True, slots=True)
class Curve:
    """Precision and recall at each threshold (NaN where undefined)."""

    thresholds: Floats
    precision: Floats
    recall: Floats


def precision_recall(sweep: Sequence[tuple[float, float, float, float]]) -> Curve:
    """The curve from `neardup.eval`'s sweep rows (threshold, precision, recall, f1)."""
    rows = np.asarray([row[:3] for row in sweep], dtype=np.float64).reshape(-1, 3)
    order = np.argsort(rows[:, 0], kind="stable")
    rows = rows[order]
    return Curve(rows[:, 0], rows[:, 1], rows[:, 2])


def write_precision_recall(
    sweep: Sequence[tuple[float, float, float, float]],
    cut: float,
    path: str | Path,
    presets: Mapping[str, float] | None = None,
) -> Path:
    """Precision and recall against the confidence threshold, the cut marked."""
    curve = precision_recall(sweep)
    figure, axis = _figure()
    axis.plot(curve.thresholds, curve.precision, color="#3b75af", label="precision")
    axis.plot(curve.thresholds, curve.recall, color="#e67e22", label="recall")
    for name, value in (presets or {}).items():
        axis.axvline(value, color="#999999", linestyle=":", linewidth=1)
        axis.text(value, 0.02, f" {name}", fontsize=7, rotation=90, color="#666666")
    axis.axvline(cut, color="#c0392b", linewidth=1.5, label=f"cut {cut:g}")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("confidence threshold")
    axis.legend(fontsize=8, loc="lower left")
    return _save(figure, path)


@dataclass(frozen=True, slots=True)
class Reliability:
    """Per confidence bin: mean confidence, share of true duplicates (with its 95 % interval
    where the rows give one, else the share itself), pairs."""

    confidence: Floats
    duplicates: Floats
    pairs: npt.NDArray[np.int64]
    low: Floats
    high: Floats


ReliabilityRow = tuple[Any, ...]
"""(low, high, pairs, mean confidence, duplicates[, (interval low, interval high)]), as
`neardup.eval.reliability` gives them."""


def reliability_curve(bins: Sequence[ReliabilityRow]) -> Reliability:
    """From `neardup.eval.reliability` rows; empty bins dropped."""
    rows = [b for b in bins if b[2] > 0]
    likely = [b[5] if len(b) > 5 else (b[4], b[4]) for b in rows]
    return Reliability(
        np.array([r[3] for r in rows], dtype=np.float64),
        np.array([r[4] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([v[0] for v in likely], dtype=np.float64),
        np.array([v[1] for v in likely], dtype=np.float64),
    )


def write_reliability(bins: Sequence[ReliabilityRow], path: str | Path) -> Path:
    """Share of true duplicates against mean confidence per bin; calibrated = the diagonal."""
    curve = reliability_curve(bins)
    figure, axis = _figure()
    axis.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="calibrated")
    axis.plot(curve.confidence, curve.duplicates, color="#3b75af", marker="o", label="measured")
    axis.vlines(curve.confidence, curve.low, curve.high, color="#3b75af", alpha=0.4, linewidth=2)
    for x, y, n in zip(curve.confidence, curve.duplicates, curve.pairs, strict=True):
        axis.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("mean confidence in the bin")
    axis.set_ylabel("share that are duplicates")
    axis.legend(fontsize=8, loc="upper left")
    return _save(figure, path)
