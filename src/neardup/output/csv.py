"""Pairs as CSV: one row per pair, similarity, confidence, evidence, then each method's score,
then what differs (one line of text, empty where not measured); when the scan holds video
frames, then each side's frame index and time (seconds).

Rows end in "\n"; a field holding a carriage return or a newline (a file name may) is quoted,
so every CSV reader reads the row back whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from neardup.output.differences import summary
from neardup.records import ScanResult
from neardup.scoring import ALL_METHODS


def dumps(result: ScanResult) -> str:
    methods = [m for m in ALL_METHODS if any(m in p.scores for p in result.pairs)]
    out = io.StringIO()
    writer = RowWriter(out)
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


class RowWriter:
    """`csv.writer` rows ended by "\n", with every field holding "\r" or "\n" quoted.

    The csv module quotes only the characters of its own line terminator: with "\n" it left
    a "\r" bare, which readers take for a line end (a row read as 9, 1 and 9 fields). So
    each row is written with "\r\n" (both characters quoted), and that ending made "\n".
    """

    def __init__(self, out: io.StringIO) -> None:
        self._out = out
        self._row = io.StringIO()
        self._writer = csv.writer(self._row, lineterminator="\r\n")

    def writerow(self, fields: Iterable[object]) -> None:
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerow(fields)
        self._out.write(self._row.getvalue().removesuffix("\r\n") + "\n")
