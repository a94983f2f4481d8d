"""Frames decoded again by index: seeking to the keyframe before each against a pass from the
video's start, on a generated clip (5 minutes, 25 fps, 640 x 360, H.264 with B-frames).

    python benchmarks/video_seek.py [--scan] [--out video_seek.json]

Times 20 batches of 10 frames spread over the clip both ways and checks that every frame is
bit-identical. With --scan it also times `neardup scan CLIP --fps 1 --no-cache` (the check and
the differences decode frames of many batches).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter

from neardup.sources import video_frames

FRAMES, RATE, WIDTH, HEIGHT = 7500, 25, 640, 360


def make_clip(path: Path) -> None:
    """A slow pan over a blurred noise field with a bar that grows each frame."""
    rng = np.random.default_rng(0)
    field = Image.fromarray(rng.integers(0, 255, (HEIGHT * 2, WIDTH * 2, 3), dtype=np.uint8))
    base = np.asarray(field.filter(ImageFilter.GaussianBlur(6)))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.gop_size = 250
        stream.options = {"crf": "23", "preset": "veryfast"}
        for i in range(FRAMES):
            x, y = (i * 3) % WIDTH, (i * 2) % HEIGHT
            picture = base[y : y + HEIGHT, x : x + WIDTH].copy()
            picture[10:30, 10 : 10 + i % (WIDTH - 20)] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", action="store_true", help="also time a scan of the clip")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "long.mp4"
        make_clip(clip)
        rng = random.Random(5)
        batches = [set(rng.sample(range(FRAMES), 10)) for _ in range(20)]
        start = time.perf_counter()
        seeking = [video_frames.frames_at(str(clip), b, width=None) for b in batches]
        seek_s = time.perf_counter() - start
        start = time.perf_counter()
        one_pass = []
        for b in batches:
            with av.open(str(clip)) as container:
                found: dict[int, np.ndarray] = {}
                video_frames._one_pass(container, b, None, found)
                one_pass.append(found)
        pass_s = time.perf_counter() - start
        same = all(
            a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
            for a, b in zip(seeking, one_pass, strict=True)
        )
        result: dict[str, object] = {
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "frames": FRAMES,
            "batches": len(batches),
            "seeking_s": round(seek_s, 2),
            "one_pass_s": round(pass_s, 2),
            "ratio": round(seek_s / pass_s, 3),
            "identical": same,
        }
        if args.scan:
            out = Path(tmp) / "result.json"
            command = [sys.executable, "-m", "neardup", "scan", str(clip), "--fps", "1"]
            command += ["--no-cache", "-q", "--json", str(out)]
            start = time.perf_counter()
            subprocess.run(command, check=True)
            result["scan_s"] = round(time.perf_counter() - start, 1)
            result["scan_pairs"] = len(json.loads(out.read_text())["pairs"])
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
