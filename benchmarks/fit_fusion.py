"""Fit the fusion (`src/neardup/fusion_model.json`) on the calibration halves of labelled sets.

    python benchmarks/fit_fusion.py SET_DIR [SET_DIR ...] [--out PATH] [--work DIR]
        [--cut PRESET=VALUE ...]

Each SET_DIR holds a `truth.json` (benchmarks/make_eval_set.py, make_set_graphics.py,
make_set_photos.py, make_set_mixed.py). Only images of the `calib` split are read: no number
is chosen on a test half. For every candidate pair that scan would score (every method's
neighbours), it records each method's raw score, the image facts and the geometric check's
result, then fits:

- one boosted-tree model (histogram gradient boosting, log loss, each method's score
  constrained to raise confidence) per method set (`sscd_distilled+pdq`, `pdq`, `sscd`, ...),
  and one with the geometric check's score and inliers for pairs where the check decided;
- the presets: the lowest confidence cut whose pair precision on the calibration halves is at
  least 0.999 (strict), 0.995 (default), 0.98 (loose), at most 0.999 (where a target is out
  of reach, strict is the top of the scale: pairs the model is most sure of), unless `--cut`
  gives one: the shipped cuts are chosen by the groups, which keep most look-alike pairs
  apart (`choose_cut.py`; `make fit` passes the cuts it chose, RESULTS.md, session 37);
- the verify band per cut: the run of geometry-free confidence where the check pays (verdicts
  it fixes minus those it spoils, net of its cost: `band_for`), so scan runs it only there;
  and which hashes settle a pair already above the cut (`settled_rule`), so the check is not
  run on those either (`--settled-only` refits just that into an existing model).
Each set counts equally (pairs weighted by 1 / the set's pair count). Before the final fit, a
2-fold cross-validation by source (inside the calibration halves) prints the reliability of
models that did not see the pairs they score; `neardup eval` checks the test halves.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from fusion_band import band_for, checked, settled_rule, settles
from fusion_pairs import HERE, collect_pairs, fusion, pair_facts, split_raw
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression

from neardup.eval import reliability

DEFAULT_OUT = HERE.parent / "src" / "neardup" / fusion.MODEL_FILE
KEYS = (
    "sscd_distilled+pdq",
    "sscd+pdq",
    "sscd_distilled",
    "sscd",
    "pdq",
    "phash",
    "dhash",
    "ahash",
    "whash",
)
GEOMETRY_KEYS = ("sscd_distilled+pdq", "sscd+pdq", "sscd_distilled", "sscd")
PRESET_PRECISION = {"strict": 0.999, "default": 0.995, "loose": 0.98}
DEFAULT_KEY = "sscd_distilled+pdq"


CAPACITY = {
    "max_iter": 150,
    "learning_rate": 0.08,
    "max_leaf_nodes": 4,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
"""The trees' size, chosen on the calibration halves by leaving one whole set out
(`fusion_capacity.py`). With three sets, smaller trees with larger leaves won there but lost
2 points of recall out of fold by source, and the size stayed at 8 leaves (RESULTS.md,
session 8). With the fourth set (make_set_mixed.py) 4 leaves of >= 40 pairs beat 8 set out (mean
loss 0.0213 against 0.0228; false pairs at 90 / 95 % recall 154 / 655 against 188 / 727) and
held by source folds (7,957 duplicate pairs at the default preset, precision 0.9950, against
7,949 at 0.9957), the rule written down before that fit; so 4 leaves (RESULTS.md, "A third
set written blind")."""


def fit_model(
    key: str, data: dict[str, np.ndarray], weights: np.ndarray, geometry: bool
) -> HistGradientBoostingClassifier:
    name = f"{key}+{fusion.GEOMETRY}" if geometry else key
    x = fusion.design(name, split_raw(data, geometry), pair_facts(data, geometry))
    model = HistGradientBoostingClassifier(**CAPACITY, monotonic_cst=fusion.monotone(name))
    model.fit(x, data["label"], sample_weight=weights)
    return model


def export(name: str, model: HistGradientBoostingClassifier, data: dict[str, np.ndarray]) -> dict:
    """The model as flat node arrays (see neardup.fusion.Trees), checked against sklearn."""
    roots, feature, threshold, left, right, value, leaf = [], [], [], [], [], [], []
    depth = 0
    for (predictor,) in model._predictors:  # one tree per iteration (binary log loss)
        nodes = predictor.nodes
        offset = len(feature)
        roots.append(offset)
        feature += nodes["feature_idx"].tolist()
        threshold += [float(t) for t in nodes["num_threshold"]]  # exact: data sit close to them
        left += (nodes["left"] + offset).tolist()
        right += (nodes["right"] + offset).tolist()
        value += [round(float(v), 6) for v in nodes["value"]]
        leaf += nodes["is_leaf"].astype(bool).tolist()
        depth = max(depth, int(nodes["depth"].max()))
    record: dict = {
        "features": fusion.feature_names(name),
        "baseline": round(float(np.ravel(model._baseline_prediction)[0]), 8),
        "trees": {
            "roots": roots,
            "feature": feature,
            "threshold": threshold,
            "left": left,
            "right": right,
            "value": value,
            "leaf": leaf,
            "depth": depth + 1,
        },
        "pairs": len(data["label"]),
        "positives": int(data["label"].sum()),
    }
    geometry = name.endswith(fusion.GEOMETRY)
    identity = [[0.0, 1.0], [0.0, 1.0]]
    ours = fusion._model(name, record | {"calibration": identity}).predict(
        split_raw(data, geometry), pair_facts(data, geometry)
    )
    x = fusion.design(name, split_raw(data, geometry), pair_facts(data, geometry))
    theirs = model.predict_proba(x)[:, 1]
    gap = float(np.abs(ours - theirs).max())
    if gap > 1e-4:  # leaf values are rounded to 6 digits; anything more is a bug
        raise RuntimeError(f"{name}: exported trees differ from sklearn's by {gap}")
    return record


def out_of_fold(
    key: str, data: dict[str, np.ndarray], weights: np.ndarray, geometry: bool
) -> np.ndarray:
    """Each pair's confidence from a model fitted on the other fold (folds split by source)."""
    name = f"{key}+{fusion.GEOMETRY}" if geometry else key
    x = fusion.design(name, split_raw(data, geometry), pair_facts(data, geometry))
    out = np.zeros(len(data["label"]))
    for fold in (0, 1):
        train, held = data["fold"] != fold, data["fold"] == fold
        model = fit_model(key, select(data, train), weights[train], geometry)
        out[held] = model.predict_proba(x[held])[:, 1]
    return out


def fit(
    key: str, data: dict[str, np.ndarray], weights: np.ndarray, geometry: bool
) -> tuple[dict, np.ndarray]:
    """One model on the rows given (its JSON record, without calibration yet) and its
    out-of-fold confidence for those rows."""
    name = f"{key}+{fusion.GEOMETRY}" if geometry else key
    oof = out_of_fold(key, data, weights, geometry)
    return export(name, fit_model(key, data, weights, geometry), data), oof


def calibrate(record: dict, oof: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Add the isotonic map from out-of-fold confidence to the share of duplicates (rows as
    met in use, unweighted) to `record`; returns the calibrated confidence of those rows."""
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(oof, label.astype(float))
    record["calibration"] = [
        [round(float(v), 6) for v in iso.X_thresholds_],
        [round(float(v), 6) for v in iso.y_thresholds_],
    ]
    return iso.predict(oof)


def select(data: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in data.items()}


def lowest_cut(confidence: np.ndarray, label: np.ndarray, precision: float) -> float:
    """The lowest cut whose precision (correct / predicted pairs) is at least `precision`."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(label[order])
    counts = np.arange(1, len(order) + 1)
    ok = np.flatnonzero(hits / counts >= precision)
    if ok.size == 0:
        return TOP_CUT
    # The last position where precision still holds, cut at that pair's confidence.
    return min(TOP_CUT, float(np.round(confidence[order][ok[-1]], 3)))


TOP_CUT = 0.999


def given_cuts(given: list[str]) -> dict[str, float]:
    """`--cut PRESET=VALUE` arguments as {preset: cut} (read before the fit's minutes)."""
    cuts = {}
    for item in given:
        name, _, value = item.partition("=")
        try:
            cut = float(value)
        except ValueError:
            cut = float("nan")
        if name not in PRESET_PRECISION or not 0.0 < cut < 1.0:
            raise SystemExit(f"--cut {item}: expected one of {sorted(PRESET_PRECISION)}=CUT")
        cuts[name] = cut
    return cuts


def ordered(presets: dict[str, float]) -> dict[str, float]:
    """The presets, refused unless loose <= default <= strict."""
    if not presets["loose"] <= presets["default"] <= presets["strict"]:
        raise SystemExit(f"presets out of order (loose <= default <= strict): {presets}")
    return presets


def block_note(final: np.ndarray, label: np.ndarray, cut: float) -> str:
    """The flat block of calibrated confidence a preset's cut falls on, and what passes just
    above it: isotonic maps are flat over wide blocks, so a cut's count of pairs found can move
    by hundreds between neighbouring cuts (RESULTS.md, "Six more tries")."""
    above = final[final >= cut]
    if above.size == 0:
        return "no pair at or above the cut"
    lowest = float(above.min())
    block = final == lowest
    past = final > lowest
    return (
        f"block at the cut: {int(block.sum())} pairs at confidence {lowest:.6f} "
        f"({int((block & label).sum())} duplicates); above it "
        f"{int((past & label).sum())} duplicate and {int((past & ~label).sum())} false pairs pass"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fusion")
    parser.add_argument("--split", default="calib")
    parser.add_argument(
        "--cut",
        action="append",
        default=[],
        metavar="PRESET=VALUE",
        help="set a preset's cut instead of deriving it from PRESET_PRECISION (the shipped "
        "cuts are chosen by the groups of scans of the calibration halves: "
        "benchmarks/choose_cut.py)",
    )
    parser.add_argument(
        "--settled-only",
        action="store_true",
        help="only refit which hashes settle a pair (`settled`) into the model at --out",
    )
    args = parser.parse_args()
    cuts_given = given_cuts(args.cut)

    parts = [collect_pairs(s.resolve(), args.work, args.split) for s in args.sets]
    weights = np.concatenate([np.full(len(p["label"]), 1.0 / len(p["label"])) for p in parts])
    weights *= len(weights) / weights.sum()
    data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    decided = ~np.isnan(data["geometry"])
    print(f"{len(data['label'])} pairs, {int(data['label'].sum())} duplicates", file=sys.stderr)
    rule = settled_rule(data)
    settled = settles(rule, data)
    print(f"settled by hashes: {rule}", file=sys.stderr)
    if args.settled_only:
        record = json.loads(args.out.read_text(encoding="utf-8")) | {"settled": rule}
        args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out} (settled only)", file=sys.stderr)
        return

    models: dict[str, dict] = {}
    label = data["label"]
    for key in KEYS:
        models[key], oof = fit(key, data, weights, geometry=False)
        # Without a geometry model, this model scores every pair; with one, the pairs whose
        # check could not decide (and the extremes it is not run on): calibrate on those.
        used = ~decided if key in GEOMETRY_KEYS else np.ones(len(label), dtype=bool)
        calibrate(models[key], oof[used], label[used])
        if key == DEFAULT_KEY:
            xs, ys = models[key]["calibration"]
            without = np.interp(oof, xs, ys)
    for key in GEOMETRY_KEYS:
        name = f"{key}+{fusion.GEOMETRY}"
        models[name], oof = fit(key, select(data, decided), weights[decided], geometry=True)
        calibrated = calibrate(models[name], oof, label[decided])
        if key == DEFAULT_KEY:
            withgeo = without.copy()
            withgeo[decided] = calibrated
    # Presets and the verify band are chosen on out-of-fold, calibrated confidence: what a
    # model gives pairs it was not fitted on, as in use.
    label = data["label"]
    presets = {n: lowest_cut(withgeo, label, p) for n, p in PRESET_PRECISION.items()}
    presets = {
        n: lowest_cut(checked(without, withgeo, label, c, settled), label, PRESET_PRECISION[n])
        for n, c in presets.items()
    }
    presets = ordered(presets | cuts_given)
    cuts = sorted({*np.round(np.arange(0.05, 1.0, 0.05), 2).tolist(), *presets.values()})
    table = [[cut, *band_for(without, withgeo, label, cut, settled)] for cut in cuts]
    print(f"presets {presets}", file=sys.stderr)
    for name, cut in presets.items():
        low, high = band_for(without, withgeo, label, cut, settled)
        final = checked(without, withgeo, label, cut, settled)
        in_band = (without >= low) & (without <= high) & ~(settled & (without >= cut))
        flips = (without >= cut) != (withgeo >= cut)
        predicted = final >= cut
        precision = label[predicted].mean() if predicted.any() else float("nan")
        print(
            f"  {name}: cut {cut}, check where confidence in [{low}, {high}]: "
            f"{int(in_band.sum())} of {len(label)} pairs, {int((flips & in_band).sum())} of "
            f"{int(flips.sum())} verdict changes; pair precision {precision:.4f}, "
            f"{int((predicted & label).sum())} of {int(label.sum())} duplicate pairs",
            file=sys.stderr,
        )
        print(f"    {block_note(final, label, cut)}", file=sys.stderr)
    final = checked(without, withgeo, label, presets["default"], settled)
    np.savez_compressed(
        args.work / "out_of_fold.npz", without=without, withgeo=withgeo, label=label
    )
    print("reliability, out of fold (default methods, as scan checks):", file=sys.stderr)
    for row in reliability(final.tolist(), label.tolist()):
        print(
            f"  {row.low:.1f}-{row.high:.1f} n={row.pairs:6d} mean confidence {row.confidence:.3f}"
            f" duplicates {row.duplicates:.3f}",
            file=sys.stderr,
        )

    record = {
        "version": fusion.MODEL_VERSION,
        "fitted_on": [f"{s.name} ({args.split})" for s in args.sets],
        "presets": presets,
        "verify": table,
        "settled": rule,
        "models": models,
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
