"""Where IVF starts to pay: all-pairs candidate search, exact against IVF, by collection size.

`scan` and the index search exactly below a size and with IVF clusters above it
(`neardup.search.EXACT_BELOW`). This measures both on clustered synthetic 512-d unit vectors
with planted near-copies (the generator of `index_bench.py`): time for centroids + add +
all-pairs neighbours (k 17, floor 0.3, as the pipeline asks), and the share of exact search's
pairs above 0.5 cosine that IVF finds. It also times the PDQ search both ways (exhaustive
Hamming k-NN against the multi-index hash) on random 256-bit codes with planted near-copies.

    python benchmarks/crossover.py --sizes 2000 5000 10000 20000 40000
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout import commit
from index_bench import Synth

from neardup.index.base import neighbour_pairs
from neardup.index.exact import ExactIndex, HammingIndex
from neardup.index.growth import fit_centroids
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE, IVFIndex

K = 17
FLOOR = 0.3


def vector_run(n: int) -> dict[str, float]:
    synth = Synth(n=n, dim=512, seed=7, chunk=n, pairs=n // 20)
    x, ids, _ = synth.make(0)
    start = time.perf_counter()
    exact = ExactIndex(512)
    exact.add(x, ids)
    truth = {(a, b) for a, b, s in neighbour_pairs(exact, x, k=K, min_similarity=FLOOR) if s > 0.5}
    t_exact = time.perf_counter() - start
    start = time.perf_counter()
    centroids, _ = fit_centroids(x, CLUSTER_SIZE)
    ivf = IVFIndex(centroids, nprobe=DEFAULT_NPROBE)
    probes = ivf.assign(x, DEFAULT_NPROBE)
    ivf.add(x, ids, clusters=probes[:, 0])
    found = {
        (a, b)
        for a, b, s in neighbour_pairs(ivf, x, k=K, min_similarity=FLOOR, probes=probes)
        if s > 0.5
    }
    t_ivf = time.perf_counter() - start
    recall = len(truth & found) / max(1, len(truth))
    return {"exact_s": t_exact, "ivf_s": t_ivf, "ivf_recall": recall, "clusters": len(centroids)}


def pdq_run(n: int, radius: int = 96) -> dict[str, float]:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    copies = rng.choice(n, n // 20, replace=False)
    flips = rng.integers(0, 256, (len(copies), 32), dtype=np.uint8) & rng.integers(
        0, 256, (len(copies), 32), dtype=np.uint8
    )
    codes[copies[1:]] = codes[copies[:-1]] ^ (flips[1:] & (flips[1:] >> 1))
    start = time.perf_counter()
    flat = HammingIndex(256)
    flat.add(codes)
    views = 8  # the pipeline queries every dihedral view
    for _ in range(views):
        flat.search(codes, min(K, n))
    t_flat = time.perf_counter() - start
    start = time.perf_counter()
    multi = faiss.IndexBinaryMultiHash(256, 8, 32)
    multi.add(codes)
    for _ in range(views):
        multi.range_search(codes, 40)
    t_multi = time.perf_counter() - start
    return {"pdq_exact_s": t_flat, "pdq_multihash_s": t_multi}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000, 20000, 40000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/crossover_results.json"))
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        row = {"n": n, **vector_run(n), **pdq_run(n)}
        rows.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}))
    meta = {"date": time.strftime("%Y-%m-%d"), "commit": commit(), "machine": platform.processor()}
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
