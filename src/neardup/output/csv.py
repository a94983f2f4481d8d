"""Pairs as CSV: one row per pair, similarity, confidence, evidence, then each method's score,
then what differs (one line of text, empty where not measured); when the scan holds video
frames, then each side's frame index and time (seconds)."""

from __future__ import annotations

import csv
import io

from neardup.output.differences import summary
from neardup.records import ScanResult
from neardup.scoring import ALL_METHODS


def dumps(result: ScanResult) -> str:
    methods = [m for m in ALL_METHODS if any(m in p.scores for p in result.pairs)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    frames = any(image.frame is not None for image in result.images)
    extra = ["a_frame", "a_time", "b_frame", "b_time"] if frames else []
    writer.writerow(
        ["a", "b", "similarity", "confidence", "evidence", *methods, "differences", *extra]
    )
    for pair in result.pairs:
        a, b = result.images[pair.a], result.images[pair.b]
        where = [_or_empty(a.frame), _or_empty(a.time), _or_empty(b.frame), _or_empty(b.time)]
        writer.writerow(
            [
                result.path(pair.a),
                result.path(pair.b),
                f"{pair.similarity:.4f}",
                f"{pair.confidence:.4f}",
                pair.evidence,
                *(f"{pair.scores[m]:.4f}" if m in pair.scores else "" for m in methods),
                "" if pair.differences is None else summary(pair.differences),
                *(where if frames else []),
            ]
        )
    return out.getvalue()


def _or_empty(value: float | None) -> str:
    return "" if value is None else str(value)
