"""Choose a preset's cut by the groups of the calibration halves, against a reference fusion.

    python benchmarks/choose_cut.py SET_DIR[=CACHE] ... --cuts 0.75 0.8 0.85 \
        [--preset default] [--reference MODEL]

`fit_fusion.py` derives each preset's cut from pair precision, but the groups, not the pairs,
are what a scan reports, and the grouping keeps look-alike pairs apart. So a refitted
fusion's cuts (NEARDUP_FUSION_MODEL, else the shipped one) are chosen here: each set's
calibration half is scanned at each cut (no test half is read), and the mean groups
precision / recall over the picture sets and over the documents sets (a name with `docs`) are
printed beside the reference fusion's at its own cut for the same preset. The chosen cut is
the lowest whose mean precision reaches the reference's in both families; `fit_fusion.py
--cut PRESET=CUT` then ships it (RESULTS.md, session 37: the 40-half fusion, default 0.85,
strict 0.991, loose 0.50). A cut that is not a row of the model's verify table runs the check
in the nearest row's band; session 37 scanned each candidate with a model refitted with
`--cut` at it, so its rows were exact.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from docs_seeds import scored

from neardup.scoring import PRESETS

Means = dict[str, tuple[float, float, int]]


def means(sets: list[str], cut: float | None, cache_dir: Path) -> Means:
    """Mean groups (precision, recall, halves) per family over the sets' calibration halves."""
    sums: dict[str, list[float]] = {}
    for item in sets:
        folder, _, cache = item.partition("=")
        name = Path(folder).name
        cache = cache or str(cache_dir / f"{name}-calib.sqlite")
        report, _, _ = scored(Path(folder) / "truth.json", "calib", cache, cut)
        assert report.groups is not None
        row = sums.setdefault("documents" if "docs" in name else "pictures", [0.0, 0.0, 0])
        row[0] += report.groups.precision
        row[1] += report.groups.recall
        row[2] += 1
    return {k: (p / n, r / n, int(n)) for k, (p, r, n) in sums.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+", help="SET_DIR, or SET_DIR=CACHE (a feature cache)")
    ap.add_argument("--cuts", type=float, nargs="+", help="cuts to try (omit: the preset's)")
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS))
    ap.add_argument("--reference", type=Path, help="the fusion model to reach (e.g. shipped)")
    ap.add_argument("--cache-dir", type=Path, help="caches of sets given without one")
    ap.add_argument("--json", action="store_true", help="print the means as JSON (internal)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or Path(tmp)
        if args.json:  # the reference's run, in its own process (one fusion per process)
            print(json.dumps(means(args.sets, PRESETS[args.preset], cache_dir)))
            return 0
        reference: Means = {}
        if args.reference is not None:
            command = [sys.executable, __file__, *args.sets, "--json", "--preset", args.preset]
            command += ["--cache-dir", str(cache_dir)]
            env = os.environ | {"NEARDUP_FUSION_MODEL": str(args.reference)}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            reference = {k: tuple(v) for k, v in json.loads(out.stdout).items()}  # type: ignore[misc]
            for family, (p, r, n) in sorted(reference.items()):
                print(f"reference  {family}: groups P {p:.5f} R {r:.5f} ({n} halves)")
        chosen = None
        for cut in sorted(args.cuts or [PRESETS[args.preset]]):
            found = means(args.sets, cut, cache_dir)
            for family, (p, r, n) in sorted(found.items()):
                print(f"cut {cut}  {family}: groups P {p:.5f} R {r:.5f} ({n} halves)")
            reaches = all(found[f][0] >= reference[f][0] for f in reference if f in found)
            if reference and reaches and chosen is None:
                chosen = cut
        if reference:
            print(f"lowest cut reaching the reference's precision: {chosen}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
