"""Measure every preset on the test halves of the evaluation sets and write docs/presets.md.

    python benchmarks/presets_report.py SET_DIR [SET_DIR ...] [--out docs/presets.md]

For each set, the test half is scanned once per preset (features cached in a temporary file,
so only scoring and the geometric check run again: where the check runs depends on the cut),
then group precision and recall per edit kind: what a user acting on the groups gets. The
presets and the fusion were fitted on the calibration halves only (benchmarks/fit_fusion.py).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

from checkout import commit

from neardup import scan
from neardup.eval import EvalReport, evaluate, load_truth
from neardup.scoring import PRESETS


def _n(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def kind_rows(reports: dict[str, EvalReport]) -> list[str]:
    """Group precision and recall per edit kind, one column pair per preset."""
    names = list(reports)
    lines = [
        "| edit kind | " + " | ".join(f"{n} P | {n} R" for n in names) + " |",
        "|---|" + "---|---|" * len(names),
    ]
    first = reports[names[0]]
    assert first.groups is not None
    for row, kind in enumerate(["all pairs", *(k.kind for k in first.groups_per_kind)]):
        cells = []
        for name in names:
            report = reports[name]
            assert report.groups is not None
            score = report.groups if row == 0 else report.groups_per_kind[row - 1]
            cells += [_n(score.precision), _n(score.recall)]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/presets.md"))
    args = parser.parse_args()
    lines = [
        "# Presets: group precision and recall on the test halves",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"commit {commit()}, "
        "by `python benchmarks/presets_report.py " + " ".join(s.name for s in args.sets) + "` "
        "(default methods: exact, pdq, sscd_distilled, thumbnail check, geometric check). "
        "Presets are cuts on the fusion's calibrated confidence (a pair's own confidence, "
        "`own_confidence`, before it is read with the groups), chosen on the calibration halves "
        "of 40 picture sets (`benchmarks/fit_fusion.py`): each the lowest cut of a grid whose "
        "groups' mean precision there reaches the fusion it replaced at that preset, on "
        "pictures and on documents alike (`benchmarks/choose_cut.py`; RESULTS.md, session 37).",
        "",
        "Group precision: of the pairs the groups imply (every two images of a group), the "
        "share from one source picture. Recall: of the (original, edited copy) pairs, the share "
        "in one group. Negatives (tiles, templates, frames of a scene) have only a precision "
        "row. Definitions: `neardup/eval/metrics.py`.",
        "",
        "| preset | confidence cut |",
        "|---|---|",
        *(f"| `{name}` | {cut} |" for name, cut in PRESETS.items()),
    ]
    for folder in args.sets:
        truth = load_truth(str(folder / "truth.json"))
        paths = sorted(truth.subset("test"))
        reports: dict[str, EvalReport] = {}
        with tempfile.TemporaryDirectory() as tmp:
            cache = os.path.join(tmp, "c")
            for name, cut in PRESETS.items():
                result = scan(paths, threshold=cut, cache=cache, differences=False)
                pairs = [(result.path(p.a), result.path(p.b), p.confidence) for p in result.pairs]
                groups = [
                    [result.path(g.keeper), *(result.path(i) for i, _ in g.members)]
                    for g in result.groups
                ]
                reports[name] = evaluate(truth, pairs, threshold=cut, split="test", groups=groups)
        lines += ["", f"## {folder.name}: {len(paths)} test images", "", *kind_rows(reports)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
