"""Score the default scan on evaluation sets generated at seeds never looked at before.

    python benchmarks/docs_seeds.py OUTDIR --seeds 3 4 5 [--set graphics ...] [--cache-dir DIR]

For each seed and generator (documents unless `--set` names others: any of docs, graphics,
mixed, photos, held, original and blind), the set is generated into OUTDIR/eval-SETN (skipped where
it exists: `make_set_SET.py`, `make_set_held.py --sources benchmarks/work/held`, and
`make_eval_set.py` for the original set), then each half scanned at the default preset and
scored: group and pair precision / recall, the weakest edit kind. Which families fall in which
half changes with the seed, so a seed's two halves are two draws of the same generator; a rule
fitted on one seed's calibration half (the documents sets 0 and 2) is checked here on pages it
never saw (RESULTS.md, session 31: the figures do not carry). Sessions since 45 draw all
six at a new seed before judging a rule on them (README, "Since session 45"), with this
script since session 51.
The generators other than the original draw their sources' halves from the seed too (their
sources under benchmarks/work, fetched by the fetch_*_sources.sh scripts). Caches are kept
per set and half in --cache-dir, if given (the wall column then times only what the cache did
not hold: not a speed figure).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neardup import scan
from neardup.eval import EvalReport, evaluate, load_truth
from neardup.scoring import PRESETS

HERE = Path(__file__).resolve().parent
GENERATORS = ("docs", "graphics", "mixed", "photos", "held", "original", "blind")
"""The generators that take a seed (games is a fixed set); blind: `make_set_blind.py`, its
sources where `fetch_blind_sources.sh` unpacks them (its default)."""


def generator_command(name: str, folder: Path, seed: int) -> list[str]:
    """The command that generates set `name` at `seed` into `folder` (run from the checkout:
    the generators' sources are under it)."""
    script = "make_eval_set.py" if name == "original" else f"make_set_{name}.py"
    sources = ["--sources", str(HERE / "work" / "held")] if name == "held" else []
    return [
        sys.executable,
        str(HERE / script),
        str(folder.resolve()),
        *sources,
        "--seed",
        str(seed),
    ]


def scored(
    truth_file: Path, split: str, cache: str, cut: float | None = None
) -> tuple[EvalReport, int, float]:
    """(report, images, seconds) of the scan of one half at `cut` (default: the default
    preset's)."""
    truth = load_truth(str(truth_file))
    paths = sorted(truth.subset(split))
    cut = PRESETS["default"] if cut is None else cut
    started = time.perf_counter()
    result = scan(paths, threshold=cut, cache=cache, differences=False)
    seconds = time.perf_counter() - started
    pairs = [(result.path(p.a), result.path(p.b), p.confidence) for p in result.pairs]
    groups = [
        [result.path(g.keeper), *(result.path(i) for i, _ in g.members)] for g in result.groups
    ]
    return evaluate(truth, pairs, threshold=cut, split=split, groups=groups), len(paths), seconds


def row(label: str, split: str, report: EvalReport, images: int, seconds: float) -> str:
    """One table row (`label`: the seed, or the set and seed): groups and pairs P / R, the
    weakest kind by group recall."""
    assert report.groups is not None
    kinds = [k for k in report.groups_per_kind if not math.isnan(k.recall)]
    worst = min(kinds, key=lambda k: k.recall) if kinds else None
    weakest = "-" if worst is None else f"{worst.recall:.3f} ({worst.kind})"
    g, p = report.groups, report.overall
    return (
        f"| {label} | {split} | {images} | {g.precision:.3f} / {g.recall:.3f} | "
        f"{p.precision:.3f} / {p.recall:.3f} | {weakest} | {seconds:.0f} s |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="folder for the generated sets")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--cache-dir", type=Path, help="keep each half's cache here")
    ap.add_argument(
        "--set", nargs="+", default=["docs"], choices=GENERATORS, help="which generators"
    )
    args = ap.parse_args()
    lines = [
        "| set seed | half | images | groups P / R | pairs P / R | weakest kind (group R) | wall |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for name in args.set:
                folder = args.out / f"eval-{name}{seed}"
                if not (folder / "truth.json").exists():
                    subprocess.run(
                        generator_command(name, folder, seed),
                        check=True,
                        stdout=subprocess.DEVNULL,
                        cwd=HERE.parent,
                    )
                for split in ("calib", "test"):
                    where = args.cache_dir or Path(tmp)
                    cache = str(where / f"{name}{seed}-{split}.sqlite")
                    report = scored(folder / "truth.json", split, cache)
                    lines.append(row(f"{name} {seed}", split, *report))
                    print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
