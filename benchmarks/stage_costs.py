"""Per-item costs of the stages, on one core, for the scale-out plan (docs/scale-out.md).

    python benchmarks/stage_costs.py /tmp/evalray --images 160 --out benchmarks/stage_costs.json

In this process, one onnxruntime thread, no cache: the feature stage (read, decode, exact
hashes, PDQ of 8 views, thumbnails, SSCD distilled in batches of 16) on the first `--images`
images of the folder; candidate search and scoring of those images' candidate pairs (exact
flat search at this size; the IVF cost per query at 1M-10M is in RESULTS.md); the geometric
check on candidate pairs; and the bytes each image takes in the feature store. Costs are CPU
seconds of this process (core-seconds), which a shared machine does not stretch as it does
wall time (also reported, as `*_wall`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from neardup.api import feature_config
from neardup.features import FeatureConfig, extract_batch
from neardup.index.neighbours import pairs_within
from neardup.records import Features
from neardup.scoring import DEFAULT_METHODS, needs_geometry, score_pairs, threshold_for
from neardup.sources import collect
from neardup.store import encode_features
from neardup.verify import VERIFY


def rss_mib() -> float:
    """This process's resident memory now (what one worker holds: imports, model, state)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def timed(label: str, costs: dict[str, Any], work: Any) -> Any:
    """Run `work`, keeping its CPU seconds (core-seconds: what it costs on any machine, even
    a shared one where wall time stretches) and its wall seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    out = work()
    costs[label] = time.process_time() - cpu
    costs[label + "_wall"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--images", type=int, default=160)
    parser.add_argument("--pairs", type=int, default=300, help="geometric checks to time")
    parser.add_argument("--out")
    args = parser.parse_args()
    files = collect([args.folder]).files[: args.images]
    base = feature_config(DEFAULT_METHODS)
    config = FeatureConfig(pdq=base.pdq, models=base.models, decode=base.decode, threads=1)
    seconds: dict[str, Any] = {}
    rss = {"imports": rss_mib()}

    def features() -> list[Features]:
        out: list[Features] = []
        for start in range(0, len(files), 16):
            out += [
                f
                for f in extract_batch(files[start : start + 16], config)
                if isinstance(f, Features)
            ]
        return out

    extract_batch(files[:2], config)  # the ONNX session, made once per worker in a real run
    images: list[Features] = timed("features", seconds, features)
    rss["after_features"] = rss_mib()
    candidates = timed(
        "candidates",
        seconds,
        lambda: sorted(pairs_within(images, DEFAULT_METHODS, config.models[0])),
    )
    scored = timed("scoring", seconds, lambda: score_pairs(images, candidates, DEFAULT_METHODS))
    cut = threshold_for("default", None)
    borderline = sum(
        needs_geometry(s, cut, min(images[a].pdq_quality, images[b].pdq_quality))
        for (a, b), s in zip(candidates, scored, strict=True)
    )
    jobs = [(images[a].path, images[b].path) for a, b in candidates[: args.pairs]]
    verifier = VERIFY.setup()
    timed("verify", seconds, lambda: VERIFY.run(verifier, jobs))
    rss["after_verify"] = rss_mib()
    rows = [encode_features(f) for f in images]
    row_bytes = [
        len(meta.encode()) + len(blob) + len(f.path)
        for (meta, blob), f in zip(rows, images, strict=True)
    ]
    vector = images[0].embeddings[config.models[0]]
    report = {
        "folder": args.folder,
        "images": len(images),
        "candidate_pairs": len(candidates),
        "verify_pairs": len(jobs),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "ms_per_image_features": round(1000 * seconds["features"] / len(images), 2),
        "images_per_s_per_core": round(len(images) / seconds["features"], 2),
        "candidates_per_image": round(2 * len(candidates) / len(images), 2),
        "ms_per_pair_scoring": round(1000 * seconds["scoring"] / max(1, len(candidates)), 4),
        "verify_share_of_candidates": round(borderline / max(1, len(candidates)), 4),
        "ms_per_check_verify": round(1000 * seconds["verify"] / max(1, len(jobs)), 2),
        "checks_per_s_per_core": round(len(jobs) / seconds["verify"], 1),
        "embedding": {
            "model": config.models[0],
            "dim": int(vector.shape[0]),
            "dtype": str(vector.dtype),
        },
        "store_bytes_per_image": {
            "mean": round(float(np.mean(row_bytes)), 1),
            "max": int(np.max(row_bytes)),
        },
        "rss_mib": rss,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
