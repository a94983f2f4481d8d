"""Time `neardup scan` on a large real-image set, stage by stage, beside Immaculate.

    python benchmarks/make_scan_set.py 20000 scan-20k
    python benchmarks/scan_large.py scan-20k [--out benchmarks/scan_large.json]

Both tools run cold (neardup with --no-cache) in their own subprocess on the same folder, one
after the other in the same run; wall time and peak RSS come from os.wait4, neardup's stage
split from its JSON (`stats.seconds`), shown as seconds and images per second. Group
precision/recall against the set's truth.json (`neardup.eval`) are reported for both tools.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout import commit
from run_scan_bench import immaculate_run, neardup_run, scores

from neardup.eval import evaluate, load_truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/scan_large.json"))
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    root = args.set / "images"
    truth = load_truth(str(args.set / "truth.json"))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        ours = neardup_run("neardup", root, tmp, [])
        result = json.loads((tmp / "neardup.json").read_text())
        peer = None if args.skip_peer else immaculate_run("sscd_distilled", root, tmp)
    images = result["stats"]["images"]
    stages = {
        name: {"seconds": s, "images_per_s": round(images / s, 1) if s else None}
        for name, s in result["stats"]["seconds"].items()
    }
    out: dict[str, object] = {
        "images": images,
        "neardup": {
            "wall_s": round(ours.seconds, 1),
            "peak_mib": round(ours.peak_mb),
            "stages": stages,
            "groups_p_r": scores(
                evaluate(
                    truth, ours.pairs, threshold=result["settings"]["threshold"], groups=ours.groups
                ),
                True,
            ),
        },
    }
    if peer is not None:
        out["immaculate_sscd_distilled"] = {
            "wall_s": round(peer.seconds, 1),
            "peak_mib": round(peer.peak_mb),
            "groups_p_r": scores(evaluate(truth, peer.pairs, groups=peer.groups), True),
        }
        out["wall_ratio"] = round(ours.seconds / peer.seconds, 2)
    out["meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": commit(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
