"""Turned-and-padded copies of evaluation originals: found at the default cut, and described?

A copy made by turning a picture 5-20 degrees on a canvas of one colour (white, black, or the
picture's own corner colour) and then padding that canvas with 3-10 % margins of the same
colour on each side (a page, a square for a model). Every 4th original of each set's
calibration half is copied once (seeded); `neardup.api.compare` gives the verdict at the
default preset, the differences stage the turn it measures.

    python benchmarks/turned_padded.py /path/to/eval-data /path/to/eval-photos ... [--split calib]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from neardup.api import compare
from neardup.differences import measure_pairs

FILLS = ("white", "black", "corner")


def padded_copy(
    original: Image.Image, rng: random.Random, fill_kind: str
) -> tuple[Image.Image, float]:
    """The copy and the turn (degrees, anticlockwise) it was made with."""
    rgb = original.convert("RGB")
    colour = {"white": (255, 255, 255), "black": (0, 0, 0)}.get(fill_kind) or rgb.getpixel((0, 0))
    degrees = rng.uniform(5, 20) * rng.choice((-1, 1))
    turned = rgb.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=colour)
    w, h = turned.size
    margins = tuple(round(rng.uniform(0.03, 0.10) * (w if n % 2 == 0 else h)) for n in range(4))
    return ImageOps.expand(turned, border=margins, fill=colour), degrees


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--split", default="calib")
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="turned-padded-"))
    rows = []
    for root in args.sets:
        truth = json.loads((root / "truth.json").read_text())["images"]
        originals = [r for r in truth if r["edit"] == "original" and r.get("split") == args.split]
        rng = random.Random(f"turned-padded-{root.name}")
        for n, record in enumerate(originals[:: args.every]):
            fill = FILLS[n % len(FILLS)]
            copy, degrees = padded_copy(Image.open(root / record["path"]), rng, fill)
            path = out / f"{root.name}-{Path(record['path']).stem}-{fill}.jpg"
            copy.save(path, quality=90)
            found = compare(root / record["path"], path)
            measured = measure_pairs([(str(root / record["path"]), str(path))])[0]
            rows.append(
                {
                    "set": root.name,
                    "original": record["path"],
                    "fill": fill,
                    "degrees": round(degrees, 2),
                    "confidence": found.confidence,
                    "found": bool(found.verdicts.get("default")),
                    "aligned_by": measured.aligned_by,
                    "turned": measured.turned,
                }
            )
    print("| set | copies | found at default | turn measured within 1 degree |")
    print("|---|---|---|---|")
    for name in [*sorted({r["set"] for r in rows}), "all"]:
        mine = [r for r in rows if name in ("all", r["set"])]
        close = sum(r["turned"] is not None and abs(r["turned"] - r["degrees"]) <= 1 for r in mine)
        print(f"| {name} | {len(mine)} | {sum(r['found'] for r in mine)} | {close} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
