"""Fit the fusion (`src/neardup/fusion_model.json`) on the calibration halves of labelled sets.

    python benchmarks/fit_fusion.py SET_DIR [SET_DIR ...] [--out PATH] [--work DIR]

Each SET_DIR holds a `truth.json` (benchmarks/make_eval_set.py, make_set_graphics.py,
make_set_photos.py). Only images of the `calib` split are read: no number is chosen on a test
half. For every candidate pair that scan would score (every method's neighbours), it records
each method's raw score, the image facts and the geometric check's result, then fits:

- one boosted-tree model (histogram gradient boosting, log loss, each method's score
  constrained to raise confidence) per method set (`sscd_distilled+pdq`, `pdq`, `sscd`, ...),
  and one with the geometric check's score and inliers for pairs where the check decided;
- the presets: the lowest confidence cut whose pair precision on the calibration halves is at
  least 0.999 (strict), 0.995 (default), 0.98 (loose), at most 0.999 (where a target is out
  of reach, strict is the top of the scale: pairs the model is most sure of);
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
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression

# Collecting the pairs needs no fusion: start from an empty one, whatever is installed.
_EMPTY = Path(tempfile.mkdtemp()) / "empty.json"
_EMPTY.write_text(
    '{"version": 1, "models": {}, "presets": {"default": 0.5}, "verify": [[0.5, 1, 0]]}'
)
os.environ["NEARDUP_FUSION_MODEL"] = str(_EMPTY)

from neardup import fusion  # noqa: E402
from neardup.engines.local import LocalEngine  # noqa: E402
from neardup.eval import load_truth, reliability  # noqa: E402
from neardup.index.neighbours import pairs_within  # noqa: E402
from neardup.pipeline import compute_features, feature_config  # noqa: E402
from neardup.scoring import ALL_METHODS, facts, raw_scores  # noqa: E402
from neardup.sources import collect  # noqa: E402
from neardup.verify import VERIFY  # noqa: E402

HERE = Path(__file__).resolve().parent
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


def collect_pairs(set_dir: Path, work: Path, split: str) -> dict[str, np.ndarray]:
    """Raw scores, facts, geometry and labels of every candidate pair of one set's split."""
    cached = work / f"pairs-v7-{set_dir.name}-{split}.npz"
    if cached.exists():
        return dict(np.load(cached))
    truth = load_truth(str(set_dir / "truth.json"))
    paths = sorted(truth.subset(split))
    found = collect(paths)
    config = feature_config(ALL_METHODS)
    images, skipped, _ = compute_features(
        found.files, config, work / "features.sqlite", LocalEngine()
    )
    print(f"{set_dir.name}: {len(images)} images, {len(skipped)} skipped", file=sys.stderr)
    pairs = sorted(pairs_within(images, ALL_METHODS, "sscd_distilled"))
    raw = raw_scores(images, pairs, ALL_METHODS)
    pair_facts = facts(images, pairs)
    start = time.perf_counter()
    jobs = [(images[a].path, images[b].path) for a, b in pairs]
    geometry = np.full(len(pairs), np.nan)
    aligned = np.full(len(pairs), np.nan)
    agree = np.full(len(pairs), np.nan)
    inliers = np.full(len(pairs), np.nan)
    row = {job: n for n, job in enumerate(jobs)}
    for chunk, out in LocalEngine().map(VERIFY, jobs):  # in completion order
        for job, found_geometry in zip(chunk, out, strict=True):
            if found_geometry is not None:
                n = row[job]
                geometry[n] = found_geometry.score
                aligned[n] = found_geometry.aligned
                agree[n] = found_geometry.agree
                inliers[n] = found_geometry.inliers
    print(f"  {len(pairs)} pairs, geometry in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    groups = [truth.images[f.path].group if f.path in truth.images else None for f in images]
    label = np.array(
        [groups[a] is not None and groups[a] == groups[b] for a, b in pairs], dtype=bool
    )
    sources = [truth.images[f.path].source if f.path in truth.images else "" for f in images]
    fold = np.array([zlib.crc32(sources[a].encode()) % 2 for a, _ in pairs], dtype=np.int8)
    data = {f"raw:{m}": v for m, v in raw.items()}
    data |= {
        "geometry": geometry,
        "aligned": aligned,
        "agree": agree,
        "inliers": inliers,
        "quality": pair_facts.quality,
        "aspect": pair_facts.aspect,
        "label": label,
        "fold": fold,
    }
    work.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cached, **data)
    return data


def split_raw(data: dict[str, np.ndarray], geometry: bool) -> dict[str, np.ndarray]:
    raw = {k[4:]: v for k, v in data.items() if k.startswith("raw:")}
    if geometry:
        raw["geometry"] = data["geometry"]
        raw["aligned"] = data["aligned"]
        raw["agree"] = data["agree"]
    return raw


def pair_facts(data: dict[str, np.ndarray], geometry: bool) -> fusion.PairFacts:
    inliers = data["inliers"] if geometry else np.full(len(data["label"]), np.nan)
    return fusion.PairFacts(data["quality"], data["aspect"], inliers)


CAPACITY = {
    "max_iter": 150,
    "learning_rate": 0.08,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
"""The trees' size. Leaving one whole set out (`fusion_capacity.py`, calibration halves)
favoured smaller trees with larger leaves (4 leaves of >= 1,000 pairs: about a third fewer
false pairs on the set not seen, at the same recall), but out of fold by source they lost 2
points of recall, and fitted so (with a shading-free thumbnail score, same trial) the test
halves lost group recall (graphics 0.971 -> 0.965, photos 0.960 -> 0.948) and gained no
precision (0.958 -> 0.957, 0.941 -> 0.940, original 1.000 -> 0.995): their look-alikes are of
kinds no calibration half holds. So the size stays as first fitted (RESULTS.md, session 8)."""


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


CHECK_PAYS = 50
"""The check runs only where it corrects, net of the verdicts it spoils, at least one verdict
per this many pairs checked."""


SETTLED_QUALITY = 50.0
"""PDQ quality from which a hash settles a pair: the floor Meta's PDQ recommends for matching."""
SETTLED_THUMB = 0.9
"""Thumbnail correlation a settled pair also needs (a witness against PDQ collisions)."""


def settled_rule(data: dict[str, np.ndarray]) -> dict[str, float]:
    """Hashes that settle a pair (`neardup.fusion.Settled`): PDQ at most half the Hamming
    distance of the closest non-duplicate calibration pair of quality >= `SETTLED_QUALITY`."""
    pdq = np.nan_to_num(data["raw:pdq"], nan=0.0)
    negatives = ~data["label"] & (data["quality"] >= SETTLED_QUALITY)
    closest = round((1.0 - float(pdq[negatives].max())) * 256 / 2)  # bits (similarity 1 - 2d/256)
    return {
        "pdq": round(1.0 - 2.0 * (closest // 2) / 256, 6),
        "quality": SETTLED_QUALITY,
        "thumb": SETTLED_THUMB,
    }


def settles(rule: dict[str, float], data: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs whose hashes settle them under `rule` (not yet the cut: see `band_for`)."""
    return fusion.Settled(**rule).holds(data["raw:pdq"], data["raw:thumb"], data["quality"])


def band_for(
    without: np.ndarray,
    withgeo: np.ndarray,
    truth: np.ndarray,
    cut: float,
    settled: np.ndarray | None = None,
) -> tuple[float, float]:
    """The confidence range (before the check) where checking pays at `cut`: from the start
    of the run of pairs, in order of confidence, with the largest (fixed - spoiled - checks /
    CHECK_PAYS) (Kadane's maximum-sum run), up to 1. Pairs `settled` and above the cut are
    never checked, so they count nothing."""
    order = np.argsort(without, kind="stable")
    before = without[order] >= cut
    after = withgeo[order] >= cut
    label = truth[order]
    gain = (after == label).astype(float) - (before == label).astype(float) - 1.0 / CHECK_PAYS
    if settled is not None:
        gain[settled[order] & before] = 0.0
    best, best_span, run, start = 0.0, (1.0, 0.0), 0.0, 0
    for i, value in enumerate(gain):
        if run <= 0.0:
            run, start = 0.0, i
        run += value
        if run > best:
            best, best_span = run, (start, i)
    if best <= 0.0:
        return 1.0, 0.0
    # Upwards the band stays open: pairs the embedding is sure of include the look-alikes
    # (pages of one template, neighbouring tiles) that only the check tells apart, and how
    # many there are differs more between collections than the calibration halves show.
    low = without[order][int(best_span[0])]
    return float(np.floor(low * 1e4) / 1e4), 1.0


def checked(
    without: np.ndarray,
    withgeo: np.ndarray,
    truth: np.ndarray,
    cut: float,
    settled: np.ndarray | None = None,
) -> np.ndarray:
    """Confidence as scan gives it at `cut`: with the check inside that cut's band, except
    on pairs above the cut that their hashes settle."""
    low, high = band_for(without, withgeo, truth, cut, settled)
    run = (without >= low) & (without <= high)
    if settled is not None:
        run &= ~(settled & (without >= cut))
    return np.where(run, withgeo, without)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fusion")
    parser.add_argument("--split", default="calib")
    parser.add_argument(
        "--settled-only",
        action="store_true",
        help="only refit which hashes settle a pair (`settled`) into the model at --out",
    )
    args = parser.parse_args()

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
