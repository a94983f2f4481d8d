"""Build the "games" near-duplicate evaluation set from game art and documentation screenshots.

Usage: python benchmarks/make_set_games.py OUT_DIR [--sources DIR]

Sources come from Debian packages unpacked by ``benchmarks/fetch_games_sources.sh``
(default ``benchmarks/work/games``): ``wesnoth-1.16-data`` (character portraits, story
landscapes, a large wood-plank background, in-game screenshots in the manual),
``freeciv-data`` (tileset sprite sheets, theme textures, a night-sky photo),
``kicad-doc-en`` and ``openshot-qt-doc`` (documentation screenshots of dialogs and editors).

Five kinds of source picture: ``portrait`` (transparent portraits flattened onto a gradient),
``landscape`` (painted story art and one photo, each a crop of a larger picture),
``screenshot`` (program and dialog screenshots), ``tilesheet`` (sprite sheets flattened onto
a plain colour) and ``texture`` (crops of background textures).  Nothing is upscaled; every
source is at least 300 px on its shorter side and at most 1400 px on its longer side.

Each source picture gives one group: the unedited original (edit ``original``) plus 9-11
edited copies whose edit kinds are drawn so that every kind is used about equally:
exact_copy, resize_recompress, jpeg_heavy, recompress_chain, crop, rotate_small, rotate90,
flip, border, overlay, text_banner, blur, noise, sharpen, color, brighten, darken,
greyscale, screenshot and compound.  Copies are saved as JPEG, PNG or WebP, some resized.

Look-alike negatives (group null) are other pictures that resemble a group source:
``neighbour_tile`` (the rest of the big picture the source was cropped from, overlapping
it by at most ~10 %), ``same_template`` (another portrait of the same race, another
screenshot of the same program or dialog, another landscape of the same series) and
``similar_texture`` (another sprite sheet of the same tileset family).  Each negative's
``params.family`` names the group source it resembles.  Sources and negatives that are nearly
the same picture as an earlier source or negative (24x24 thumbnail correlation above 0.97)
are dropped.

Splits are by origin picture: all sources cut from one file, their copies and their
negatives go to the same split (``calib`` or ``test``), alternating within each kind.
File names are numbered in a shuffled order.  Everything is drawn from the fixed seed.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import shutil
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

SEED = 12345
MAX_SIDE = 1400
MIN_SIDE = 300

WES = "wesnoth-1.16-data/usr/share/games/wesnoth/1.16/data/core/images"
WES_DOC = "wesnoth-1.16-data/usr/share/doc/wesnoth-1.16-data/images"
FC = "freeciv-data/usr/share/games/freeciv"
KICAD = "kicad-doc-en/usr/share/doc/kicad/help/en/images"
OPENSHOT = "openshot-qt-doc/usr/share/doc/openshot-qt/html/_images"

EDIT_KINDS = [
    "exact_copy",
    "resize_recompress",
    "jpeg_heavy",
    "recompress_chain",
    "crop",
    "rotate_small",
    "rotate90",
    "flip",
    "border",
    "overlay",
    "text_banner",
    "blur",
    "noise",
    "sharpen",
    "color",
    "brighten",
    "darken",
    "greyscale",
    "screenshot",
    "compound",
]

# Portraits: (race, source, [same-template negatives]).
PORTRAITS = [
    ("humans", "mage", ["mage+female", "mage-red", "mage-white", "mage-silver"]),
    ("humans", "spearman", ["spearman-2", "pikeman", "javelineer"]),
    ("humans", "swordsman", ["swordsman-2", "swordsman-3", "royal-warrior"]),
    ("humans", "knight", ["grand-knight", "paladin", "lancer", "cavalier"]),
    ("humans", "marshal", ["marshal-2", "general", "lieutenant"]),
    ("humans", "bowman", ["longbowman", "master-bowman", "huntsman"]),
    ("humans", "thief", ["thief+female", "footpad", "outlaw"]),
    ("elves", "archer", ["archer+female", "marksman", "ranger"]),
    ("elves", "lord", ["high-lord", "lady", "captain"]),
    ("elves", "druid", ["shaman", "sorceress", "sylph"]),
    ("orcs", "grunt", ["grunt-2", "grunt-3", "grunt-4", "grunt-5"]),
    ("orcs", "ruler", ["ruler-2", "sovereign", "warlord"]),
    ("undead", "draug", ["draug-2", "revenant", "deathblade"]),
    ("undead", "lich", ["ancient-lich", "brown-lich", "wraith", "nightgaunt"]),
    ("dwarves", "fighter", ["fighter-2", "guard", "lord"]),
    ("drakes", "burner", ["fighter", "flameheart", "inferno"]),
    ("monsters", "bat", ["bat-red", "bat-dread", "falcon"]),
    ("monsters", "scorpion", ["scorpion-elder", "scorpion-rock", "giant-spider"]),
]

# Landscapes: (file, [same-template negatives]); each source is a crop, its neighbour a negative.
LANDSCAPES = [
    (f"{WES}/story/grim-altar.jpg", []),
    (f"{WES}/story/landscape-battlefield.jpg", []),
    (f"{WES}/story/landscape-bridge.jpg", []),
    (f"{WES}/story/landscape-castle.jpg", []),
    (f"{WES}/story/landscape-coast.jpg", []),
    (f"{WES}/story/landscape-hills-01.jpg", []),
    (f"{WES}/story/landscape-hills-02.jpg", []),
    (f"{WES}/story/landscape-mountains-01.jpg", [f"{WES}/story/landscape-mountains-04.jpg"]),
    (f"{WES}/story/landscape-mountains-02.jpg", [f"{WES}/story/landscape-mountains-05.jpg"]),
    (f"{WES}/story/landscape-mountains-03.jpg", []),
    (f"{WES}/story/landscape-plain.jpg", []),
    (f"{WES}/story/swamp-01.jpg", [f"{WES}/story/swamp-03.jpg"]),
    (f"{WES}/story/swamp-02.jpg", []),
    (f"{WES}/maps/wesnoth.png", []),
    (f"{FC}/themes/gui-qt/NightStalker/pattern.png", []),
]

# Screenshots: (family, file pattern, number of sources, negatives per source).
SCREENSHOTS = [
    ("kicad_pcbnew", f"{KICAD}/Pcbnew_*.png", 4, 6),
    ("kicad_eeschema", f"{KICAD}/eeschema_*.png", 3, 5),
    ("kicad_modedit", f"{KICAD}/Modedit_*.png", 2, 4),
    ("kicad_gerbview", f"{KICAD}/gerbview_*.png", 2, 4),
    ("openshot", f"{OPENSHOT}/*.jpg", 3, 3),
]
WESNOTH_SCREENS = [
    (
        "main-menu",
        "main-menu-1.13.11+dev.jpg",
        ["de/main-menu-*", "it/main-menu-*", "ru/main-menu-*"],
    ),
    ("game-screen", "game-screen-1.13.11+dev.jpg", ["de/game-*", "fr/game-*", "pt/game-*"]),
    ("recruit", "it/recruit-*", ["tr/recruit-*", "gl/recruit-*", "pt/recruit-*"]),
]

# Tile sheets: (source, [similar-texture negatives]).
TILESHEETS = [
    ("amplio2/cities.png", ["hexemplio/cities.png", "isotrident/cities.png"]),
    ("amplio2/terrain1.png", ["amplio2/water.png", "hexemplio/terrain.png"]),
    ("amplio2/ocean.png", ["amplio2/fog.png"]),
    ("isotrident/terrain2.png", ["isotrident/terrain1.png", "isophex/terrain2.png"]),
    ("alio/burrowtubes.png", ["alio/tunnels.png", "alio/riversgreen.png"]),
    ("hex2t/tiles.png", ["trident/tiles.png", "hex2t/overlays.png"]),
    ("amplio2/extra_units.png", ["trident/extra_units.png"]),
]

# Textures cut from background pictures: (file, number of sources, number of neighbours).
TEXTURES = [
    (f"{WES}/maps/background.jpg", 3, 9),
    (f"{FC}/themes/gui-qt/Classic/pattern.png", 1, 1),
    (f"{FC}/themes/gui-sdl2/human/bg.png", 1, 1),
    (f"{FC}/themes/gui-qt/NightStalker/pattern-game.png", 1, 1),
    (f"{FC}/themes/gui-qt/Necrophos/pattern.png", 1, 1),
    (f"{WES}/terrain/off-map/background.png", 1, 1),
]

PALETTE = [
    (240, 232, 210),
    (40, 44, 52),
    (200, 210, 225),
    (90, 60, 40),
    (225, 225, 225),
    (30, 70, 50),
    (120, 40, 50),
    (250, 250, 250),
]

WORDS = [
    "SAMPLE",
    "© studio",
    "preview",
    "forum post",
    "new!",
    "draft",
    "share",
    "level 7",
    "screenshot",
    "wallpaper",
    "do not copy",
    "fan art",
]


@dataclass
class Source:
    name: str
    kind: str
    origin: str  # file the picture was cut from (split unit)
    image: Image.Image
    negatives: list[tuple[str, str, Image.Image, dict]] = field(default_factory=list)
    split: str = ""


def rng_for(name: str) -> random.Random:
    return random.Random(SEED * 1_000_003 + zlib.crc32(name.encode()))


def cap(im: Image.Image) -> Image.Image:
    if max(im.size) > MAX_SIDE:
        s = MAX_SIDE / max(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    return im


def flatten(im: Image.Image, bg: Image.Image | tuple[int, int, int]) -> Image.Image:
    im = im.convert("RGBA")
    base = bg.convert("RGBA") if isinstance(bg, Image.Image) else Image.new("RGBA", im.size, bg)
    base.alpha_composite(im)
    return base.convert("RGB")


def gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    h = size[1]
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    arr = np.array(top, float)[None, None, :] * (1 - t) + np.array(bottom, float)[None, None, :] * t
    arr = np.repeat(arr, size[0], axis=1)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, int(size)))


def thumb(im: Image.Image) -> np.ndarray:
    a = np.asarray(im.convert("L").resize((24, 24), Image.BILINEAR), float).ravel()
    a = a - a.mean()
    return a / (np.linalg.norm(a) + 1e-9)


def ok_size(im: Image.Image) -> bool:
    return min(im.size) >= MIN_SIDE


# ----------------------------------------------------------------------------- sources


def load_sources(src: Path) -> list[Source]:
    out: list[Source] = []

    # Portraits, flattened onto a vertical gradient shared by the source and its negatives.
    for race, name, negs in PORTRAITS:
        r = rng_for("portrait" + race + name)
        top = tuple(r.randrange(60, 240) for _ in range(3))
        bottom = tuple(max(0, c - r.randrange(40, 120)) for c in top)

        def load_portrait(n: str, race=race, top=top, bottom=bottom) -> Image.Image | None:
            p = src / WES / "portraits" / race / f"{n}.png"
            if not p.exists():
                print(f"missing {p}", file=sys.stderr)
                return None
            im = Image.open(p)
            im = flatten(im, gradient(im.size, top, bottom))
            return cap(im) if ok_size(im) else None

        im = load_portrait(name)
        if im is None:
            continue
        s = Source(f"wesnoth_portrait_{race}_{name}", "portrait", f"portrait/{race}/{name}", im)
        for n in negs:
            nim = load_portrait(n)
            if nim is not None:
                s.negatives.append(
                    (f"wesnoth_portrait_{race}_{n}", "same_template", nim, {"race": race})
                )
        out.append(s)

    # Landscapes and textures: a crop of a big picture; the remainder is a neighbour tile.
    for rel, negs in LANDSCAPES:
        p = src / rel
        big = flatten(Image.open(p), (0, 0, 0))
        r = rng_for("landscape" + rel)
        stem = Path(rel).stem
        w, h = big.size
        horiz = w >= h
        length = w if horiz else h
        frac = r.uniform(0.55, 0.62)
        overlap = r.uniform(0.0, 0.08)
        a_len = round(length * frac)
        b_start = round(length * (frac - overlap))
        first = r.random() < 0.5
        if horiz:
            box_a, box_b = (0, 0, a_len, h), (b_start, 0, w, h)
        else:
            box_a, box_b = (0, 0, w, a_len), (0, b_start, w, h)
        if not first:  # mirror: source on the far side
            if horiz:
                box_a, box_b = (w - a_len, 0, w, h), (0, 0, w - b_start, h)
            else:
                box_a, box_b = (0, h - a_len, w, h), (0, 0, w, h - b_start)
        a = cap(big.crop(box_a))
        b = cap(big.crop(box_b))
        s = Source(f"wesnoth_landscape_{stem}", "landscape", rel, a)
        if rel.startswith(FC):
            s.name = f"freeciv_photo_{stem}"
        if ok_size(b):
            s.negatives.append(
                (
                    f"{s.name}_neighbour",
                    "neighbour_tile",
                    b,
                    {"box": list(box_b), "source_box": list(box_a), "overlap_frac": overlap},
                )
            )
        for n in negs:
            nim = cap(flatten(Image.open(src / n), (0, 0, 0)))
            s.negatives.append((f"wesnoth_landscape_{Path(n).stem}", "same_template", nim, {}))
        out.append(s)

    for rel, n_src, n_neg in TEXTURES:
        big = flatten(Image.open(src / rel), (0, 0, 0))
        r = rng_for("texture" + rel)
        stem = Path(rel).stem
        parent = Path(rel).parent.name
        w, h = big.size
        if n_src + n_neg > 2:
            # Grid of cells over the big picture; each tile is a jittered box inside one cell.
            cols, rows = 4, 3
            cw, ch = w // cols, h // rows
            cells = [(i, j) for j in range(rows) for i in range(cols)]
            r.shuffle(cells)
            boxes = []
            for i, j in cells[: n_src + n_neg]:
                tw, th = round(cw * r.uniform(0.8, 0.95)), round(ch * r.uniform(0.8, 0.95))
                x = i * cw + r.randrange(0, cw - tw + 1)
                y = j * ch + r.randrange(0, ch - th + 1)
                boxes.append((x, y, x + tw, y + th))
        else:
            frac = r.uniform(0.56, 0.62)
            overlap = r.uniform(0.0, 0.08)
            if w >= h:
                a_len, b_start = round(w * frac), round(w * (frac - overlap))
                boxes = [(0, 0, a_len, h), (b_start, 0, w, h)]
            else:
                a_len, b_start = round(h * frac), round(h * (frac - overlap))
                boxes = [(0, 0, w, a_len), (0, b_start, w, h)]
        srcs = []
        for k in range(n_src):
            im = cap(big.crop(boxes[k]))
            srcs.append(Source(f"texture_{parent}_{stem}_{k + 1}", "texture", rel, im))
        for k in range(n_neg):
            box = boxes[n_src + k]
            im = cap(big.crop(box))
            if not ok_size(im):
                continue
            fam = srcs[k % n_src]
            fam.negatives.append(
                (
                    f"texture_{parent}_{stem}_tile{k + 1}",
                    "neighbour_tile",
                    im,
                    {"box": list(box), "source_boxes": [list(b) for b in boxes[:n_src]]},
                )
            )
        out.extend(srcs)

    # Screenshots: sources and same-program negatives drawn from sorted file lists.
    def opaque_rgb(p: Path) -> Image.Image | None:
        try:
            im = Image.open(p)
            im.load()
        except OSError:
            return None
        if im.mode in ("RGBA", "LA", "P"):
            im = flatten(im, (255, 255, 255))
        im = im.convert("RGB")
        return cap(im) if ok_size(im) else None

    for fam, pattern, n_src, n_neg in SCREENSHOTS:
        base = src / Path(pattern).parent
        files = sorted(base.glob(Path(pattern).name))
        r = rng_for("screens" + fam)
        r.shuffle(files)
        pics = []
        for p in files:
            im = opaque_rgb(p)
            if im is not None:
                pics.append((p, im))
            if len(pics) >= n_src * (n_neg + 1):
                break
        for k in range(n_src):
            p, im = pics[k]
            s = Source(f"{fam}_{p.stem}", "screenshot", str(p.relative_to(src)), im)
            for q, nim in pics[n_src + k * n_neg : n_src + (k + 1) * n_neg]:
                s.negatives.append((f"{fam}_{q.stem}", "same_template", nim, {"program": fam}))
            out.append(s)
    for fam, pat, negs in WESNOTH_SCREENS:
        base = src / WES_DOC
        p = sorted(base.glob(pat))[0]
        im = opaque_rgb(p)
        if im is None:
            continue
        s = Source(f"wesnoth_doc_{p.stem}", "screenshot", str(p.relative_to(src)), im)
        for npat in negs:
            q = sorted(base.glob(npat))[0]
            nim = opaque_rgb(q)
            if nim is not None:
                nm = f"wesnoth_doc_{q.parent.name}_{q.stem}"
                s.negatives.append((nm, "same_template", nim, {"program": "wesnoth_" + fam}))
        out.append(s)

    # Tile sheets flattened onto one plain colour per family.
    for rel, negs in TILESHEETS:
        r = rng_for("tiles" + rel)
        col = r.choice(PALETTE)

        def load_sheet(x: str, col=col) -> Image.Image:
            return cap(flatten(Image.open(src / FC / x), col))

        tag = rel.replace("/", "_").removesuffix(".png")
        s = Source(f"freeciv_sheet_{tag}", "tilesheet", rel, load_sheet(rel))
        for n in negs:
            nim = load_sheet(n)
            if ok_size(nim):
                ntag = n.replace("/", "_").removesuffix(".png")
                s.negatives.append((f"freeciv_sheet_{ntag}", "similar_texture", nim, {}))
        out.append(s)
    return out


def drop_near_copies(sources: list[Source]) -> None:
    """Drop sources and negatives that are almost the same picture as an earlier one."""
    kept: list[tuple[str, np.ndarray]] = []
    keep_src = []
    for s in sources:
        t = thumb(s.image)
        if any(float(t @ u) > 0.97 for _, u in kept):
            print(f"dropping source {s.name}: near copy of another source", file=sys.stderr)
            continue
        kept.append((s.name, t))
        keep_src.append(s)
    sources[:] = keep_src
    for s in sources:
        good = []
        for neg in s.negatives:
            t = thumb(neg[2])
            worst = max((float(t @ u), n) for n, u in kept)
            if worst[0] > 0.97:
                print(
                    f"dropping negative {neg[0]}: {worst[0]:.3f} like {worst[1]}", file=sys.stderr
                )
                continue
            kept.append((neg[0], t))  # later negatives must not copy this one either
            good.append(neg)
        s.negatives = good


def assign_splits(sources: list[Source]) -> None:
    r = random.Random(SEED)
    by_kind: dict[str, list[str]] = {}
    for s in sources:
        origins = by_kind.setdefault(s.kind, [])
        if s.origin not in origins:
            origins.append(s.origin)
    split_of: dict[str, str] = {}
    flip = 0
    for kind in sorted(by_kind):
        origins = by_kind[kind]
        r.shuffle(origins)
        for o in origins:
            split_of[o] = ("calib", "test")[flip % 2]
            flip += 1
    for s in sources:
        s.split = split_of[s.origin]


# ----------------------------------------------------------------------------- edits


def rand_colour(r: random.Random) -> tuple[int, int, int]:
    if r.random() < 0.4:
        return r.choice([(0, 0, 0), (255, 255, 255), (128, 128, 128)])
    return (r.randrange(256), r.randrange(256), r.randrange(256))


def e_crop(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    area = r.uniform(0.55, 0.90)
    fw = r.uniform(area, 1.0)
    fh = area / fw
    w, h = im.size
    cw, ch = max(1, round(w * fw)), max(1, round(h * fh))
    x, y = r.randrange(0, w - cw + 1), r.randrange(0, h - ch + 1)
    return im.crop((x, y, x + cw, y + ch)), {
        "area": round(cw * ch / (w * h), 3),
        "box": [x, y, cw, ch],
    }


def inner_box(w: int, h: int, deg: float) -> tuple[int, int]:
    """Largest axis-aligned rectangle inside a w x h rectangle rotated by deg."""
    a = math.radians(abs(deg))
    sin_a, cos_a = math.sin(a), math.cos(a)
    long_side, short_side = max(w, h), min(w, h)
    if short_side <= 2 * sin_a * cos_a * long_side:
        x = 0.5 * short_side
        wr, hr = (x / sin_a, x / cos_a) if w >= h else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr, hr = (w * cos_a - h * sin_a) / cos_2a, (h * cos_a - w * sin_a) / cos_2a
    return int(wr), int(hr)


def e_rotate_small(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    deg = r.uniform(2, 20) * r.choice([-1, 1])
    mode = r.choice(["inner_crop", "expand", "same_size"])
    fill = rand_colour(r)
    if mode == "inner_crop":
        out = im.rotate(deg, Image.BICUBIC, expand=True)
        iw, ih = inner_box(im.width, im.height, deg)
        cx, cy = out.width / 2, out.height / 2
        out = out.crop(
            (round(cx - iw / 2), round(cy - ih / 2), round(cx + iw / 2), round(cy + ih / 2))
        )
    else:
        out = im.rotate(deg, Image.BICUBIC, expand=mode == "expand", fillcolor=fill)
    return out, {"degrees": round(deg, 2), "mode": mode, "fill": list(fill)}


def e_rotate90(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    k = r.choice([90, 180, 270])
    t = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180}
    return im.transpose(t.get(k, Image.Transpose.ROTATE_270)), {"degrees": k}


def e_flip(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    if r.random() < 0.75:
        return ImageOps.mirror(im), {"axis": "horizontal"}
    return ImageOps.flip(im), {"axis": "vertical"}


def e_border(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    col = rand_colour(r)
    n = r.randint(1, 4)
    sides = r.sample(["left", "top", "right", "bottom"], n)
    uniform = r.random() < 0.5
    base = max(1, round(min(im.size) * r.uniform(0.005, 0.2)))
    widths = {}
    for sd in sides:
        widths[sd] = base if uniform else max(1, round(min(im.size) * r.uniform(0.005, 0.2)))
    out = ImageOps.expand(
        im,
        (
            widths.get("left", 0),
            widths.get("top", 0),
            widths.get("right", 0),
            widths.get("bottom", 0),
        ),
        fill=col,
    )
    return out, {"colour": list(col), "widths": widths}


def e_overlay(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    w, h = im.size
    cover = r.uniform(0.03, 0.20)
    kind = r.choice(["logo", "watermark", "caption_bar", "sticker"])
    out = im.convert("RGBA")
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    text = r.choice(WORDS)
    col = rand_colour(r)
    if kind == "caption_bar":
        bh = max(4, round(h * cover))
        y = r.choice([0, h - bh, r.randrange(0, h - bh + 1)])
        d.rectangle((0, y, w, y + bh), fill=(*col, r.randrange(170, 256)))
        d.text((w * 0.03, y + bh * 0.15), text, fill=(255, 255, 255, 255), font=font(bh * 0.6))
        box = [0, y, w, bh]
    else:
        area = cover * w * h
        aspect = r.uniform(0.6, 2.5) if kind != "watermark" else r.uniform(3, 6)
        bw = min(w, round(math.sqrt(area * aspect)))
        bh = min(h, round(area / max(bw, 1)))
        x, y = r.randrange(0, w - bw + 1), r.randrange(0, h - bh + 1)
        if kind == "logo":
            d.ellipse(
                (x, y, x + bw, y + bh), fill=(*col, 255), outline=(255, 255, 255, 255), width=3
            )
            d.text(
                (x + bw * 0.2, y + bh * 0.3),
                text[:6],
                fill=(255, 255, 255, 255),
                font=font(bh * 0.3),
            )
        elif kind == "sticker":
            d.rounded_rectangle((x, y, x + bw, y + bh), radius=min(bw, bh) // 5, fill=(*col, 255))
            d.text((x + bw * 0.08, y + bh * 0.25), text, fill=(0, 0, 0, 255), font=font(bh * 0.4))
        else:
            alpha = r.randrange(90, 200)
            d.text((x, y), text, fill=(*col, alpha), font=font(bh * 0.9))
        box = [x, y, bw, bh]
    out.alpha_composite(layer)
    return out.convert("RGB"), {"type": kind, "cover": round(cover, 3), "box": box, "text": text}


def e_text_banner(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    w, h = im.size
    bh = max(12, round(h * r.uniform(0.08, 0.25)))
    where = r.choice(["top", "bottom"])
    bg = rand_colour(r)
    fg = (0, 0, 0) if sum(bg) > 380 else (255, 255, 255)
    band = Image.new("RGB", (w, bh), bg)
    text = " ".join(r.sample(WORDS, 2))
    ImageDraw.Draw(band).text((w * 0.03, bh * 0.2), text, fill=fg, font=font(bh * 0.5))
    out = Image.new("RGB", (w, h + bh))
    out.paste(band, (0, 0 if where == "top" else h))
    out.paste(im, (0, bh if where == "top" else 0))
    return out, {"where": where, "height_frac": round(bh / h, 3), "text": text}


def e_blur(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    rad = r.uniform(0.8, 4.0)
    return im.filter(ImageFilter.GaussianBlur(rad)), {"radius": round(rad, 2)}


def e_noise(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    sigma = r.uniform(5, 30)
    g = np.random.default_rng(r.randrange(2**31))
    a = np.asarray(im, np.float32) + g.normal(0, sigma, (im.height, im.width, 3)).astype(np.float32)
    return Image.fromarray(a.clip(0, 255).astype(np.uint8)), {"sigma": round(sigma, 1)}


def e_sharpen(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    rad, pct = r.uniform(1, 4), r.randrange(80, 260)
    out = im.filter(ImageFilter.UnsharpMask(radius=rad, percent=pct, threshold=r.randrange(0, 4)))
    return out, {"radius": round(rad, 2), "percent": pct}


def e_color(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    hue = r.uniform(-60, 60) if r.random() < 0.6 else 0.0
    sat = r.uniform(0.4, 1.8)
    con = r.uniform(0.6, 1.5)
    out = im
    if hue:
        hsv = np.asarray(im.convert("HSV")).copy()
        hsv[..., 0] = ((hsv[..., 0].astype(int) + round(hue / 360 * 256)) % 256).astype(np.uint8)
        out = Image.fromarray(hsv, "HSV").convert("RGB")
    out = ImageEnhance.Color(out).enhance(sat)
    out = ImageEnhance.Contrast(out).enhance(con)
    return out, {"hue_deg": round(hue, 1), "saturation": round(sat, 2), "contrast": round(con, 2)}


def e_brighten(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    f = r.uniform(1.2, 1.8)
    return ImageEnhance.Brightness(im).enhance(f), {"factor": round(f, 2)}


def e_darken(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    f = r.uniform(0.4, 0.8)
    return ImageEnhance.Brightness(im).enhance(f), {"factor": round(f, 2)}


def e_greyscale(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    return im.convert("L").convert("RGB"), {}


def e_screenshot(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict]:
    style = r.choice(["window", "page"])
    scale = r.uniform(0.4, 0.95)
    pw, ph = max(1, round(im.width * scale)), max(1, round(im.height * scale))
    pic = im.resize((pw, ph), Image.LANCZOS)
    if style == "window":
        title = r.randrange(20, 40)
        side = r.randrange(0, max(1, pw // 3)) if r.random() < 0.5 else 0
        pad = r.randrange(4, 30)
        cw, ch = pw + side + 2 * pad, ph + title + 2 * pad + r.randrange(0, 40)
        chrome = r.choice([(236, 236, 236), (48, 48, 52), (220, 228, 240)])
        out = Image.new("RGB", (cw, ch), chrome)
        d = ImageDraw.Draw(out)
        d.rectangle((0, 0, cw, title), fill=tuple(max(0, c - 30) for c in chrome))
        for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
            d.ellipse((8 + i * 20, title // 2 - 6, 20 + i * 20, title // 2 + 6), fill=c)
        d.text(
            (80, title * 0.2),
            r.choice(WORDS) + ".png",
            fill=(120, 120, 120),
            font=font(title * 0.55),
        )
        if side:
            d.rectangle((0, title, side, ch), fill=tuple(max(0, c - 15) for c in chrome))
        out.paste(pic, (side + pad, title + pad))
    else:
        mx = r.randrange(20, 120)
        top = r.randrange(40, 160)
        bottom = r.randrange(40, 200)
        out = Image.new("RGB", (pw + 2 * mx, ph + top + bottom), (255, 255, 255))
        d = ImageDraw.Draw(out)
        d.text((mx, top * 0.25), r.choice(WORDS).title(), fill=(20, 20, 20), font=font(top * 0.35))
        y = top + ph + 12
        while y < out.height - 14:
            d.rectangle((mx, y, mx + r.randrange(pw // 2, pw), y + 6), fill=(150, 150, 150))
            y += 16
        out.paste(pic, (mx, top))
    return out, {"style": style, "scale": round(scale, 3), "canvas": list(out.size)}


SIMPLE = {
    "crop": e_crop,
    "rotate_small": e_rotate_small,
    "rotate90": e_rotate90,
    "flip": e_flip,
    "border": e_border,
    "overlay": e_overlay,
    "text_banner": e_text_banner,
    "blur": e_blur,
    "noise": e_noise,
    "sharpen": e_sharpen,
    "color": e_color,
    "brighten": e_brighten,
    "darken": e_darken,
    "greyscale": e_greyscale,
    "screenshot": e_screenshot,
}


def encode(im: Image.Image, fmt: str, quality: int | None) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.convert("RGB").save(buf, "JPEG", quality=quality)
    elif fmt == "WEBP":
        im.save(buf, "WEBP", quality=quality, method=4)
    else:
        im.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


EXT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def pick_format(r: random.Random) -> tuple[str, int | None]:
    x = r.random()
    if x < 0.55:
        return "JPEG", r.randrange(55, 97)
    if x < 0.8:
        return "PNG", None
    return "WEBP", r.randrange(50, 95)


def resize(im: Image.Image, s: float) -> Image.Image:
    return im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)


def make_edit(kind: str, im: Image.Image, r: random.Random) -> tuple[bytes, str, dict]:
    """Return encoded bytes, extension and params of one edited copy."""
    if kind == "resize_recompress":
        s = r.uniform(0.3, 0.9)
        fmt, q = (
            ("JPEG", r.randrange(40, 91)) if r.random() < 0.75 else ("WEBP", r.randrange(40, 90))
        )
        return (
            encode(resize(im, s), fmt, q),
            EXT[fmt],
            {"scale": round(s, 3), "format": fmt, "quality": q},
        )
    if kind == "jpeg_heavy":
        q = r.randrange(5, 26)
        s = r.uniform(0.5, 1.0) if r.random() < 0.3 else 1.0
        out = resize(im, s) if s < 1 else im
        return encode(out, "JPEG", q), "jpg", {"quality": q, "scale": round(s, 3)}
    if kind == "recompress_chain":
        qs = [r.randrange(35, 90) for _ in range(r.randint(2, 5))]
        cur = im
        for q in qs:
            cur = Image.open(io.BytesIO(encode(cur, "JPEG", q))).convert("RGB")
        return encode(cur, "JPEG", qs[-1]), "jpg", {"qualities": qs}
    if kind == "compound":
        steps = r.sample(
            [k for k in SIMPLE if k not in ("greyscale", "rotate90")] + ["greyscale", "rotate90"],
            r.randint(3, 4),
        )
        if "screenshot" in steps:  # screenshot framing goes last
            steps.remove("screenshot")
            steps.append("screenshot")
        out = im
        plist = []
        for k in steps:
            out, p = SIMPLE[k](out, r)
            plist.append({"edit": k, **p})
        params: dict = {"steps": plist}
    else:
        out, params = SIMPLE[kind](im, r)
    if r.random() < 0.25 and min(out.size) > 200:
        s = r.uniform(0.5, 0.9)
        out = resize(out, s)
        params["resize"] = round(s, 3)
    fmt, q = pick_format(r)
    params["format"], params["quality"] = fmt, q
    return encode(out, fmt, q), EXT[fmt], params


def original_format(s: Source, r: random.Random) -> tuple[str, int | None]:
    if s.kind in ("landscape", "texture"):
        return ("JPEG", r.randrange(88, 98)) if r.random() < 0.7 else ("PNG", None)
    return ("PNG", None) if r.random() < 0.7 else ("JPEG", r.randrange(88, 98))


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sources", type=Path, default=Path("benchmarks/work/games"))
    args = ap.parse_args()

    sources = load_sources(args.sources)
    drop_near_copies(sources)
    assign_splits(sources)

    r = random.Random(SEED)
    used = dict.fromkeys(EDIT_KINDS, 0)
    records: list[tuple[bytes, str, dict]] = []
    for gi, s in enumerate(sources, start=1):
        group = f"g{gi:03d}"
        sr = rng_for("edits" + s.name)
        base = {"group": group, "source": s.name, "split": s.split, "kind": s.kind}
        fmt, q = original_format(s, sr)
        orig = encode(s.image, fmt, q)
        records.append((orig, EXT[fmt], {**base, "edit": "original", "params": {"format": fmt}}))
        n = sr.randint(9, 11)
        order = sorted(EDIT_KINDS, key=lambda k: (used[k], r.random()))
        for kind in order[:n]:
            used[kind] += 1
            if kind == "exact_copy":
                rec = (orig, EXT[fmt], {**base, "edit": kind, "params": {"format": fmt}})
            else:
                data, ext, params = make_edit(kind, s.image, sr)
                rec = (data, ext, {**base, "edit": kind, "params": params})
            records.append(rec)
        for name, ntype, nim, extra in s.negatives:
            nf, nq = pick_format(sr)
            params = {"family": s.name, "format": nf, "quality": nq, **extra}
            meta = {"group": None, "source": name, "split": s.split, "kind": s.kind}
            records.append(
                (encode(nim, nf, nq), EXT[nf], {**meta, "edit": ntype, "params": params})
            )

    r.shuffle(records)
    img_dir = args.out / "images"
    if img_dir.exists():
        shutil.rmtree(img_dir)
    img_dir.mkdir(parents=True)
    images = []
    for i, (data, ext, meta) in enumerate(records, start=1):
        rel = f"images/{i:06d}.{ext}"
        (args.out / rel).write_bytes(data)
        images.append({"path": rel, **meta})
    truth = {"version": 1, "seed": SEED, "images": images}
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")

    n_neg = sum(1 for m in images if m["group"] is None)
    print(f"{len(sources)} sources, {len(images)} images, {n_neg} negatives -> {args.out}")


if __name__ == "__main__":
    main()
