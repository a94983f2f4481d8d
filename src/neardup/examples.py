"""Build a small real example folder for the demo: bundled photographs, edited copies, junk.

`python -m neardup.examples DIR` writes a few photographs that ship inside scikit-image and
scikit-learn (no download), edited copies of each (resized, cropped, mirrored, heavily
compressed, bannered, letterboxed, greyscale), a few unrelated photos, and files that must be
skipped (truncated, text named .png, empty), so `neardup scan DIR` shows every part of a result.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageOps

SOURCES = {
    "skimage": ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"],
    "sklearn.datasets": ["images/china.jpg", "images/flower.jpg"],
}
UNRELATED = {"skimage": ["brick.png", "grass.png", "camera.png"]}


def bundled_photo(package: str, name: str) -> Image.Image | None:
    """A photograph shipped inside an installed package, or None if it is not installed."""
    try:
        root = files(package)
    except ModuleNotFoundError:
        return None
    folder = root if "/" in name else root / "data"
    path = folder / name
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        image = Image.open(handle)
        image.load()
    return image.convert("RGB")


def _banner(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    height = image.height // 6
    draw.rectangle((0, image.height - height, image.width, image.height), fill=(20, 20, 120))
    draw.text((10, image.height - height + height // 3), "neardup demo banner", fill="white")
    return out


def _letterbox(image: Image.Image) -> Image.Image:
    pad = image.height // 5
    return ImageOps.expand(image, border=(0, pad, 0, pad), fill=(0, 0, 0))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "small": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    "crop": lambda im: im.crop(
        (im.width // 10, im.height // 10, im.width * 9 // 10, im.height * 9 // 10)
    ),
    "mirror": ImageOps.mirror,
    "banner": _banner,
    "letterbox": _letterbox,
    "grey": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "warm": lambda im: ImageEnhance.Color(ImageEnhance.Brightness(im).enhance(1.2)).enhance(1.5),
}


def build(folder: Path, *, seed: int = 0) -> int:
    """Write the example into `folder`; returns the number of files written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for package, names in SOURCES.items():
        for name in names:
            image = bundled_photo(package, name)
            if image is None:
                continue
            stem = Path(name).stem
            image.save(folder / f"{stem}.jpg", quality=92)
            written += 1
            for edit in rng.sample(sorted(EDITS), 3):
                quality = 20 if edit == "small" else 85
                EDITS[edit](image).save(folder / f"{stem}_{edit}.jpg", quality=quality)
                written += 1
    for package, names in UNRELATED.items():
        for name in names:
            image = bundled_photo(package, name)
            if image is not None:
                image.save(folder / f"other_{Path(name).stem}.png")
                written += 1
    junk = folder / "junk"
    junk.mkdir(exist_ok=True)
    first = next(folder.glob("*.jpg"), None)
    if first is not None:
        data = first.read_bytes()
        (junk / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (junk / "notes.png").write_text("this is text, not a picture\n")
    (junk / "empty.jpg").write_bytes(b"")
    return written + 3


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "example")
    count = build(folder)
    print(f"wrote {count} files to {folder}/ (photos from scikit-image and scikit-learn)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
