"""The fusion's training pairs: every candidate pair of a labelled set's split, as scan scores it.

For each pair scan would score (every method's neighbours) the raw score of each method, the
image facts, the geometric check's result (run on every pair, whatever the band) and the
label; cached per set and split (`--work`), since the check takes minutes. Read by
`fit_fusion.py`, `calibration_transfer.py` and `fusion_capacity.py`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

# Collecting the pairs needs no fusion: start from an empty one, whatever is installed.
_EMPTY = Path(tempfile.mkdtemp()) / "empty.json"
_EMPTY.write_text(
    '{"version": 1, "models": {}, "presets": {"default": 0.5}, "verify": [[0.5, 1, 0]]}'
)
os.environ["NEARDUP_FUSION_MODEL"] = str(_EMPTY)

from neardup import fusion  # noqa: E402
from neardup.engines.local import LocalEngine  # noqa: E402
from neardup.eval import load_truth  # noqa: E402
from neardup.index.neighbours import pairs_within  # noqa: E402
from neardup.pipeline import compute_features, feature_config  # noqa: E402
from neardup.scoring import ALL_METHODS, facts, raw_scores  # noqa: E402
from neardup.sources import collect  # noqa: E402
from neardup.verify import VERIFY  # noqa: E402

HERE = Path(__file__).resolve().parent


def collect_pairs(set_dir: Path, work: Path, split: str) -> dict[str, np.ndarray]:
    """Raw scores, facts, geometry and labels of every candidate pair of one set's split."""
    cached = work / f"pairs-v7-{set_dir.name}-{split}.npz"
    if cached.exists():
        return dict(np.load(cached))
    truth = load_truth(str(set_dir / "truth.json"))
    paths = sorted(truth.subset(split))
    found = collect(paths)
    config = feature_config(ALL_METHODS)
    images, skipped, _ = compute_features(
        found.files, config, work / "features.sqlite", LocalEngine()
    )
    print(f"{set_dir.name}: {len(images)} images, {len(skipped)} skipped", file=sys.stderr)
    pairs = sorted(pairs_within(images, ALL_METHODS, "sscd_distilled"))
    raw = raw_scores(images, pairs, ALL_METHODS)
    pair_facts = facts(images, pairs)
    start = time.perf_counter()
    jobs = [(images[a].path, images[b].path) for a, b in pairs]
    geometry = np.full(len(pairs), np.nan)
    aligned = np.full(len(pairs), np.nan)
    agree = np.full(len(pairs), np.nan)
    inliers = np.full(len(pairs), np.nan)
    row = {job: n for n, job in enumerate(jobs)}
    for chunk, out in LocalEngine().map(VERIFY, jobs):  # in completion order
        for job, found_geometry in zip(chunk, out, strict=True):
            if found_geometry is not None:
                n = row[job]
                geometry[n] = found_geometry.score
                aligned[n] = found_geometry.aligned
                agree[n] = found_geometry.agree
                inliers[n] = found_geometry.inliers
    print(f"  {len(pairs)} pairs, geometry in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    groups = [truth.images[f.path].group if f.path in truth.images else None for f in images]
    label = np.array(
        [groups[a] is not None and groups[a] == groups[b] for a, b in pairs], dtype=bool
    )
    sources = [truth.images[f.path].source if f.path in truth.images else "" for f in images]
    fold = np.array([zlib.crc32(sources[a].encode()) % 2 for a, _ in pairs], dtype=np.int8)
    data = {f"raw:{m}": v for m, v in raw.items()}
    data |= {
        "geometry": geometry,
        "aligned": aligned,
        "agree": agree,
        "inliers": inliers,
        "quality": pair_facts.quality,
        "aspect": pair_facts.aspect,
        "label": label,
        "fold": fold,
    }
    work.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cached, **data)
    return data


def split_raw(data: dict[str, np.ndarray], geometry: bool) -> dict[str, np.ndarray]:
    raw = {k[4:]: v for k, v in data.items() if k.startswith("raw:")}
    if geometry:
        raw["geometry"] = data["geometry"]
        raw["aligned"] = data["aligned"]
        raw["agree"] = data["agree"]
    return raw


def pair_facts(data: dict[str, np.ndarray], geometry: bool) -> fusion.PairFacts:
    inliers = data["inliers"] if geometry else np.full(len(data["label"]), np.nan)
    return fusion.PairFacts(data["quality"], data["aspect"], inliers)
