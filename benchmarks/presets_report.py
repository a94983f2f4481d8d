"""Measure every preset on the evaluation set and write docs/presets.md.

    python benchmarks/presets_report.py eval-data [--out docs/presets.md]

One scan (default methods, feature cache in a temporary file), then pair precision and recall
per edit kind at each preset, on the whole set and on the held-out test split (the curves in
neardup.scoring were set by looking at the calibration split).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

from neardup import scan
from neardup.eval import SWEEP, EvalReport, evaluate, load_truth
from neardup.scoring import PRESETS


def _n(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def kind_table(reports: dict[str, EvalReport]) -> list[str]:
    names = list(reports)
    lines = [
        "| edit kind | " + " | ".join(f"{n} P | {n} R" for n in names) + " |",
        "|---|" + "---|---|" * len(names),
    ]
    first = reports[names[0]]
    for row, kind in enumerate(["overall", *(k.kind for k in first.per_kind)]):
        cells = []
        for name in names:
            score = reports[name].overall if row == 0 else reports[name].per_kind[row - 1]
            cells += [_n(score.precision), _n(score.recall)]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/presets.md"))
    args = parser.parse_args()
    truth = load_truth(str(args.data / "truth.json"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = scan(sorted(truth.images), threshold=SWEEP[0], cache=os.path.join(tmp, "c"))
        seconds = time.perf_counter() - start
    pairs = [(result.path(p.a), result.path(p.b), p.similarity) for p in result.pairs]
    lines = [
        "# Presets: precision and recall on the evaluation set",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"by `python benchmarks/presets_report.py eval-data` (default methods: exact, pdq, "
        f"sscd_distilled, with the geometric check). {len(result.images)} images from "
        f"`benchmarks/make_eval_set.py`; scan took {seconds:.1f} s.",
        "",
        "Pair precision: of the pairs reported, the share whose images come from one source "
        "photo. Recall: of the (original, edited copy) pairs, the share reported. Hard "
        "negatives (`tile`: crops of one texture photo; `frame`: frames of one video scene) "
        "have only a precision row. See `neardup/eval.py` for the exact definitions.",
        "",
        "| preset | fused threshold |",
        "|---|---|",
        *(f"| `{name}` | {cut} |" for name, cut in PRESETS.items()),
    ]
    for split in (None, "test"):
        reports = {
            name: evaluate(truth, pairs, threshold=cut, split=split)
            for name, cut in PRESETS.items()
        }
        title = "Whole set" if split is None else "Held-out test split only"
        lines += ["", f"## {title}", "", *kind_table(reports)]
    sweep = evaluate(truth, pairs, threshold=PRESETS["default"], sweep=SWEEP).sweep
    lines += ["", "## Threshold sweep (whole set)", "", "| threshold | precision | recall | f1 |"]
    lines += ["|---|---|---|---|"]
    lines += [f"| {t} | {_n(p)} | {_n(r)} | {_n(f)} |" for t, p, r, f in sweep]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
