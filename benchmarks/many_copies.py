"""Thousands of copies of one picture (a placeholder in scraped data): pairs, groups, time and
peak memory of a default scan, which grow with the copies, not their square.

    python benchmarks/many_copies.py [--bytes 1500] [--near 800] [--out many_copies.json]

Three folders are made from a bundled photograph: byte-identical copies, re-encodes (other
sizes and JPEG qualities, no two alike), and both together (the copies' image then matches
every re-encode, and each copy inherits its matches). Each is scanned in a child process
(`neardup scan --no-cache`); peak memory is the largest resident size of that process or
any of its workers, as the OS reports it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neardup.examples import bundled_photo


def scan(folder: Path) -> dict[str, object]:
    out = folder.parent / f"{folder.name}.json"
    command = [sys.executable, "-m", "neardup", "scan", str(folder), "--no-cache", "-q"]
    start = time.perf_counter()
    child = subprocess.Popen([*command, "--json", str(out)])
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status:
        raise SystemExit(f"scan failed: {status}")
    doc = json.loads(out.read_text())
    return {
        "images": doc["stats"]["images"],
        "pairs": len(doc["pairs"]),
        "groups": [1 + len(g["members"]) for g in doc["groups"]],
        "seconds": round(seconds, 1),
        "peak_mib": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=1500, help="byte-identical copies")
    parser.add_argument("--near", type=int, default=800, help="re-encoded copies")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    photo = bundled_photo("skimage", "astronaut.png")
    assert photo is not None, "scikit-image's sample photos are missing"
    photo = photo.convert("RGB")
    result: dict[str, object] = {"machine": f"{platform.machine()}, {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        same, near, both = Path(tmp) / "bytes", Path(tmp) / "near", Path(tmp) / "both"
        for folder in (same, near, both):
            folder.mkdir()
        buffer = io.BytesIO()
        photo.save(buffer, "JPEG", quality=90)
        for i in range(args.bytes):
            (same / f"c{i:05d}.jpg").write_bytes(buffer.getvalue())
            (both / f"c{i:05d}.jpg").write_bytes(buffer.getvalue())
        for i in range(args.near):
            side = 400 + (i // 40) * 3
            copy = io.BytesIO()
            photo.resize((side, side)).save(copy, "JPEG", quality=60 + i % 40)
            (near / f"n{i:05d}.jpg").write_bytes(copy.getvalue())
            (both / f"n{i:05d}.jpg").write_bytes(copy.getvalue())
        result["byte_copies"] = scan(same)
        result["re_encodes"] = scan(near)
        result["both"] = scan(both)
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
