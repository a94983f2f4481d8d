"""`neardup eval` end to end: scan the truth file's images, score the pairs found against the
truth, return the table (and write the precision / recall and reliability plots)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from neardup.eval.metrics import evaluate, no_original_note, required_pairs
from neardup.eval.table import format_report
from neardup.eval.truth import Truth, load_truth

if TYPE_CHECKING:
    from neardup.store import CacheSetting

SWEEP = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def run_eval(
    truth_path: str,
    *,
    methods: str | None = None,
    preset: str | None = None,
    threshold: float | None = None,
    split: str | None = None,
    cache: CacheSetting = None,
    workers: int | None = None,
    json_path: str | None = None,
    plot_dir: str | None = None,
) -> str:
    """`neardup eval`: scan the truth file's images, then report precision and recall;
    with `plot_dir`, also the precision / recall and reliability plots there. `cache` is
    the feature cache as `neardup.scan` takes it (False: none). A truth that requires no
    pair (no group holds an `original`) is evaluated, precision being still measured, with
    a warning on stderr."""
    from neardup.api import scan
    from neardup.output import json as json_out
    from neardup.output.table import count
    from neardup.scoring import threshold_for

    truth = load_truth(truth_path)
    cut = threshold_for(preset, threshold)
    paths = sorted(truth.subset(split))
    if not paths:  # a mistyped split must not pass as an evaluation
        raise ValueError(f"no image of the truth file is in split {split!r}")
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:  # a typo must not pass as a measured miss, as a missing path fails a scan
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        names = count(len(missing), "image")
        raise ValueError(f"{truth_path}: {names} not there: {shown}")
    if not required_pairs(truth.subset(split)):
        # Said on stderr before the scan, as well as in the table: precision still means
        # something, but a report saved from stdout would hide that recall measured nothing.
        print(f"neardup: warning: {no_original_note(split)}", file=sys.stderr)
    # Scanned at the real cut (the geometric check runs where it can change that verdict);
    # every scored pair comes back too, for the sweep and the reliability table.
    result = scan(
        paths,
        methods=methods,
        threshold=cut,
        cache=cache,
        workers=workers,
        floor=0.0,
        differences=False,  # not scored here (benchmarks/differences_eval.py scores them)
    )
    if json_path:
        from neardup.output.targets import write_text

        write_text(json_path, json_out.dumps(result))
    if not result.images:
        raise ValueError(f"none of the truth file's {len(paths)} images could be read")
    pairs = [(result.path(p.a), result.path(p.b), p.confidence) for p in result.pairs]
    # The pairs as the fusion scored them, before their groups were read
    # (`neardup.group_confidence`): what the grouping keeps of the pairs found, and what a
    # scan at another threshold would cut on (its groups, and so their reading, differ).
    own = [
        (a, b, c if p.own_confidence is None else p.own_confidence)
        for (a, b, c), p in zip(pairs, result.pairs, strict=True)
    ]
    groups = [
        [result.path(g.keeper), *(result.path(i) for i, _ in g.members)] for g in result.groups
    ]
    report = evaluate(truth, pairs, threshold=cut, split=split, groups=groups)
    alone = evaluate(truth, own, threshold=cut, split=split, sweep=SWEEP)
    report.sweep = alone.sweep
    seconds = result.stats.seconds.get("total", 0.0)
    head = f"{len(result.images)} images, {len(result.skipped)} skipped, {seconds:.1f} s"
    # Each skipped image is named: its pairs count as missed.
    head += "".join(f"\nskipped {s.path}: {s.reason}" for s in result.skipped)
    text = head + "\n" + format_report(report)
    if any(p.own_confidence is not None for p in result.pairs):
        text += (
            f"\npairs by their own confidence (before their groups were read; the sweep "
            f"above too): precision {alone.overall.precision:.3f}, recall "
            f"{alone.overall.recall:.3f}\n"
        )
    if plot_dir:
        text += "\n" + write_plots(truth, pairs, cut, split, plot_dir, own)
    return text


PLOT_THRESHOLDS = tuple(round(t, 3) for t in np.linspace(0.0, 1.0, 201))
"""The sweep drawn in the precision / recall plot: fine enough for a smooth curve."""


def write_plots(
    truth: Truth,
    pairs: Sequence[tuple[str, str, float]],
    cut: float,
    split: str | None,
    folder: str,
    own: Sequence[tuple[str, str, float]] | None = None,
) -> str:
    """precision_recall.png (of `own`, the pairs' own confidence, where given: what another
    threshold would cut on) and reliability.png (of `pairs`) in `folder`; returns what was
    written."""
    from neardup.output.plots import write_precision_recall, write_reliability
    from neardup.scoring import PRESETS

    fine = evaluate(truth, own or pairs, threshold=cut, split=split, sweep=PLOT_THRESHOLDS)
    calibrated = evaluate(truth, pairs, threshold=cut, split=split) if own else fine
    written = [
        write_precision_recall(
            fine.sweep, cut, os.path.join(folder, "precision_recall.png"), PRESETS
        ),
        write_reliability(calibrated.reliability, os.path.join(folder, "reliability.png")),
    ]
    return "\n".join(f"wrote {path}" for path in written)
