"""Fit the grouped confidence (`src/neardup/group_confidence.json`) on calibration halves.

    python benchmarks/fit_group_confidence.py SET_DIR[=CACHE] [...] [--out PATH] [--work DIR]
        [--presets P ...] [--weigh halves|pairs]

Each SET_DIR holds a `truth.json`; only its `calib` split is scanned (no number is chosen on a
test half), at each preset's cut, with every scored pair kept (`floor` 0) and the maps off, so
each pair's own confidence is read. Each pair is labelled from the truth and sorted by family
(two pages or pictures) and relation to the scan's groups (`neardup.group_confidence`); per
(cut, family, relation) an isotonic regression maps the own confidence to the share of
duplicates, every half weighing the same (pairs weighted by 1 / its pair count; `--weigh
pairs`: every pair the same, which read no better, RESULTS.md, session 41). Before the
final fit, a 2-fold check by half (fit on every other half, scored on the rest) prints the
expected calibration error of the own and the mapped confidence on halves the map did not see.

Refit after `fit_fusion.py`: the maps carry the fusion's fingerprint, and another fusion leaves
them unused. A scan per half and preset is cached in --work, under that fingerprint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ["NEARDUP_GROUP_CONFIDENCE"] = ""  # the own confidence: maps off while fitting

from sklearn.isotonic import IsotonicRegression

from neardup import scan
from neardup.eval import load_truth
from neardup.fusion import key_of
from neardup.group_confidence import (
    FAMILIES,
    MAP_FILE,
    MAP_VERSION,
    RELATIONS,
    family,
    fusion_id,
    group_index,
    relation,
)
from neardup.scoring import DEFAULT_METHODS, PRESETS

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "src" / "neardup" / MAP_FILE
FAMILY = {name: n for n, name in enumerate(FAMILIES)}
RELATION = {name: n for n, name in enumerate(RELATIONS)}
BINS = 10
Maps = dict[tuple[int, int], IsotonicRegression]


def half_pairs(set_arg: str, preset: str, work: Path) -> dict[str, np.ndarray]:
    """Own confidence, family, relation and label of every scored pair of one calib half."""
    set_dir, _, cache = set_arg.partition("=")
    cached = work / f"grouped-v1-{fusion_id()}-{Path(set_dir).name}-{preset}.npz"
    if cached.exists():
        return dict(np.load(cached))
    truth = load_truth(str(Path(set_dir) / "truth.json"))
    images = truth.subset("calib")
    result = scan(sorted(images), preset=preset, cache=cache or False, floor=0.0, differences=False)
    group_of = group_index(result.groups)
    paths = [os.path.realpath(f.path) for f in result.images]
    rows = []
    for pair in result.pairs:
        if pair.evidence == "exact":  # kept at 1.0, not mapped
            continue
        a, b = images.get(paths[pair.a]), images.get(paths[pair.b])
        label = a is not None and b is not None and a.group is not None and a.group == b.group
        rows.append(
            (
                pair.confidence,
                FAMILY[family(result.images, pair)],
                RELATION[relation(group_of, pair.a, pair.b)],
                label,
            )
        )
    data = np.array(rows, dtype=np.float64).reshape(-1, 4)
    out = {"own": data[:, 0], "family": data[:, 1], "relation": data[:, 2], "label": data[:, 3]}
    work.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cached, **out)
    print(f"{Path(set_dir).name} {preset}: {len(rows)} pairs", file=sys.stderr)
    return out


def fit_maps(halves: list[dict[str, np.ndarray]], weigh: str = "halves") -> Maps:
    """One isotonic map per (family, relation) over the halves, each half weighing the same
    (`weigh` "halves"), or each pair (`weigh` "pairs")."""
    out = {}
    for fam in FAMILY.values():
        for rel in RELATION.values():
            xs, ys, ws = [], [], []
            for half in halves:
                rows = (half["family"] == fam) & (half["relation"] == rel)
                xs.append(half["own"][rows])
                ys.append(half["label"][rows])
                each = 1.0 if weigh == "pairs" else 1.0 / max(len(half["own"]), 1)
                ws.append(np.full(int(rows.sum()), each))
            x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            out[fam, rel] = iso.fit(x, y, sample_weight=w) if len(x) else iso.fit([0, 1], [0, 1])
    return out


def mapped(
    maps: dict[tuple[int, int], IsotonicRegression], half: dict[str, np.ndarray]
) -> np.ndarray:
    out = np.empty_like(half["own"])
    for (fam, rel), iso in maps.items():
        rows = (half["family"] == fam) & (half["relation"] == rel)
        if rows.any():
            out[rows] = iso.predict(half["own"][rows])
    return out


def ece(confidence: np.ndarray, label: np.ndarray) -> float:
    """Pair-weighted mean gap between confidence and the share of duplicates, per bin."""
    bins = np.minimum((confidence * BINS).astype(int), BINS - 1)
    total = 0.0
    for b in np.unique(bins):
        rows = bins == b
        total += rows.sum() * abs(confidence[rows].mean() - label[rows].mean())
    return float(total / max(len(confidence), 1))


def cross_check(preset: str, halves: list[dict[str, np.ndarray]], weigh: str) -> None:
    """ECE of own and mapped confidence on halves the map was not fitted on, per family."""
    for fam, n in FAMILY.items():
        own, fitted = [], []
        for fold in (0, 1):
            train = [h for k, h in enumerate(halves) if k % 2 != fold]
            maps = fit_maps(train, weigh)
            for k, half in enumerate(halves):
                rows = half["family"] == n
                if k % 2 == fold and rows.any():
                    new = mapped(maps, half)[rows]
                    own.append(ece(half["own"][rows], half["label"][rows]))
                    fitted.append(ece(new, half["label"][rows]))
        if own:
            print(
                f"{preset} {fam}: ECE out of fold, mean over {len(own)} halves: "
                f"own {np.mean(own):.4f}, grouped {np.mean(fitted):.4f}"
            )


def knots(iso: IsotonicRegression) -> list[list[float]]:
    return [
        [round(float(v), 4) for v in iso.X_thresholds_],
        [round(float(v), 4) for v in iso.y_thresholds_],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", help="SET_DIR, or SET_DIR=CACHE (a feature cache)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "grouped")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument(
        "--weigh",
        choices=("halves", "pairs"),
        default="halves",
        help="each calibration half weighs the same (the shipped maps), or each pair",
    )
    args = parser.parse_args()
    spec: dict[str, object] = {
        "version": MAP_VERSION,
        "methods": key_of(DEFAULT_METHODS),  # what `scan` ran with: its default methods
        "fusion": fusion_id(),  # the fusion whose own confidence was read
        "fitted_on": [Path(s.partition("=")[0]).name for s in args.sets],
        "maps": {},
    }
    maps_out: dict[str, object] = {}
    for preset in args.presets:
        halves = [half_pairs(s, preset, args.work) for s in args.sets]
        cross_check(preset, halves, args.weigh)
        maps = fit_maps(halves, args.weigh)
        maps_out[str(PRESETS[preset])] = {
            fam: {rel: knots(maps[FAMILY[fam], RELATION[rel]]) for rel in RELATIONS}
            for fam in FAMILIES
        }
        for fam in FAMILIES:
            counts = {
                rel: sum(
                    int(((h["family"] == FAMILY[fam]) & (h["relation"] == RELATION[rel])).sum())
                    for h in halves
                )
                for rel in RELATIONS
            }
            print(f"{preset} {fam} pairs per relation: {counts}")
    spec["maps"] = maps_out
    args.out.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
