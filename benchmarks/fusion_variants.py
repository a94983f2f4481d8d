"""Variants of the fusion fit tried and not kept, so each figure in RESULTS.md can be re-made.

    python benchmarks/fusion_variants.py fit VARIANT SET_DIR... --work DIR
    python benchmarks/fusion_variants.py cuts WORK_DIR [WORK_DIR ...]
    python benchmarks/fusion_variants.py prior-shift SET_NAME... --work DIR
    python benchmarks/fusion_variants.py sift SET_DIR --work DIR

`fit` runs `fit_fusion.py` unchanged but for one thing (its log's preset lines are what the
rules judged), into `--work` (copy or link the shipped pair caches there first, except for
`side-*`, whose check features must be recomputed):
- `both-sscd`: the default model with the full SSCD score beside the distilled one;
- `full-sscd`: the full SSCD model instead of the distilled one;
- `side-192`, `side-160`: the geometric check at that decode side instead of `VERIFY_SIDE`;
- `centred`: centred isotonic calibration (Oron & Flournoy 2017): each flat block of the
  isotonic map becomes one point at its rows' mean score, linear in between.
`cuts` prints, per fit, the duplicate and false pairs passing at cuts around the default and the
largest plateaus of equal confidence (an isotonic map's flat blocks) above 0.9. `prior-shift`
re-weights each set's out-of-fold confidences by its own duplicate share estimated by EM
(Saerens, Latinne & Decaestecker 2002). `sift` counts, on one calibration half, the pairs the
check leaves undecided that SIFT corners (where ORB finds too few) would decide. Calibration
halves only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import fit_fusion
import numpy as np
from fusion_band import checked, settled_rule, settles
from sklearn.isotonic import IsotonicRegression

from neardup import verify
from neardup.engines.local import LocalEngine
from neardup.eval import load_truth
from neardup.index.neighbours import pairs_within
from neardup.pipeline import compute_features, feature_config
from neardup.scoring import ALL_METHODS
from neardup.sources import collect

SETS = ("eval-data", "eval-graphics", "eval-photos", "eval-mixed")
CUTS = (0.93, 0.94, 0.95, 0.952, 0.953, 0.96)


def centred_points(oof: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred isotonic regression's points: one per flat block of the isotonic fit."""
    order = np.argsort(oof, kind="stable")
    x, y = oof[order], label[order].astype(float)
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y).predict(x)
    starts = np.r_[0, np.flatnonzero(np.diff(fitted) != 0) + 1]
    ends = np.r_[starts[1:], len(x)]
    xs = np.r_[x[0], [x[s:e].mean() for s, e in zip(starts, ends, strict=True)], x[-1]]
    ys = np.r_[fitted[0], fitted[starts], fitted[-1]]
    keep = np.r_[True, np.diff(xs) > 0]  # np.interp needs rising xs
    return xs[keep], ys[keep]


def centred_calibrate(record: dict[str, Any], oof: np.ndarray, label: np.ndarray) -> np.ndarray:
    xs, ys = centred_points(oof, label)
    record["calibration"] = [[round(float(v), 6) for v in xs], [round(float(v), 6) for v in ys]]
    return np.interp(oof, *(np.array(v) for v in record["calibration"]))


def fit(variant: str, sets: list[str], work: Path) -> None:
    if variant in ("both-sscd", "full-sscd"):
        key = "sscd_distilled+sscd+pdq" if variant == "both-sscd" else "sscd+pdq"
        fit_fusion.KEYS = (key,)
        fit_fusion.GEOMETRY_KEYS = (key,)
        fit_fusion.DEFAULT_KEY = key
    elif variant.startswith("side-"):
        verify.VERIFY_SIDE = int(variant.removeprefix("side-"))  # forked workers inherit it
    elif variant == "centred":
        fit_fusion.calibrate = centred_calibrate
    else:
        raise SystemExit(f"unknown variant {variant}")
    sys.argv = ["fit_fusion.py", *sets, "--work", str(work), "--out", str(work / "fm.json")]
    fit_fusion.main()


def joined(work: Path) -> dict[str, np.ndarray]:
    parts = [dict(np.load(work / f"pairs-v7-{s}-calib.npz")) for s in SETS]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def cuts(works: list[Path]) -> None:
    for work in works:
        data = joined(work)
        settled = settles(settled_rule(data), data)
        z = np.load(work / "out_of_fold.npz")
        without, withgeo, label = z["without"], z["withgeo"], z["label"]
        row = []
        for cut in CUTS:
            passed = checked(without, withgeo, label, cut, settled) >= cut
            row.append(f"{cut}: {int((passed & label).sum())} / {int((passed & ~label).sum())}")
        top = np.round(withgeo[(withgeo > 0.9) & (withgeo < 1)], 6)
        values, counts = np.unique(top, return_counts=True)
        plateaus = sorted(zip(counts.tolist(), values.tolist(), strict=True))[-3:]
        print(f"{work.name}: duplicates / false at cut  " + ", ".join(row))
        print(f"  largest plateaus above 0.9 (pairs, confidence): {plateaus}")


def adapt(p: np.ndarray, prior: float) -> tuple[np.ndarray, float]:
    """EM for a collection's duplicate share; confidences re-weighted to it."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    share, q = float(p.mean()), p
    for _ in range(200):
        a, b = share / prior * p, (1 - share) / (1 - prior) * (1 - p)
        q = a / (a + b)
        if abs(float(q.mean()) - share) < 1e-9:
            break
        share = float(q.mean())
    return q, share


def ece(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(expected calibration error, largest gap of a tenth-wide bin of >= 16 pairs)."""
    bins = np.minimum((p * 10).astype(int), 9)
    error, gaps = 0.0, [0.0]
    for b in range(10):
        rows = bins == b
        if rows.any():
            gap = abs(float(p[rows].mean() - y[rows].mean()))
            error += rows.mean() * gap
            gaps += [gap] if rows.sum() >= 16 else []
    return error, max(gaps)


def prior_shift(names: list[str], work: Path, cut: float) -> None:
    z = np.load(work / "out_of_fold.npz")
    confidence, label = z["withgeo"], z["label"]
    start = 0
    for name in names:
        size = len(np.load(work / f"pairs-v7-{name}-calib.npz")["label"])
        p, y = confidence[start : start + size], label[start : start + size]
        start += size
        q, share = adapt(p, float(label.mean()))
        for kind, c in (("as fitted", p), ("adapted", q)):
            error, gap = ece(c, y)
            tp, fp = int(((c >= cut) & y).sum()), int(((c >= cut) & ~y).sum())
            print(
                f"{name} {kind}: share {y.mean():.4f} (EM {share:.4f}) ECE {error:.4f} "
                f"largest gap {gap:.3f} duplicates / false at {cut}: {tp} / {fp}"
            )


class SiftVerifier(verify.Verifier):
    """The check with SIFT corners where ORB finds too few (L2 ratio matches for them)."""

    sift = cv2.SIFT_create(nfeatures=400, contrastThreshold=0.01)  # type: ignore[attr-defined]

    def _describe(self, grey: Any) -> Any:
        found = super()._describe(grey)
        if found is not None and len(found[0]) >= verify.MIN_KEYPOINTS:
            return found
        return self._sift(grey) or found

    def _sift(self, grey: Any) -> Any:
        points, descriptors = self.sift.detectAndCompute(grey, None)
        if descriptors is None or len(points) < verify.MIN_INLIERS:
            return None
        xy = np.array([p.pt for p in points], dtype=np.float32)
        return xy, descriptors, (grey.shape[1], grey.shape[0])

    def _match(self, ka: Any, kb: Any) -> verify.Geometry:
        if (ka[1].dtype == np.float32) != (kb[1].dtype == np.float32):  # one ORB, one SIFT
            ka = ka if ka[1].dtype == np.float32 else self._resift(ka)
            kb = kb if kb[1].dtype == np.float32 else self._resift(kb)
            if ka is None or kb is None:
                return verify.Geometry(0, 0, 0.0, 0.0)
        return super()._match(ka, kb)

    def _resift(self, k: Any) -> Any:
        found = self._sift(k[3])
        return None if found is None else (*found, k[3])


def l2_or_hamming(des_a: Any, des_b: Any) -> tuple[Any, Any]:
    if des_a.dtype != np.float32:
        return HAMMING(des_a, des_b)
    found = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_a, des_b, k=2)
    good = [m[0] for m in found if len(m) == 2 and m[0].distance < verify.RATIO * m[1].distance]
    return np.array([m.queryIdx for m in good], int), np.array([m.trainIdx for m in good], int)


HAMMING = verify.ratio_matches


def sift(set_dir: Path, work: Path) -> None:
    verify.ratio_matches = l2_or_hamming
    data = dict(np.load(work / f"pairs-v7-{set_dir.name}-calib.npz"))
    truth = load_truth(str(set_dir / "truth.json"))
    found = collect(sorted(truth.subset("calib")))
    images, _, _ = compute_features(
        found.files, feature_config(ALL_METHODS), work / "features.sqlite", LocalEngine()
    )
    pairs = sorted(pairs_within(images, ALL_METHODS, "sscd_distilled"))
    rows = sorted(np.flatnonzero(np.isnan(data["geometry"])), key=lambda r: pairs[r])
    checker, start = SiftVerifier(), time.perf_counter()
    out = {r: checker.check(images[pairs[r][0]].path, images[pairs[r][1]].path) for r in rows}
    label = data["label"]
    print(f"{set_dir.name}: {len(rows)} undecided pairs, {time.perf_counter() - start:.0f} s")
    for name, want in (("duplicates", True), ("non-duplicates", False)):
        mine = [r for r in rows if label[r] == want]
        decided = [r for r in mine if out[r] is not None]
        framed = [r for r in decided if out[r].score >= 0.5]  # type: ignore[union-attr]
        print(f"  {name}: {len(mine)} undecided, {len(decided)} decided, {len(framed)} framed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("fit", "cuts", "prior-shift", "sift"))
    parser.add_argument("args", nargs="+")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--cut", type=float, default=0.952)
    args = parser.parse_args()
    if args.command == "fit":
        fit(args.args[0], [str(Path(s).resolve()) for s in args.args[1:]], args.work)
    elif args.command == "cuts":
        cuts([Path(w) for w in args.args])
    elif args.command == "prior-shift":
        prior_shift(args.args, args.work, args.cut)
    else:
        sift(Path(args.args[0]).resolve(), args.work)


if __name__ == "__main__":
    main()
