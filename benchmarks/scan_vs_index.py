"""One pipeline, checked on real sets: `neardup scan` and `neardup index build` + `index
duplicates` must give the same groups.

    python benchmarks/scan_vs_index.py eval-data eval-graphics [--out benchmarks/scan_vs_index.json]

Runs both front ends through the CLI on each set's images folder, in one feature cache (so the
features are computed once and the comparison is of candidates, scoring and grouping), and
compares the groups (as sets of paths), the keepers and the pairs. Prints one line per set.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _groups(result: dict[str, object]) -> set[frozenset[str]]:
    groups = result["groups"]
    assert isinstance(groups, list)
    return {frozenset([g["keeper"]["path"], *(m["path"] for m in g["members"])]) for g in groups}


def _pairs(result: dict[str, object]) -> set[frozenset[str]]:
    pairs = result["pairs"]
    assert isinstance(pairs, list)
    return {frozenset((p["a"], p["b"])) for p in pairs}


def _run(*argv: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "neardup", *argv], capture_output=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"neardup {' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - start


def compare(images: Path, work: Path) -> dict[str, object]:
    # Absolute: scan reports paths as given, the index as stored (absolute).
    images = images.resolve()
    cache = str(work / "features.sqlite")
    scan_s = _run("scan", str(images), "-q", "--cache", cache, "--json", str(work / "scan.json"))
    build_s = _run("index", "build", str(images), "--index", str(work / "idx"), "--cache", cache)
    dup_s = _run(
        "index", "duplicates", "--index", str(work / "idx"), "--json", str(work / "index.json")
    )
    scan = json.loads((work / "scan.json").read_text())
    index = json.loads((work / "index.json").read_text())
    a, b = _groups(scan), _groups(index)
    keepers_a = {g["keeper"]["path"] for g in scan["groups"]}
    keepers_b = {g["keeper"]["path"] for g in index["groups"]}
    return {
        "images": scan["stats"]["images"],
        "groups_scan": len(a),
        "groups_index": len(b),
        "groups_identical": a == b,
        "groups_only_scan": len(a - b),
        "groups_only_index": len(b - a),
        "keepers_identical": keepers_a == keepers_b,
        "pairs_scan": len(_pairs(scan)),
        "pairs_identical": _pairs(scan) == _pairs(index),
        "seconds": {
            "scan": round(scan_s, 1),
            "build": round(build_s, 1),
            "duplicates": round(dup_s, 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="folders holding images/ (or images)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/scan_vs_index.json"))
    args = parser.parse_args()
    results = {}
    for folder in args.sets:
        images = folder / "images" if (folder / "images").is_dir() else folder
        with tempfile.TemporaryDirectory() as work:
            results[folder.name] = compare(images, Path(work))
        print(folder.name, json.dumps(results[folder.name]))
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if all(r["groups_identical"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
