"""The plain-text table `neardup eval` prints: the pair and group scores, the reliability
table and the threshold sweep, NaN shown as ``-``."""

from __future__ import annotations

import math

from neardup.eval.metrics import EvalReport


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def format_report(report: EvalReport) -> str:
    """A plain-text table: overall and per-kind scores, then the threshold sweep."""
    split = report.split if report.split is not None else "all"
    lines = [f"threshold {report.threshold:g}, split {split}"]
    lines += [f"note: {note}" for note in report.notes]
    header = (
        f"{'kind':<18} {'precision':>9} {'recall':>7} {'f1':>7}"
        f" {'required':>9} {'predicted':>9} {'correct':>9}"
    )
    lines += ["pairs:", header, "-" * len(header)]
    for score in (report.overall, *report.per_kind):
        lines.append(
            f"{score.kind:<18} {_number(score.precision):>9} {_number(score.recall):>7}"
            f" {_number(score.f1):>7} {score.true_pairs:>9} {score.predicted:>9}"
            f" {score.correct:>9}"
        )
    if report.groups is not None:
        lines += ["", "groups (every two images of a group count as a predicted pair):"]
        lines += [header, "-" * len(header)]
        for score in (report.groups, *report.groups_per_kind):
            lines.append(
                f"{score.kind:<18} {_number(score.precision):>9} {_number(score.recall):>7}"
                f" {_number(score.f1):>7} {score.true_pairs:>9} {score.predicted:>9}"
                f" {score.correct:>9}"
            )
    if report.reliability:
        lines += [
            "",
            f"{'confidence':>10} {'pairs':>7} {'mean':>6} {'duplicates':>10} {'gap':>6}"
            f" {'95 % interval':>13}",
        ]
        for row in report.reliability:
            low, high = row.likely
            lines.append(
                f"{row.low:>4.1f}-{row.high:<5.1f} {row.pairs:>7} {row.confidence:>6.3f}"
                f" {row.duplicates:>10.3f} {row.duplicates - row.confidence:>+6.3f}"
                f" {low:>6.3f}-{high:<6.3f}"
            )
    if report.sweep:
        lines += ["", f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>7}"]
        for threshold, precision, recall, f1 in report.sweep:
            lines.append(
                f"{threshold:>9.3f} {_number(precision):>9} {_number(recall):>7} {_number(f1):>7}"
            )
    return "\n".join(lines)
