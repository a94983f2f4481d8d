"""Does the fusion's calibration carry over to a kind of collection it never saw?

    python benchmarks/calibration_transfer.py eval-data eval-graphics eval-photos
        [--work benchmarks/work/fusion]

The shipped isotonic maps (`fit_fusion.py`) are fitted on out-of-fold predictions whose
folds split *sources* within the pooled calibration halves: they learn how the model errs on
new sources of a kind of collection it has seen. This asks the question the test halves
pose, on the calibration halves alone: hold one set out entirely; on the other two, fit the
default model (with and without the geometric check's evidence) and calibrate it either
way, by source folds (as shipped) or by set folds (train on one set, predict the other);
then score the held-out set and compare each calibration's reliability there (the largest
gap of a bin with at least 20 pairs, and the expected calibration error: the bins' gaps
weighted by their pairs). Reads the pair caches `fusion_pairs.py` writes (`--work`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from fit_fusion import DEFAULT_KEY, fit_model
from fusion_pairs import HERE, collect_pairs, pair_facts, split_raw
from sklearn.isotonic import IsotonicRegression

from neardup import fusion
from neardup.eval import reliability

MIN_BIN = 20
"""Pairs a bin needs before its gap counts in the largest gap (smaller bins are noise)."""


def predict(model: object, data: dict[str, np.ndarray], geometry: bool) -> np.ndarray:
    name = f"{DEFAULT_KEY}+{fusion.GEOMETRY}" if geometry else DEFAULT_KEY
    x = fusion.design(name, split_raw(data, geometry), pair_facts(data, geometry))
    return np.asarray(model.predict_proba(x)[:, 1])  # type: ignore[attr-defined]


def join(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def weights_of(parts: list[dict[str, np.ndarray]]) -> np.ndarray:
    """Each set weighs the same, as in `fit_fusion.py`."""
    w = np.concatenate([np.full(len(p["label"]), 1.0 / len(p["label"])) for p in parts])
    return w * (len(w) / w.sum())


def out_of_fold(parts: list[dict[str, np.ndarray]], by_set: bool, geometry: bool) -> np.ndarray:
    """Predictions for the pooled `parts`, each from a model not fitted on its fold."""
    data, weights = join(parts), weights_of(parts)
    if by_set:
        fold = np.concatenate([np.full(len(p["label"]), n) for n, p in enumerate(parts)])
    else:
        fold = data["fold"]
    out = np.zeros(len(data["label"]))
    for f in np.unique(fold):
        train = fold != f
        part = {k: v[train] for k, v in data.items()}
        model = fit_model(DEFAULT_KEY, part, weights[train], geometry)
        held = {k: v[~train] for k, v in data.items()}
        out[~train] = predict(model, held, geometry)
    return out


def gaps(confidence: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """(largest gap of a bin with at least MIN_BIN pairs, expected calibration error)."""
    rows = reliability(confidence.tolist(), label.tolist())
    total = sum(r.pairs for r in rows)
    largest = max((abs(r.duplicates - r.confidence) for r in rows if r.pairs >= MIN_BIN), default=0)
    ece = sum(r.pairs * abs(r.duplicates - r.confidence) for r in rows) / max(total, 1)
    return float(largest), float(ece)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fusion")
    args = parser.parse_args()
    parts = [collect_pairs(s.resolve(), args.work, "calib") for s in args.sets]
    print("| held out | model | pairs | calibrated by | largest gap | ECE |")
    print("|---|---|---|---|---|---|")
    for n, name in enumerate(s.name for s in args.sets):
        rest = [p for m, p in enumerate(parts) if m != n]
        for geometry in (False, True):
            used = [p if not geometry else _decided(p) for p in rest]
            held = parts[n] if not geometry else _decided(parts[n])
            final = fit_model(DEFAULT_KEY, join(used), weights_of(used), geometry)
            scores = predict(final, held, geometry)
            label = join(used)["label"].astype(float)
            for by_set in (False, True):
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                iso.fit(out_of_fold(used, by_set, geometry), label)
                largest, ece = gaps(iso.predict(scores), held["label"])
                print(
                    f"| {name} | {'with check' if geometry else 'hashes + embedding'} "
                    f"| {len(held['label'])} | {'set' if by_set else 'source'} folds "
                    f"| {largest:.3f} | {ece:.4f} |"
                )


def _decided(part: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The pairs the check decided (those the geometry-aware model scores)."""
    rows = ~np.isnan(part["geometry"])
    return {k: v[rows] for k, v in part.items()}


if __name__ == "__main__":
    main()
