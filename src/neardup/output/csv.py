"""Pairs as CSV: one row per pair, similarity, confidence, evidence, then each method's score,
then what differs (one line of text, empty where not measured)."""

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
    writer.writerow(["a", "b", "similarity", "confidence", "evidence", *methods, "differences"])
    for pair in result.pairs:
        writer.writerow(
            [
                result.path(pair.a),
                result.path(pair.b),
                f"{pair.similarity:.4f}",
                f"{pair.confidence:.4f}",
                pair.evidence,
                *(f"{pair.scores[m]:.4f}" if m in pair.scores else "" for m in methods),
                "" if pair.differences is None else summary(pair.differences),
            ]
        )
    return out.getvalue()
