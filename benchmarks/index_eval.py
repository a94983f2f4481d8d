"""The index against scan on the evaluation set: build on half, add the other half, compare.

    python benchmarks/index_eval.py eval-data [--nprobe 4] [--cluster-size 256]

Scans the whole set once, builds an index from every other image, adds the rest (timing each
step), asks the index for all duplicates, and reports: the share of scan's pairs the index
finds, and both tools' pair precision and recall against the truth file, all at the default
preset. Features come from one temporary cache, so both sides score the same features.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from neardup import scan
from neardup.eval import evaluate, load_truth
from neardup.index.catalog import ImageIndex
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE
from neardup.records import ScanResult


def pairs_of(result: ScanResult) -> list[tuple[str, str, float]]:
    return [(result.path(p.a), result.path(p.b), p.similarity) for p in result.pairs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--nprobe", type=int, default=DEFAULT_NPROBE)
    parser.add_argument("--cluster-size", type=int, default=CLUSTER_SIZE)
    args = parser.parse_args()
    truth = load_truth(str(args.data / "truth.json"))
    paths = sorted(truth.images)
    first, second = paths[0::2], paths[1::2]
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "features.sqlite")
        start = time.perf_counter()
        scanned = scan(paths, cache=cache)
        scan_s = time.perf_counter() - start
        start = time.perf_counter()
        index, _ = ImageIndex.build(
            os.path.join(tmp, "idx"),
            first,
            cache=cache,
            nprobe=args.nprobe,
            cluster_size=args.cluster_size,
        )
        build_s = time.perf_counter() - start
        with index:
            start = time.perf_counter()
            index.add(second, cache=cache)
            add_s = time.perf_counter() - start
            start = time.perf_counter()
            found = index.duplicates()
            dup_s = time.perf_counter() - start
            info = index.info()
    scan_pairs = {frozenset(p[:2]) for p in pairs_of(scanned)}
    index_pairs = {frozenset(p[:2]) for p in pairs_of(found)}
    share = len(scan_pairs & index_pairs) / max(1, len(scan_pairs))
    scan_eval = evaluate(truth, pairs_of(scanned), threshold=0.0).overall
    index_eval = evaluate(truth, pairs_of(found), threshold=0.0).overall
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores")
    print(
        f"{len(paths)} images; index: {info['clusters']} clusters (sizes "
        f"{info['cluster_size']['min']}-{info['cluster_size']['max']}), nprobe {args.nprobe}\n"
    )
    print("| | pairs | share of scan's pairs | precision | recall | seconds |")
    print("|---|---|---|---|---|---|")
    print(
        f"| scan (whole set, features computed) | {len(scan_pairs)} | 1.000 "
        f"| {scan_eval.precision:.4f} | {scan_eval.recall:.4f} | {scan_s:.1f} |"
    )
    print(
        f"| index: build on half + add half + duplicates (features cached) "
        f"| {len(index_pairs)} | {share:.3f} | {index_eval.precision:.4f} "
        f"| {index_eval.recall:.4f} | {build_s:.1f} + {add_s:.1f} + {dup_s:.1f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
