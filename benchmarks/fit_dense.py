"""Measure the dense alignment's gate and confidence on the calibration halves.

    python benchmarks/fit_dense.py SET_DIR [SET_DIR ...] [--cache-dir DIR]

Pictures too smooth for keypoints are aligned densely by the geometric check
(`neardup.dense_alignment`); a pair whose alignment reaches `checked_scores.DENSE_GATE`
(shared frame, aligned, agree) is raised to `DENSE_CONFIDENCE`. This scans each set's `calib`
split at the default preset (every scored pair kept, as `neardup eval` does), takes the pairs
the check aligned densely, and prints for a grid of gates how many are duplicates (same
group) and how many not, with the share of duplicates among the pairs the shipped gate
passes (and its 95 % Wilson interval): that share, rounded down, is `DENSE_CONFIDENCE`.
Only `calib` images are read; no number is chosen on a test half. Group-level precision and
recall under each gate come from `neardup eval` (RESULTS.md, session 24).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from neardup.checked_scores import DENSE_CONFIDENCE, DENSE_GATE
from neardup.eval.calibration import wilson
from neardup.eval.command import run_eval
from neardup.eval.truth import load_truth

FRAMES = (0.5, 0.6, 0.7)
AGREEMENTS = (0.95, 0.97, 0.99)
EDGES = (0.0, 0.6, 0.7, 0.8)


Row = tuple[bool, float, float, float, float]
"""(duplicate, shared frame, aligned, agree, edges) of a densely aligned pair."""


def dense_pairs(set_dir: Path, cache: str | bool) -> list[Row]:
    """The densely aligned pairs of the set's calibration half."""
    truth_path = set_dir / "truth.json"
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "scan.json"
        run_eval(str(truth_path), split="calib", cache=cache, json_path=str(out))
        result = json.loads(out.read_text())
    images = load_truth(str(truth_path)).images
    rows = []
    for pair in result["pairs"]:
        scores = pair["scores"]
        if "dense" not in scores:
            continue
        a, b = images[pair["a"]], images[pair["b"]]
        same = a.group is not None and a.group == b.group
        measured = (scores["geometry"], scores["aligned"], scores["agree"], scores["edges"])
        rows.append((same, *measured))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--cache-dir", type=Path, help="one feature cache per set here")
    args = parser.parse_args()
    everything: list[Row] = []
    for set_dir in args.sets:
        cache: str | bool = (
            str(args.cache_dir / f"{set_dir.name}-calib.sqlite") if args.cache_dir else False
        )
        rows = dense_pairs(set_dir, cache)
        print(f"{set_dir.name}: {len(rows)} pairs aligned densely")
        everything += rows
    print("\n| shared frame >= | aligned, agree >= | edges >= | duplicates passing | others |")
    print("|---|---|---|---|---|")
    for frame in FRAMES:
        for agreement in AGREEMENTS:
            for edges in EDGES:
                gate = (frame, agreement, agreement, edges)
                passing = [same for same, *values in everything if _passes(values, gate)]
                others = len(passing) - sum(passing)
                print(f"| {frame} | {agreement} | {edges} | {sum(passing)} | {others} |")
    passing = [same for same, *values in everything if _passes(values, DENSE_GATE)]
    if passing:
        share = sum(passing) / len(passing)
        low, high = wilson(share, len(passing))
        print(
            f"\nshipped gate {DENSE_GATE}: {sum(passing)} of {len(passing)} passing pairs are "
            f"duplicates, {share:.4f} (95 % interval {low:.3f}-{high:.3f}); "
            f"DENSE_CONFIDENCE is {DENSE_CONFIDENCE}"
        )


def _passes(values: list[float], gate: tuple[float, ...]) -> bool:
    return all(value >= limit for value, limit in zip(values, gate, strict=True))


if __name__ == "__main__":
    main()
