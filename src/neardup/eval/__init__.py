"""Precision and recall of found duplicate pairs against a truth file (`neardup eval`).

One module per step, each importing only those before it: `truth` (load the truth file) ->
`calibration` (the reliability table) and `metrics` (score the pairs: the definitions are
its docstring) -> `table` (the printed report) -> `command` (`neardup eval`: scan, score,
print, plot). Every public name is importable from here.
"""

from neardup.eval.calibration import Bin, reliability
from neardup.eval.command import PLOT_THRESHOLDS, SWEEP, run_eval, write_plots
from neardup.eval.metrics import (
    EvalReport,
    KindScore,
    Pair,
    evaluate,
    no_original_note,
    required_pairs,
)
from neardup.eval.table import format_report
from neardup.eval.truth import ORIGINAL, TRUTH_VERSION, Truth, TruthEntry, load_truth

__all__ = [
    "ORIGINAL",
    "PLOT_THRESHOLDS",
    "SWEEP",
    "TRUTH_VERSION",
    "Bin",
    "EvalReport",
    "KindScore",
    "Pair",
    "Truth",
    "TruthEntry",
    "evaluate",
    "format_report",
    "load_truth",
    "no_original_note",
    "reliability",
    "required_pairs",
    "run_eval",
    "write_plots",
]
