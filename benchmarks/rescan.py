"""A rescan of an unchanged folder: cold, warm with features only, warm with the pair cache.

    python benchmarks/rescan.py SET [SET ...] --out benchmarks/rescan.json

For each folder, default `neardup scan` runs in its own process: once with `--no-cache`, then
three times on one new cache file: cold (nothing cached, so it also writes the cache); warm;
then warm again after the per-pair rows (the geometric check's findings and the differences,
`neardup/pair_store.py`) are deleted, which is what a rescan cost before those were kept.
Wall time and peak memory from `os.wait4`, the stage times from the scan's own
`stats.seconds`, and whether each other run's groups and pairs are identical to the cold
run's.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def run_scan(folder: str, cache: Path | None, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "neardup", "scan", folder, "-q", "--json", str(out)]
    command += ["--no-cache"] if cache is None else ["--cache", str(cache)]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"scan of {folder} failed: {command}")
    doc = json.loads(out.read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 2),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "stages_s": doc["stats"]["seconds"],
        "result": (doc["groups"], doc["pairs"]),
    }


def measure(folder: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache.sqlite", Path(tmp) / "out.json"
        uncached = run_scan(folder, None, out)
        cold = run_scan(folder, cache, out)
        warm = run_scan(folder, cache, out)
        with sqlite3.connect(cache) as db:
            rows = db.execute("SELECT count(*) FROM pairs").fetchone()[0]
            db.execute("DELETE FROM pairs")
        features_only = run_scan(folder, cache, out)
        size = cache.stat().st_size
    runs = {"no cache": uncached, "cold": cold, "warm, features only": features_only, "warm": warm}
    expected = cold.pop("result")
    for name in ("no cache", "warm", "warm, features only"):
        runs[name]["identical_to_cold"] = runs[name].pop("result") == expected
    return {"folder": folder, "pair_rows": rows, "cache_bytes": size, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/rescan.json"))
    args = parser.parse_args()
    found = [measure(folder) for folder in args.sets]
    for entry in found:
        print(entry["folder"], f"{entry['pair_rows']} pair rows")
        for name, run in entry["runs"].items():
            same = run.get("identical_to_cold", "")
            print(f"  {name:20} {run['wall_s']:7.2f} s {run['peak_mib']:7.1f} MiB {same}")
    args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
