"""A large collection of real-photo tiles and edited copies, for timing a scan at scale.

    python benchmarks/make_scan_set.py 20000 scan-20k [--sources benchmarks/work/wallpapers]

Pictures: every photograph under --sources (Debian wallpaper packages, fetched by
benchmarks/fetch_wallpapers.sh) and the photos scikit-image ships, cut into non-overlapping
square tiles (distinct pictures); 70 % of the collection are such tiles, 30 % edited copies of
random tiles (the edits of `neardup.examples.EDITS`, JPEG quality 40-95). Seeded and
reproducible. Writes truth.json (group = source tile) beside the images. The set is for
timing: wallpaper packages hold size variants of one picture, so tiles of two variants may
look alike (truth treats them as different pictures).
"""

from __future__ import annotations

import argparse
import json
import random
from concurrent.futures import ProcessPoolExecutor
from importlib.resources import files
from pathlib import Path

from PIL import Image

from neardup.examples import EDITS

TILE = 320
Image.MAX_IMAGE_PIXELS = 200_000_000


def sources(folders: list[Path]) -> list[Path]:
    found = [
        p
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    ]
    # Size variants of one wallpaper (plasma's contents/images/WxH.png) are one picture:
    # keep the largest, or their tiles would be unlabelled look-alikes.
    variants: dict[Path, Path] = {}
    for p in [p for p in found if p.parent.name == "images" and p.parent.parent.name == "contents"]:
        best = variants.get(p.parent)
        if best is None or p.stat().st_size > best.stat().st_size:
            variants[p.parent] = p
    found = [p for p in found if p.parent.name != "images" or variants.get(p.parent, p) == p]
    skimage = files("skimage") / "data"
    found += sorted(Path(str(p)) for p in skimage.iterdir() if p.name.endswith((".png", ".jpg")))
    return found


def tiles_of(path: Path) -> list[tuple[str, int, int]]:
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, Image.DecompressionBombError):
        return []
    return [
        (str(path), x, y)
        for y in range(0, height - TILE + 1, TILE)
        for x in range(0, width - TILE + 1, TILE)
    ]


Job = tuple[int, int, int, str | None, int]
"""(number, x, y, edit or None, JPEG quality) of one output image."""


def write_source(task: tuple[str, list[Job], str]) -> list[dict[str, object]]:
    """Every output image cut from one source picture (decoded once)."""
    path, jobs, out = task
    source = Path(path).parent.name if Path(path).name[0].isdigit() else Path(path).stem
    with Image.open(path) as image:
        picture = image.convert("RGB")
    written: list[dict[str, object]] = []
    for number, x, y, edit, quality in jobs:
        tile = picture.crop((x, y, x + TILE, y + TILE))
        if edit is not None:
            tile = EDITS[edit](tile)
        name = f"images/{number:06d}.jpg"
        tile.save(Path(out) / name, quality=quality)
        written.append(
            {
                "path": name,
                "group": f"{path}@{x},{y}",
                "edit": edit or "original",
                "source": source,
                "split": "test",
            }
        )
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--sources", type=Path, nargs="*", default=[Path("benchmarks/work/wallpapers")]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tiles = [t for p in sources([s for s in args.sources if s.is_dir()]) for t in tiles_of(p)]
    originals = min(len(tiles), round(args.count * 0.7))
    chosen = rng.sample(tiles, originals)
    numbers = list(range(args.count))
    rng.shuffle(numbers)  # file names say nothing of what is a copy
    by_source: dict[str, list[Job]] = {}
    for n, (path, x, y) in enumerate(chosen):
        by_source.setdefault(path, []).append((numbers[n], x, y, None, 90))
    for n in range(originals, args.count):
        path, x, y = rng.choice(chosen)
        edit, quality = rng.choice(sorted(EDITS)), rng.randint(40, 95)
        by_source.setdefault(path, []).append((numbers[n], x, y, edit, quality))
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    tasks = [(path, jobs, str(args.out)) for path, jobs in sorted(by_source.items())]
    with ProcessPoolExecutor(args.jobs) as pool:
        truth = [record for part in pool.map(write_source, tasks) for record in part]
    truth.sort(key=lambda t: str(t["path"]))
    (args.out / "truth.json").write_text(json.dumps({"version": 1, "images": truth}) + "\n")
    print(f"{len(truth)} images ({originals} tiles of {len(tiles)}) in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
