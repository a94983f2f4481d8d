"""Benchmark `neardup scan` against peers on the evaluation set, all in one run.

    python benchmarks/run_scan_bench.py eval-data [--repeat 1] [--out benchmarks/scan_results.json]

Each tool runs cold in its own subprocess on the same folder (neardup with --no-cache, at its
default preset), on all cores; wall time and peak RSS come from os.wait4. Every tool's output
is scored with `neardup.eval` against the same truth file (test split and whole set), twice:
its pairs, and the pairs its groups imply (for Immaculate, which reports groups, the same).
neardup's reliability table (confidence against the share of true duplicates) is kept too.
Peers: Immaculate (`pip install "immaculate[sscd]"`: methods pdq, sscd_distilled, sscd) and a
plain imagehash pHash baseline (pairs within Hamming distance 8 of 64, checked exhaustively).
Prints a Markdown table with ratios against Immaculate sscd_distilled and pdq, and each tool's
CPU seconds (user + system of the process and its workers: steadier than wall time on a busy
machine). `--baseline DIR` also runs another checkout of neardup (say an older commit, from
`git archive`) in the same run and reports whether its pairs, confidences and groups equal
this checkout's.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import neardup
from neardup.eval import EvalReport, evaluate, load_truth
from neardup.scoring import PRESETS

HERE = Path(__file__).resolve().parent
PHASH_SCRIPT = """
import json, sys, itertools
from pathlib import Path
import imagehash
from PIL import Image
root = Path(sys.argv[1]); radius = int(sys.argv[2])
exts = {'.jpg', '.jpeg', '.png', '.gif', '.bmp', '.tif', '.tiff', '.webp'}
hashes = []
for path in sorted(p for p in root.rglob('*') if p.suffix.lower() in exts):
    try:
        with Image.open(path) as im:
            hashes.append((str(path), imagehash.phash(im.convert('RGB'))))
    except Exception:
        pass
pairs = [(a, b, 1 - (ha - hb) / 64) for (a, ha), (b, hb) in itertools.combinations(hashes, 2)
         if ha - hb <= radius]
json.dump(pairs, sys.stdout)
"""


@dataclass
class Run:
    name: str
    seconds: float
    peak_mb: float
    cpu: float
    """User + system CPU seconds of the process and its workers: less sensitive to other load."""
    pairs: list[tuple[str, str, float]]
    groups: list[list[str]]


def timed(
    command: list[str], stdout_path: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Run a command, stdout to a file; (wall seconds, peak RSS MiB of the process tree's max,
    CPU seconds: user + system of the process and the children it waited for)."""
    with stdout_path.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{command} failed with {status}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def neardup_run(
    name: str, root: Path, tmp: Path, extra: list[str], source: Path | None = None
) -> Run:
    """neardup's CLI on `root`; `source` runs another checkout's code (its `src` folder)."""
    out = tmp / f"{name}.json".replace(" ", "_")
    command = [sys.executable, "-m", "neardup", "scan", str(root), "--no-cache", "--quiet"]
    command += ["--json", str(out), *extra]
    env = None if source is None else os.environ | {"PYTHONPATH": str(source / "src")}
    seconds, peak, cpu = timed(command, tmp / f"{name}.stdout", env)
    data = json.loads(out.read_text())
    pairs = [(p["a"], p["b"], float(p["confidence"])) for p in data["pairs"]]
    groups = [[g["keeper"]["path"], *(m["path"] for m in g["members"])] for g in data["groups"]]
    return Run(name, seconds, peak, cpu, pairs, groups)


def immaculate_run(method: str, root: Path, tmp: Path) -> Run:
    out = tmp / f"immaculate-{method}.json"
    command = [sys.executable, "-m", "immaculate", str(root), "--json", "--method", method]
    seconds, peak, cpu = timed(command, out)
    data = json.loads(out.read_text())
    pairs = []
    for group in data["exact"] + data["near"]:
        pairs += [(a, b, 1.0) for a, b in itertools.combinations(group, 2)]
    return Run(f"immaculate {method}", seconds, peak, cpu, pairs, data["exact"] + data["near"])


def phash_run(root: Path, tmp: Path, radius: int = 8) -> Run:
    out = tmp / "phash.json"
    seconds, peak, cpu = timed([sys.executable, "-c", PHASH_SCRIPT, str(root), str(radius)], out)
    pairs = [tuple(p) for p in json.loads(out.read_text())]
    groups = [[a, b] for a, b, _ in pairs]  # pairs only: each pair counts as its own group
    return Run(f"imagehash phash (d<={radius})", seconds, peak, cpu, pairs, groups)  # type: ignore[arg-type]


def scores(report: EvalReport, groups: bool = False) -> tuple[float, float, float, str]:
    """Precision, recall, the worst edit kind's recall and its name (pairs or groups)."""
    kinds = report.groups_per_kind if groups else report.per_kind
    overall = report.groups if groups and report.groups is not None else report.overall
    worst = min(
        ((k.recall, k.kind) for k in kinds if k.recall == k.recall and k.true_pairs),
        default=(0.0, "-"),
    )
    return overall.precision, overall.recall, worst[0], worst[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder holding truth.json (make_eval_set.py)")
    parser.add_argument("--out", type=Path, default=HERE / "scan_results.json")
    parser.add_argument("--skip-sscd-full", action="store_true", help="skip Immaculate sscd")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run every tool N times, interleaved; median time"
    )
    parser.add_argument("--skip-phash", action="store_true", help="skip the imagehash baseline")
    parser.add_argument(
        "--fast-only",
        action="store_true",
        help="only the hash passes: neardup --method pdq against Immaculate pdq",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another neardup checkout (e.g. an older commit): its default and pdq scans run too",
    )
    args = parser.parse_args()
    if args.baseline and not (args.baseline / "src" / "neardup").is_dir():
        # Else the baseline's scans would import the installed neardup: this checkout, twice.
        parser.error(f"--baseline {args.baseline} holds no src/neardup (a checkout or git archive)")
    # Bytecode as an installed package has it (pip compiles on install): a checkout run under
    # PYTHONDONTWRITEBYTECODE would otherwise recompile its ~100 modules at every start.
    sources = [Path(neardup.__file__).parent]
    if args.baseline:
        sources.append(args.baseline / "src" / "neardup")
    for source in sources:
        compileall.compile_dir(source, quiet=1)
    truth_path = args.data / "truth.json"
    truth = load_truth(str(truth_path))
    root = args.data / "images" if (args.data / "images").is_dir() else args.data
    presets = dict(PRESETS)
    tools = [
        lambda tmp: neardup_run("neardup default", root, tmp, []),
        lambda tmp: neardup_run("neardup --method pdq", root, tmp, ["--method", "pdq"]),
        lambda tmp: immaculate_run("sscd_distilled", root, tmp),
        lambda tmp: immaculate_run("pdq", root, tmp),
    ]
    if args.fast_only:
        tools = [tools[1], tools[3]]
    if args.baseline:
        base_src = args.baseline
        if not args.fast_only:
            tools.insert(2, lambda tmp: neardup_run("baseline default", root, tmp, [], base_src))
        tools.insert(
            len(tools) - (1 if args.fast_only else 2),
            lambda tmp: neardup_run(
                "baseline --method pdq", root, tmp, ["--method", "pdq"], base_src
            ),
        )
    if not args.skip_sscd_full and not args.fast_only:
        tools.append(lambda tmp: immaculate_run("sscd", root, tmp))
    if not args.skip_phash and not args.fast_only:
        tools.append(lambda tmp: phash_run(root, tmp))
    trials: list[list[Run]] = [[] for _ in tools]
    with tempfile.TemporaryDirectory() as name:
        for _ in range(max(1, args.repeat)):  # interleaved, so drift hits every tool alike
            for n, tool in enumerate(tools):
                trials[n].append(tool(Path(name)))
    runs = []
    for trial in trials:
        ordered = sorted(trial, key=lambda r: r.seconds)
        median = ordered[len(ordered) // 2]
        peak = max(r.peak_mb for r in trial)
        cpu = sorted(r.cpu for r in trial)[len(trial) // 2]
        runs.append(Run(median.name, median.seconds, peak, cpu, median.pairs, median.groups))
    base = {r.name: r for r in runs}
    names = [r.name for r in runs]
    reference = "immaculate pdq" if args.fast_only else "immaculate sscd_distilled"
    reference_trials = trials[names.index(reference)]
    rows = []
    for n, run in enumerate(runs):
        ours = run.name.startswith(("neardup", "baseline"))
        cut = presets["default"] if ours else 0.0
        whole = evaluate(truth, run.pairs, threshold=cut, groups=run.groups)
        test = evaluate(truth, run.pairs, threshold=cut, split="test", groups=run.groups)
        p, r, worst, _ = scores(whole)
        tp, tr, tworst, tworst_kind = scores(test)
        gp, gr, gworst, gworst_kind = scores(test, groups=True)
        rows.append(
            {
                "tool": run.name,
                "seconds": round(run.seconds, 2),
                "cpu_seconds": round(run.cpu, 2),
                "seconds_all": [round(r.seconds, 2) for r in trials[n]],
                ("x_imm_pdq_all" if args.fast_only else "x_imm_distilled_all"): [
                    round(r.seconds / d.seconds, 2)
                    for r, d in zip(trials[n], reference_trials, strict=True)
                ],
                "peak_mb": round(run.peak_mb, 1),
                "x_imm_distilled": round(run.seconds / base[reference].seconds, 2)
                if reference == "immaculate sscd_distilled"
                else None,
                "x_imm_pdq": round(run.seconds / base["immaculate pdq"].seconds, 2),
                "precision": round(p, 4),
                "recall": round(r, 4),
                "worst_kind_recall": round(worst, 4),
                "test_precision": round(tp, 4),
                "test_recall": round(tr, 4),
                "test_worst_kind_recall": round(tworst, 4),
                "test_worst_kind": tworst_kind,
                "test_group_precision": round(gp, 4),
                "test_group_recall": round(gr, 4),
                "test_group_worst_kind_recall": round(gworst, 4),
                "test_group_worst_kind": gworst_kind,
                "test_group_recall_per_kind": {
                    k.kind: round(k.recall, 3) for k in test.groups_per_kind if k.true_pairs
                },
                "per_kind_recall": {k.kind: round(k.recall, 3) for k in whole.per_kind},
                "test_reliability": [
                    [b.low, b.high, b.pairs, round(b.confidence, 3), round(b.duplicates, 3)]
                    for b in test.reliability
                ]
                if ours
                else [],
            }
        )
    same_as_baseline = {
        kind: sorted(base[f"neardup {kind}"].pairs) == sorted(base[f"baseline {kind}"].pairs)
        and base[f"neardup {kind}"].groups == base[f"baseline {kind}"].groups
        for kind in ("default", "--method pdq")
        if f"baseline {kind}" in base
    }
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "images": len(truth.images),
        "repeat": args.repeat,
        "rows": rows,
        "same_pairs_and_groups_as_baseline": same_as_baseline,
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{result['date']}, {machine}, {len(truth.images)} images, median of {args.repeat}\n")
    print(
        "| tool | wall s | x Imm. distilled | x Imm. pdq | CPU s | peak MiB | test pairs P / R "
        "| test groups P / R | worst kind (groups, test) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['tool']} | {row['seconds']} | {row['x_imm_distilled'] or '-'} "
            f"| {row['x_imm_pdq']} "
            f"| {row['cpu_seconds']} "
            f"| {row['peak_mb']} | {row['test_precision']} / {row['test_recall']} "
            f"| {row['test_group_precision']} / {row['test_group_recall']} "
            f"| {row['test_group_worst_kind_recall']} ({row['test_group_worst_kind']}) |"
        )
    for kind, same in same_as_baseline.items():
        print(f"\nneardup {kind}: pairs, confidences and groups identical to the baseline: {same}")
    for row in rows:
        if row["test_reliability"]:
            print(f"\n{row['tool']}: reliability on the test half")
            print("| confidence | pairs | mean confidence | duplicates |\n|---|---|---|---|")
            for low, high, n, mean, share in row["test_reliability"]:
                print(f"| {low:.1f}-{high:.1f} | {n} | {mean:.3f} | {share:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
