"""Scan one folder with the local engine and with Ray, in the same run, and compare the JSON.

    python benchmarks/engine_compare.py /tmp/evalray --out benchmarks/engine_results.json

Both scans run without a cache (every feature computed on the engine under test): the local
engine, then Ray on a local cluster of `--workers` CPUs (or `--ray-address`); `--repeat`
rounds alternate the order (ABBA) so a shared machine's load falls on both. Reports each wall
time (Ray's start-up and shutdown included) and the ratio, and whether the groups and pairs
are identical: any pair or group that differs is listed with both engines' numbers, and a
difference only in the fourth decimal of a score is counted as floating point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from checkout import commit

from neardup.api import scan
from neardup.engines import make_engine
from neardup.index.catalog import ImageIndex
from neardup.output.json import to_dict

FLOAT_TOLERANCE = 2e-4
"""Scores are written rounded to 4 decimals: a difference of one rounding step is float noise."""


def run(
    folder: str, engine_name: str, workers: int, address: str | None
) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    engine = make_engine(engine_name, workers, address)
    try:
        result = scan([folder], cache=False, workers=workers, engine=engine)
    finally:
        engine.close()
    return to_dict(result), time.perf_counter() - start


def run_index(
    folder: str, engine_name: str, workers: int, address: str | None
) -> tuple[dict[str, Any], float]:
    """`index duplicates` on an index already built in `folder`, on the named engine."""
    start = time.perf_counter()
    engine = make_engine(engine_name, workers, address)
    try:
        with ImageIndex.open(folder) as index:
            result = index.duplicates(workers=workers, engine=engine)
    finally:
        engine.close()
    return to_dict(result), time.perf_counter() - start


def pair_table(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["a"], p["b"]): p for p in data["pairs"]}


def group_sets(data: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (g["keeper"]["path"], tuple(sorted(m["path"] for m in g["members"])))
        for g in data["groups"]
    ]


def close(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["evidence"] != b["evidence"] or set(a["scores"]) != set(b["scores"]):
        return False
    numbers = [(a["similarity"], b["similarity"]), (a["confidence"], b["confidence"])]
    numbers += [(a["scores"][k], b["scores"][k]) for k in a["scores"]]
    return all(abs(x - y) <= FLOAT_TOLERANCE for x, y in numbers)


def compare(local: dict[str, Any], ray: dict[str, Any]) -> dict[str, Any]:
    """Identical groups/pairs, or the differences listed (float-only ones marked so)."""
    pl, pr = pair_table(local), pair_table(ray)
    only_local = sorted(set(pl) - set(pr))
    only_ray = sorted(set(pr) - set(pl))
    changed = [k for k in sorted(set(pl) & set(pr)) if pl[k] != pr[k]]
    float_only = [k for k in changed if close(pl[k], pr[k])]
    return {
        "groups_identical": group_sets(local) == group_sets(ray),
        "groups": len(local["groups"]),
        "pairs": len(pl),
        "pairs_identical": not (only_local or only_ray or changed),
        "skipped_identical": local["skipped"] == ray["skipped"],
        "pairs_only_local": [[*k, pl[k]["confidence"]] for k in only_local],
        "pairs_only_ray": [[*k, pr[k]["confidence"]] for k in only_ray],
        "pairs_changed": [
            {"pair": list(k), "local": pl[k], "ray": pr[k], "float_only": k in float_only}
            for k in changed
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ray-address")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds, in ABBA order (local, ray, ray, local...)"
    )
    parser.add_argument(
        "--index-cluster-size",
        type=int,
        help="instead of scan: build an index of the folder with this cluster size (local "
        "engine, a fresh temp folder), then compare `index duplicates` on each engine",
    )
    parser.add_argument("--out", help="write the comparison and timings here as JSON")
    args = parser.parse_args()
    runner, target = run, args.folder
    if args.index_cluster_size:
        target = tempfile.mkdtemp(prefix="engine-compare-index-")
        index, _ = ImageIndex.build(
            Path(target) / "idx",
            [args.folder],
            cluster_size=args.index_cluster_size,
            cache=False,
            workers=args.workers,
        )
        clusters = index.info()["clusters"]
        index.close()
        print(f"index of {args.folder}: {clusters} clusters", file=sys.stderr)
        runner, target = run_index, str(Path(target) / "idx")
    times: dict[str, list[float]] = {"local": [], "ray": []}
    stages: dict[str, list[Any]] = {"local": [], "ray": []}
    loads: list[float] = []
    first: dict[str, dict[str, Any]] = {}
    for round_ in range(args.repeat):
        order = ("local", "ray") if round_ % 2 == 0 else ("ray", "local")
        for name in order:
            data, seconds = runner(target, name, args.workers, args.ray_address)
            first.setdefault(name, data)
            if compare(first[name], data)["groups_identical"] is not True:
                print(f"warning: {name} gave other groups in round {round_ + 1}", file=sys.stderr)
            times[name].append(round(seconds, 2))
            stages[name].append(data["stats"]["seconds"])
            loads.append(os.getloadavg()[0])
    local, ray = first["local"], first["ray"]
    report = compare(local, ray) | {
        "folder": args.folder,
        "what": f"index duplicates, cluster size {args.index_cluster_size}"
        if args.index_cluster_size
        else "scan",
        "images": local["stats"]["images"],
        "workers": args.workers,
        "seconds": times,
        "ray_over_local": round(sum(times["ray"]) / sum(times["local"]), 3),
        "ray_over_local_per_round": [
            round(r / lo, 3) for r, lo in zip(times["ray"], times["local"], strict=True)
        ],
        "stages": stages,
        "load_average_1min_after_each_run": [round(x, 1) for x in loads],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit(),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    same = report["groups_identical"] and report["skipped_identical"]
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
