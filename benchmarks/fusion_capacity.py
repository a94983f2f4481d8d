"""How big may the fusion's trees be? Leave one whole set out and see what carries over.

    python benchmarks/fusion_capacity.py eval-data eval-graphics eval-photos eval-mixed
        [--work benchmarks/work/fusion] [--key sscd_distilled+pdq] [--shipped]

Each set's calibration half is held out in turn; the model (and, for embedding keys, the
model with the geometric check's evidence, used where the check decided, as scan does) is
fitted on the other sets' calibration halves with each candidate capacity and scores the held-
out set. What counts is what a collection never seen would get: the log loss there, and the
false pairs let through at the cut that keeps 90 % and 95 % of its duplicates (a ranking
measure: calibration aside, how many look-alikes score above the copies). Nothing here reads
a test half. The first row is `fit_fusion.CAPACITY`, the size shipped (why it stays although
smaller trees win here: its docstring, and benchmarks/RESULTS.md). Reads the pair caches
`fusion_pairs.py` writes (`--work`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from calibration_transfer import join, weights_of
from fit_fusion import CAPACITY, DEFAULT_KEY
from fusion_pairs import HERE, collect_pairs, pair_facts, split_raw
from sklearn.ensemble import HistGradientBoostingClassifier

from neardup import fusion

CANDIDATES = [
    # (iterations, leaves, pairs per leaf, l2)
    (150, 8, 40, 1.0),  # the capacity shipped before
    (50, 8, 40, 1.0),
    (300, 8, 40, 1.0),
    (150, 16, 40, 1.0),
    (150, 8, 200, 1.0),
    (150, 8, 1000, 1.0),
    (150, 8, 40, 10.0),
    (150, 8, 1000, 10.0),
    (150, 4, 40, 1.0),
    (80, 4, 200, 1.0),
    (150, 4, 1000, 10.0),
    (300, 4, 1000, 10.0),
    (150, 4, 3000, 10.0),
    (150, 4, 1000, 100.0),
    (300, 3, 1000, 10.0),
    (150, 2, 1000, 10.0),
    (400, 2, 1000, 10.0),
]
RECALLS = (0.90, 0.95)


def fit(
    name: str, data: dict[str, np.ndarray], weights: np.ndarray, capacity: tuple, geometry: bool
) -> HistGradientBoostingClassifier:
    iterations, leaves, per_leaf, l2 = capacity
    params = CAPACITY | {
        "max_iter": iterations,
        "max_leaf_nodes": leaves,
        "min_samples_leaf": per_leaf,
        "l2_regularization": l2,
    }
    x = fusion.design(name, split_raw(data, geometry), pair_facts(data, geometry))
    model = HistGradientBoostingClassifier(**params, monotonic_cst=fusion.monotone(name))
    return model.fit(x, data["label"], sample_weight=weights)


def held_out(
    key: str, train: list[dict[str, np.ndarray]], held: dict[str, np.ndarray], capacity: tuple
) -> np.ndarray:
    """Confidence (uncalibrated) of the held-out pairs, as scan would fuse them."""
    data, weights = join(train), weights_of(train)
    x = fusion.design(key, split_raw(held, False), pair_facts(held, False))
    out = fit(key, data, weights, capacity, False).predict_proba(x)[:, 1]
    if key in fusion.EMBEDDINGS or "+" in key:
        name = f"{key}+{fusion.GEOMETRY}"
        with_geo = fit(name, data, weights, capacity, True)
        x = fusion.design(name, split_raw(held, True), pair_facts(held, True))
        decided = ~np.isnan(held["geometry"])
        out = np.where(decided, with_geo.predict_proba(x)[:, 1], out)
    return np.asarray(out)


def measures(confidence: np.ndarray, label: np.ndarray) -> tuple[float, list[int]]:
    """(log loss, false pairs above the cut keeping each of RECALLS of the duplicates)."""
    p = np.clip(confidence, 1e-6, 1 - 1e-6)
    loss = float(-np.mean(np.where(label, np.log(p), np.log(1 - p))))
    false = []
    for recall in RECALLS:
        cut = np.quantile(confidence[label], 1 - recall)
        false.append(int((confidence[~label] >= cut).sum()))
    return loss, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fusion")
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="only the capacity fit_fusion.py uses (a feature's worth)",
    )
    args = parser.parse_args()
    shipped = (
        CAPACITY["max_iter"],
        CAPACITY["max_leaf_nodes"],
        CAPACITY["min_samples_leaf"],
        CAPACITY["l2_regularization"],
    )
    parts = [collect_pairs(s.resolve(), args.work, "calib") for s in args.sets]
    names = [s.name for s in args.sets]
    head = " | ".join(f"{n}: loss, false @ {' / '.join(str(r) for r in RECALLS)}" for n in names)
    print(f"| iterations, leaves, pairs/leaf, l2 | mean loss | false pairs (sum) | {head} |")
    print("|---" * (3 + len(names)) + "|")
    for capacity in [shipped] if args.shipped else CANDIDATES:
        losses, totals, cells = [], np.zeros(len(RECALLS), dtype=int), []
        for h, held in enumerate(parts):
            train = [p for n, p in enumerate(parts) if n != h]
            loss, false = measures(held_out(args.key, train, held, capacity), held["label"])
            losses.append(loss)
            totals += false
            cells.append(f"{loss:.4f}, {' / '.join(str(f) for f in false)}")
        total = " / ".join(str(t) for t in totals)
        print(f"| {capacity} | {np.mean(losses):.4f} | {total} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
