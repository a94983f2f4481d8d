"""Why the images of groups that are missed are missed, on the calibration halves, out of fold.

    python benchmarks/miss_causes.py eval-data eval-graphics eval-photos eval-mixed
        [--work benchmarks/work/fusion] [--cut 0.952]

Reads what `fit_fusion.py` left in `--work` (the pair caches and `out_of_fold.npz`, the
confidence each pair got from a model that did not see its source; the sets in the order the
fit was given them). An image of a group (an original or a copy) counts as found when one of
its pairs with another member of its group reaches the cut (as group recall counts it); each
one missed is put down to the best such pair's evidence: no candidate pair at all, the check
undecided (too few keypoints), the check run but no transform found, or a transform found and
still too little confidence. The first three are the candidate search's and the check's, the
last is the fusion's. The edit kinds of the images missed are listed too. Only calibration
halves are read.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from fit_fusion import DEFAULT_OUT
from fusion_pairs import HERE, collect_pairs

from neardup.engines.local import LocalEngine
from neardup.eval import load_truth
from neardup.index.neighbours import pairs_within
from neardup.pipeline import compute_features, feature_config
from neardup.scoring import ALL_METHODS
from neardup.sources import collect

CAUSES = ("no candidate", "check undecided", "no transform", "transform, low confidence")


def causes(
    set_dir: Path, work: Path, confidence: np.ndarray, cut: float
) -> tuple[int, Counter, Counter]:
    """(images in groups, misses by cause, misses by edit kind) of one set's calibration half."""
    data = collect_pairs(set_dir, work, "calib")
    truth = load_truth(str(set_dir / "truth.json"))
    found = collect(sorted(truth.subset("calib")))
    images, _, _ = compute_features(
        found.files, feature_config(ALL_METHODS), work / "features.sqlite", LocalEngine()
    )
    pairs = sorted(pairs_within(images, ALL_METHODS, "sscd_distilled"))
    if len(pairs) != len(data["label"]):
        raise SystemExit(f"{set_dir.name}: the pair cache does not match these features")
    best: dict[int, int] = {}  # image -> row of its most confident pair within its group
    for row in np.flatnonzero(data["label"]):
        for image in pairs[row]:
            if image not in best or confidence[row] > confidence[best[image]]:
                best[image] = row
    entries = [truth.images[f.path] for f in images]
    copies = [i for i, e in enumerate(entries) if e.group is not None]
    by_cause: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for image in copies:
        row = best.get(image)
        if row is not None and confidence[row] >= cut:
            continue
        if row is None:
            cause = CAUSES[0]
        elif np.isnan(data["geometry"][row]):
            cause = CAUSES[1]
        elif data["inliers"][row] < 10:
            cause = CAUSES[2]
        else:
            cause = CAUSES[3]
        by_cause[cause] += 1
        by_kind[entries[image].edit] += 1
    return len(copies), by_cause, by_kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fusion")
    parser.add_argument("--cut", type=float, help="default: the shipped default preset's")
    args = parser.parse_args()
    # Not `neardup.scoring.PRESETS`: fusion_pairs swaps the installed model for an empty one.
    shipped = json.loads(DEFAULT_OUT.read_text(encoding="utf-8"))["presets"]["default"]
    cut = shipped if args.cut is None else args.cut
    confidence = np.load(args.work / "out_of_fold.npz")["withgeo"]
    print(f"cut {cut}")
    print(f"| set | in groups | missed | {' | '.join(CAUSES)} | kinds missed |")
    print("|---|---|---|" + "---|" * len(CAUSES) + "---|")
    start = 0
    for set_dir in args.sets:
        size = len(collect_pairs(set_dir.resolve(), args.work, "calib")["label"])
        part = confidence[start : start + size]
        start += size
        copies, by_cause, by_kind = causes(set_dir.resolve(), args.work, part, cut)
        kinds = ", ".join(f"{k} {n}" for k, n in by_kind.most_common())
        counts = " | ".join(str(by_cause[c]) for c in CAUSES)
        print(f"| {set_dir.name} | {copies} | {sum(by_cause.values())} | {counts} | {kinds} |")
    if start != len(confidence):
        raise SystemExit("out_of_fold.npz holds other pairs: give the sets the fit was given")


if __name__ == "__main__":
    main()
