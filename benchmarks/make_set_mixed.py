"""Build the "mixed" labelled near-duplicate evaluation set.

Usage::

    fetch_mixed_sources.sh WORK            # downloads + unpacks the Debian packages below
    make_set_mixed.py OUTDIR [--seed 1] [--sources-dir WORK] [--jobs 2]

Sources (Debian bookworm packages unpacked by ``fetch_mixed_sources.sh``; nothing else is read
except the fonts and ``sample_data/grace_hopper.jpg`` shipped inside the installed matplotlib)
-----------------------------------------------------------------------------------------------
kind ``screenshot`` - application screenshots from the English KDE handbooks
    (``usr/share/doc/HTML/en/<app>/*.png``) of dolphin, gwenview, kile-doc, okular, kolourpaint,
    marble-data, plus the kst-doc tutorial screenshots.  Only shots with long side >= 400 px and
    short side >= 200 px.  A dialog = app + first token of the file name (``kile:config``,
    ``marble:routing``, ``dolphin:preferences``) groups the pages / tabs / states of one dialog
    or window; the family used for the split is the application.  Per application
    min(7, max(3, n // 4)) originals are drawn, first one from each dialog with several
    pages; the other pages of that dialog, then other windows of the same application, are
    ``same_template`` negatives (at most 6 per original).
kind ``photo`` - photographs: opencv-doc ``examples/data`` photos, matplotlib ``grace_hopper.jpg``,
    stellarium-data deep-sky photos (``nebulae/default``, 5 random sets of 8: 2 originals + 6
    ``similar_texture`` negatives each) and the photographic landscape
    panoramas (``landscapes/*``, alpha composited on a sky colour and stitched).  Negatives:
    ``same_scene`` (graf1 -> graf3: the same wall from another viewpoint), ``neighbour_tile``
    (other non-overlapping windows of a panorama whose one window is the original) and
    ``similar_texture`` (another deep-sky photo of the same catalogue look).
kind ``graphic`` - game art and illustrations: supertux-data backgrounds, lincity-ng-data menu
    screens, frozen-bubble-data screens, pingus-data textures, stellarium-data sky-culture
    constellation drawings (7 cultures, 2 originals + up to 9 negatives each) and the gimp-data
    splash.  Negatives:
    ``same_template`` (another screen of the same game menu set), ``similar_texture`` (another
    texture / drawing of the same set and style) and ``neighbour_tile`` (other tiles of a
    large splash / background - gimp splash and supertux editor background 3x3, three
    supertux level backgrounds 2x2 - whose one tile is the original).  (Rejected by eye: the
    xfdesktop4-data wallpapers - plain gradients whose tiles all look alike.)
kind ``document`` - documents and charts rendered here with Pillow / matplotlib from made-up
    content, 8 templates: invoice, month calendar, train timetable, spreadsheet, code listing,
    dot map, annotated heatmap, Gantt chart.  Family = template; 3 originals + 10
    ``same_template`` negatives (same layout and style, other content) per template.
kind ``sequence`` - video frames and photo series: opencv-doc ``vtest.avi`` (street, fixed
    camera; 5 originals) and ``Megamind.avi`` (animation; 9 originals); family = clip;
    ``burst_frame`` negatives are other frames (25-50 resp. 10-24 frames away) that must
    visibly differ (label-safety rule below).  Also
    the opencv camera-calibration series ``left01..left14`` (originals left01, left09;
    ``same_scene`` negatives left03/05/11/13: the same room, other chessboard poses) and
    ``basketball1`` with ``basketball2`` as ``burst_frame``; supertux-data yeti sprite
    animation frames (busted1 original, busted2/3 ``burst_frame``).
    (Looked at and rejected: ``tree.avi`` - leaves barely move; xine-ui animations - only a
    shimmer moves, frames look like copies; supertux tux / ghost-tree sprite frames - blank or
    identical; opencv ``camshift_face.gif`` - same frame with other annotations.)

Every original is converted to RGB (alpha composited on a fixed colour) and resized to a long
side in [700, 1200] px (smaller pictures upscaled, at most 2.2x; pictures needing more are
dropped, as are near-blank ones: std of the grey 64x64 thumbnail < 10).  Originals are written
as PNG (screenshot, graphic, document) or JPEG q95 (photo, sequence); negatives likewise,
40 % of them re-saved as JPEG q80-95 instead.

Edit kinds (each group original gets 6-8 distinct kinds drawn at random; parameters uniform)
-------------------------------------------------------------------------------------------
exact_copy          byte-identical copy of the original file.
resize_recompress   scale 0.25-0.9, JPEG q 30-95.
recompress_chain    3-6 JPEG saves at q 30-85, each after a resize by 0.85-1.05.
crop                keep 55-95 % of the area, width share = sqrt(area)*exp(U(-0.35, 0.35)),
                    placed uniformly.
flip                horizontal (70 %) or vertical mirror.
rotate90            90 / 180 / 270 degrees.
rotate_small        2-20 degrees either way; half cropped to the largest inner rectangle, half
                    expanded with corners filled by a random colour.
border              uniform random colour, width 2-35 % of the side (odd pixel count), on 1, 2
                    or 4 sides or padded to square; half resized back to the original size.
overlay             logo (shapes + word), alpha watermark text, caption box or sticker shape;
                    3-25 % of the area, anywhere, opacity 0.35-1.
text_banner         band of 8-20 % of the height with text, top or bottom, painted over the
                    picture or added to the canvas.
color               2-3 of: hue shift +-15-60 deg, saturation 0.3-1.7, contrast 0.6-1.5,
                    gamma 0.6-1.6.
greyscale           luminance only (saved as RGB or L).
darken              brightness factor 0.25-0.7.
brighten            brightness factor 1.2-1.7.
blur                Gaussian radius 1-7 px, scaled by long side / 1000.
noise               additive Gaussian sigma 4-30.
jpeg_heavy          JPEG q 2-15.
sharpen             unsharp mask radius 1-3, 80-250 %.
screenshot          picture pasted into a desktop window or phone frame with fake UI,
                    occupying 45-85 % of the canvas area.
compound            3-4 of crop / color / resize / border / overlay / text_banner / blur / noise /
                    rotate_small / flip / brighten / darken at moderate strength, chained.
Output format of edits not bound to JPEG: 70 % JPEG q 70-95, 15 % PNG, 15 % WebP q 70-95.

Negative kinds (group null, ``params.near`` = the original they resemble)
--------------------------------------------------------------------------
neighbour_tile, same_template, burst_frame, same_scene, similar_texture - see the sources.

Label-safety rule
-----------------
All candidates (originals first, in a fixed order, then negatives) are compared with every
already accepted picture (originals and negatives alike).

1. Coarse test: each picture is reduced to a 64x64 grey thumbnail (aspect ignored); for each of
   the 8 flips/rotations of the accepted picture compute (a) the mean absolute difference of
   the z-normalised thumbnails and (b) the share of raw grey pixels differing by > 24 levels.
   The pair is "similar" if (a) < 0.30 (about correlation > 0.93) or (b) < 4 %.
2. Fine test, for similar pairs only: both pictures as 256-px-long-side grey thumbnails, in the
   orientation found above; if their aspect ratios differ by more than 4 % they are different
   pictures; otherwise the share of 16x16 blocks in which more than 2 % of the pixels differ by
   > 32 levels is computed.  Fewer than 20 % changed blocks = the same picture -> drop the
   candidate (so a video frame with little motion, a sprite with one small extra object, a
   dialog page that differs in one check box, a blank-ish tile are all dropped).
3. Containment (screenshot and graphic families): a candidate is dropped if it is, or
   contains, a crop of an accepted picture of its family: normalised cross-correlation > 0.90
   of the smaller picture searched inside the larger at native relative scale (1/4 size grey).
4. Near-blank pictures (std of the 256-px grey thumbnail < 8) are dropped.  A dropped
   original also drops its negatives.  Tiles of one picture never overlap.

Every decision is written to ``OUTDIR/safety_log.txt``.  Contact sheets of groups and of
negatives (with the original they resemble) were then inspected by eye; the clips and
negatives rejected by eye are listed above.

Split rule
----------
Split "calib" / "test" by family (all pictures of one app dialog / photo set / clip / template,
including its negatives, go to the same half), stratified by kind: within each kind, families are
taken from largest to smallest (image count) and put in the half that has fewer images of that
kind so far (ties broken by a seeded coin).

Output
------
``OUTDIR/images/NNNNNN.<jpg|png|webp>`` (names from a seeded shuffle) and ``OUTDIR/truth.json``:
``{"version": 1, "seed": S, "images": [{"path", "group", "edit", "source", "split", "kind",
"params"}, ...]}``; for negatives group is null, edit is the negative kind, source is the
family's name and params.near names the original they resemble.  Everything random comes
from ``random.Random`` / ``numpy.random.default_rng`` seeded with strings such as
``f"{seed}:{source}:{edit}"``, so the output is identical on rerun and for any --jobs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import shutil
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

matplotlib.use("Agg")
import matplotlib.pyplot as plt

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
MPL_SAMPLE = Path(matplotlib.get_data_path()) / "sample_data"
KINDS = ("screenshot", "photo", "graphic", "document", "sequence")
EDIT_KINDS = (
    "exact_copy",
    "resize_recompress",
    "recompress_chain",
    "crop",
    "flip",
    "rotate90",
    "rotate_small",
    "border",
    "overlay",
    "text_banner",
    "color",
    "greyscale",
    "darken",
    "brighten",
    "blur",
    "noise",
    "jpeg_heavy",
    "sharpen",
    "screenshot",
    "compound",
)
ORIG_EXT = {
    "screenshot": "png",
    "graphic": "png",
    "document": "png",
    "photo": "jpg",
    "sequence": "jpg",
}
WORDS = [
    "alpha",
    "delta",
    "orbit",
    "cedar",
    "maple",
    "harbor",
    "copper",
    "violet",
    "summit",
    "falcon",
    "river",
    "lumen",
    "nova",
    "quartz",
    "tundra",
    "meadow",
    "ember",
    "willow",
    "cobalt",
    "sierra",
    "atlas",
    "pixel",
    "vector",
    "marble",
    "onyx",
]


def rng_for(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def np_rng(*parts: object) -> np.random.Generator:
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def font(size: int, style: str = "sans") -> ImageFont.FreeTypeFont:
    name = {
        "sans": "DejaVuSans.ttf",
        "bold": "DejaVuSans-Bold.ttf",
        "mono": "DejaVuSansMono.ttf",
        "serif": "DejaVuSerif.ttf",
        "monob": "DejaVuSansMono-Bold.ttf",
    }[style]
    return ImageFont.truetype(str(FONT_DIR / name), max(6, int(size)))


@dataclass
class Cand:
    """A candidate picture: a group original (role "original") or a negative."""

    name: str
    family: str
    kind: str
    role: str
    loader: tuple[Any, ...]
    near: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- loading


def to_rgb(im: Image.Image, bg: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        base = Image.new("RGBA", im.size, (*bg, 255))
        base.alpha_composite(im)
        return base.convert("RGB")
    return im.convert("RGB")


def normalise(im: Image.Image) -> Image.Image | None:
    w, h = im.size
    long = max(w, h)
    target = min(max(long, 700), 1200)
    s = target / long
    if s > 2.2:
        return None
    if abs(s - 1) > 1e-6:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return im


def load_panorama(src: Path, spec: dict[str, Any]) -> Image.Image:
    parts = [to_rgb(Image.open(src / p), tuple(spec["bg"])) for p in spec["files"]]
    hh = max(p.size[1] for p in parts)
    pano = Image.new("RGB", (sum(p.size[0] for p in parts), hh), tuple(spec["bg"]))
    x = 0
    for p in parts:
        pano.paste(p, (x, hh - p.size[1]))
        x += p.size[0]
    return pano


def load_cand(src: Path, c: Cand, frames: dict[str, np.ndarray]) -> Image.Image | None:
    kind = c.loader[0]
    if kind == "file":
        im = to_rgb(
            Image.open(src / c.loader[1] if not Path(c.loader[1]).is_absolute() else c.loader[1]),
            c.loader[2] if len(c.loader) > 2 else (255, 255, 255),
        )
    elif kind == "tile":
        spec = c.loader[1]
        base = (
            load_panorama(src, spec) if "files" in spec else to_rgb(Image.open(src / spec["file"]))
        )
        x0, y0, x1, y1 = spec["box"]
        W, H = base.size
        im = base.crop((round(x0 * W), round(y0 * H), round(x1 * W), round(y1 * H)))
    elif kind == "frame" and c.loader[1].endswith(".gif"):
        gif = Image.open(src / c.loader[1])
        gif.seek(c.loader[2])
        im = to_rgb(gif)
    elif kind == "frame":
        im = Image.fromarray(frames[c.name])
    elif kind == "doc":
        im = render_doc(c.loader[1], c.loader[2])
    else:
        raise ValueError(kind)
    return normalise(im)


def read_frames(path: Path, wanted: list[int]) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    want = set(wanted)
    if path.suffix == ".avi":
        cap = cv2.VideoCapture(str(path))
        i = 0
        while want - set(out):
            ok, fr = cap.read()
            if not ok:
                break
            if i in want:
                out[i] = cv2.cvtColor(fr, cv2.COLOR_BGR2RGB)
            i += 1
    else:
        import av

        with av.open(str(path)) as cont:
            for i, fr in enumerate(cont.decode(video=0)):
                if i in want:
                    out[i] = fr.to_ndarray(format="rgb24")
                if not (want - set(out)):
                    break
    return out


# ----------------------------------------------------------------------------- catalogue


def screenshot_cands(src: Path, seed: int) -> list[Cand]:
    apps = {
        "dolphin": "dolphin",
        "gwenview": "gwenview",
        "kile": "kile-doc",
        "okular": "okular",
        "kolourpaint": "kolourpaint",
        "marble": "marble-data",
    }
    shots: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for app, pkg in apps.items():
        for p in sorted((src / pkg / "usr/share/doc/HTML/en" / app).glob("*.png")):
            w, h = Image.open(p).size
            if max(w, h) >= 400 and min(w, h) >= 200:
                shots[app].append((p.stem, str(p.relative_to(src))))
    for p in sorted((src / "kst-doc/usr/share/doc/kst-doc/tutorial").glob("Screenshot-*.png")):
        w, h = Image.open(p).size
        if max(w, h) >= 400 and min(w, h) >= 200:
            shots["kst"].append((p.stem, str(p.relative_to(src))))
    out: list[Cand] = []
    for app in sorted(shots):
        fam = f"shots_{app}"
        r = rng_for(seed, fam, "pick")
        by_prefix: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for stem, rel in shots[app]:
            tok = stem.replace("_", "-").split("-")[0].rstrip("0123456789") or stem
            by_prefix[tok].append((stem, rel))
        prefixes = sorted(by_prefix, key=lambda t: (-len(by_prefix[t]), t))
        n_orig = min(7, max(3, len(shots[app]) // 4))
        origs: list[tuple[str, str, str]] = []
        for t in prefixes:
            mem = list(by_prefix[t])
            r.shuffle(mem)
            by_prefix[t] = mem
        for t in prefixes:  # one original per dialog with several pages first
            if len(origs) < n_orig and len(by_prefix[t]) >= 2:
                origs.append((t, *by_prefix[t].pop(0)))
        rest = [t for t in prefixes if by_prefix[t]]
        r.shuffle(rest)
        for t in rest:
            if len(origs) < n_orig and len(by_prefix[t]) == 1:
                origs.append((t, *by_prefix[t].pop(0)))
        for _t, stem, rel in origs:
            out.append(Cand(f"{fam}_{stem}", fam, "screenshot", "original", ("file", rel)))
        count = {o[1]: 0 for o in origs}
        leftovers: list[tuple[str, str]] = []
        for t, stem, _rel in origs:  # other pages / states of the same dialog
            for st2, rel2 in by_prefix[t]:
                if count[stem] < 6:
                    out.append(
                        Cand(
                            f"{fam}_{st2}",
                            fam,
                            "screenshot",
                            "same_template",
                            ("file", rel2),
                            near=f"{fam}_{stem}",
                        )
                    )
                    count[stem] += 1
                else:
                    leftovers.append((st2, rel2))
            by_prefix[t] = []
        leftovers += [m for t in prefixes for m in by_prefix[t]]
        for st2, rel2 in leftovers:  # other windows of the same application
            free = [o[1] for o in origs if count[o[1]] < 6]
            if not free:
                break
            stem = r.choice(free)
            out.append(
                Cand(
                    f"{fam}_{st2}",
                    fam,
                    "screenshot",
                    "same_template",
                    ("file", rel2),
                    near=f"{fam}_{stem}",
                )
            )
            count[stem] += 1
    return out


def photo_cands(src: Path) -> list[Cand]:
    d = "opencv-doc/usr/share/doc/opencv-doc/examples/data/"
    out: list[Cand] = []
    singles = [
        "aero1.jpg",
        "apple.jpg",
        "baboon.jpg",
        "board.jpg",
        "building.jpg",
        "butterfly.jpg",
        "fruits.jpg",
        "HappyFish.jpg",
        "home.jpg",
        "messi5.jpg",
        "orange.jpg",
        "smarties.png",
        "squirrel_cls.jpg",
        "starry_night.jpg",
        "stuff.jpg",
        "box_in_scene.png",
        "ela_original.jpg",
        "lena.jpg",
    ]
    for f in singles:
        if (src / d / f).exists():
            stem = Path(f).stem.lower()
            out.append(
                Cand(f"opencv_{stem}", f"opencv_{stem}", "photo", "original", ("file", d + f))
            )
    sets = {
        "opencv_graf": (["graf1.png"], ["graf3.png"], "same_scene"),
        "opencv_suzanne": (["Blender_Suzanne1.jpg"], [], "same_scene"),
    }
    for fam, (srcs, negs, nk) in sets.items():
        for f in srcs:
            out.append(
                Cand(f"{fam}_{Path(f).stem.lower()}", fam, "photo", "original", ("file", d + f))
            )
        for j, f in enumerate(negs):
            owner = srcs[j % len(srcs)]
            out.append(
                Cand(
                    f"{fam}_{Path(f).stem.lower()}",
                    fam,
                    "photo",
                    nk,
                    ("file", d + f),
                    near=f"{fam}_{Path(owner).stem.lower()}",
                )
            )
    gh = MPL_SAMPLE / "grace_hopper.jpg"
    out.append(Cand("mpl_grace_hopper", "mpl_grace_hopper", "photo", "original", ("file", str(gh))))
    # deep-sky photographs: originals with look-alike (similar_texture) negatives
    neb = src / "stellarium-data/usr/share/stellarium/nebulae/default"
    nebs = sorted(p for p in neb.glob("*.png") if min(Image.open(p).size) >= 512)
    nebs = rng_for("nebulae").sample(nebs, min(40, len(nebs)))
    for gi in range(5):
        fam = f"stel_deepsky_{gi}"
        mem = nebs[gi * 8 : (gi + 1) * 8]
        for k, p in enumerate(mem):
            role = "original" if k < 2 else "similar_texture"
            near = None if k < 2 else f"{fam}_{mem[k % 2].stem}"
            out.append(
                Cand(
                    f"{fam}_{p.stem}",
                    fam,
                    "photo",
                    role,
                    ("file", str(p.relative_to(src)), (0, 0, 0)),
                    near=near,
                )
            )
    # photographic panoramas: one window is the original, other windows are neighbour tiles
    ls = "stellarium-data/usr/share/stellarium/landscapes/"
    panos = {
        "stel_hurricane": (
            [ls + f"hurricane/hurricane{i}.png" for i in range(1, 9)],
            (150, 180, 215),
            8,
        ),
        "stel_garching": (
            [ls + f"garching/garching-gl{i}.png" for i in range(1, 5)],
            (160, 190, 225),
            8,
        ),
        "stel_grossmugl": (
            [ls + "grossmugl/grossmugl_leeberg_crop11.25_2048.png"],
            (120, 150, 200),
            4,
        ),
        "stel_mars": ([ls + "mars/mars.png"], (190, 150, 120), 4),
    }
    for fam, (files, bg, ncols) in panos.items():
        if not all((src / f).exists() for f in files):
            continue
        rows = 1 if len(files) > 1 or "grossmugl" in fam else 2
        boxes = []
        for r in range(rows):
            for k in range(ncols // rows if rows == 2 else ncols):
                n = ncols // rows if rows == 2 else ncols
                boxes.append((k / n, r / rows, (k + 1) / n, (r + 1) / rows))
        if rows == 2:
            boxes = [(b[0], b[1], b[2], b[3]) for b in boxes]
        pick = rng_for(fam, "tile").sample(range(len(boxes)), min(6, len(boxes)))
        spec0 = {"files": files, "bg": list(bg)}
        srcname = f"{fam}_tile{pick[0]}"
        out.append(
            Cand(srcname, fam, "photo", "original", ("tile", dict(spec0, box=boxes[pick[0]])))
        )
        for t in pick[1:6]:
            out.append(
                Cand(
                    f"{fam}_tile{t}",
                    fam,
                    "photo",
                    "neighbour_tile",
                    ("tile", dict(spec0, box=boxes[t])),
                    near=srcname,
                )
            )
    return out


def graphic_cands(src: Path) -> list[Cand]:
    out: list[Cand] = []
    st = "supertux-data/usr/share/games/supertux2/images/background/"
    tux = {
        "supertux_semi_arctic": st + "antarctic/semi_arctic.jpg",
        "supertux_ghostforest": st + "ghostforest/ghostforest.jpg",
        "supertux_oiltux": st + "misc/oiltux.jpg",
        "supertux_arcticskies": st + "arcticskies/arcticskies1.png",
    }
    for name, rel in tux.items():
        if (src / rel).exists():
            out.append(Cand(name, name, "graphic", "original", ("file", rel)))
    fb = "frozen-bubble-data/usr/share/games/frozen-bubble/gfx/"
    fbs = [
        "back_one_player.png",
        "back_hiscores.png",
        "back_netgame.png",
        "back_paused.png",
        "back_multiplayer.png",
        "backgrnd.png",
        "level_editor.png",
        "intro/back_intro.png",
    ]
    fam = "frozenbubble_screens"
    srcs = fbs[:3]
    for f in srcs:
        out.append(Cand(f"{fam}_{Path(f).stem}", fam, "graphic", "original", ("file", fb + f)))
    for j, f in enumerate(fbs[3:]):
        out.append(
            Cand(
                f"{fam}_{Path(f).stem}",
                fam,
                "graphic",
                "same_template",
                ("file", fb + f),
                near=f"{fam}_{Path(srcs[j % 3]).stem}",
            )
        )
    lc = "lincity-ng-data/usr/share/games/lincity-ng/images/"
    fam = "lincity_menus"
    lcs = [
        "mainmenu/menu_back.png",
        "mainmenu/newgame_back.png",
        "mainmenu/loadsave_back.png",
        "gui/panel.png",
    ]
    lcs += [
        str(p.relative_to(src / lc))
        for p in sorted((src / lc / "mainmenu").glob("*.png"))
        if Image.open(p).size[0] >= 700 and str(p.relative_to(src / lc)) not in lcs
    ]
    out.append(Cand(f"{fam}_menu_back", fam, "graphic", "original", ("file", lc + lcs[0])))
    for f in lcs[1:4]:
        out.append(
            Cand(
                f"{fam}_{Path(f).stem}",
                fam,
                "graphic",
                "same_template",
                ("file", lc + f),
                near=f"{fam}_menu_back",
            )
        )
    # lincity building tiles: sprites of one style
    tiles = sorted(p for p in (src / lc / "tiles").glob("*.png") if min(Image.open(p).size) >= 330)
    rng = rng_for("lincity_tiles")
    tiles = rng.sample(tiles, min(9, len(tiles)))
    fam = "lincity_tiles"
    for k, p in enumerate(tiles):
        role = "original" if k < 3 else "similar_texture"
        near = None if k < 3 else f"{fam}_{tiles[k % 3].stem}"
        out.append(
            Cand(
                f"{fam}_{p.stem}",
                fam,
                "graphic",
                role,
                ("file", str(p.relative_to(src)), (235, 235, 225)),
                near=near,
            )
        )
    # pingus textures
    pt = sorted((src / "pingus-data/usr/share/games/pingus/data/images/textures").glob("*.jpg"))
    pt = [p for p in pt if max(Image.open(p).size) >= 400]
    pt = rng_for("pingus").sample(pt, min(9, len(pt)))
    fam = "pingus_textures"
    for k, p in enumerate(pt):
        role = "original" if k < 3 else "similar_texture"
        near = None if k < 3 else f"{fam}_{pt[k % 3].stem}"
        out.append(
            Cand(
                f"{fam}_{p.stem}",
                fam,
                "graphic",
                role,
                ("file", str(p.relative_to(src))),
                near=near,
            )
        )
    # stellarium sky-culture drawings, family = culture
    sc = src / "stellarium-data/usr/share/stellarium/skycultures"
    for cult in (
        "egyptian_dendera",
        "boorong",
        "belarusian",
        "greek_farnese",
        "arabic_al-sufi",
        "romanian",
        "macedonian",
    ):
        fs = sorted(p for p in (sc / cult).glob("*.png") if min(Image.open(p).size) >= 350)
        fs = rng_for("cult", cult).sample(fs, min(11, len(fs)))
        fam = f"stel_art_{cult}"
        for k, p in enumerate(fs):
            role = "original" if k < 2 else "similar_texture"
            near = None if k < 2 else f"{fam}_{fs[k % 2].stem}"
            out.append(
                Cand(
                    f"{fam}_{p.stem}",
                    fam,
                    "graphic",
                    role,
                    ("file", str(p.relative_to(src)), (20, 24, 40)),
                    near=near,
                )
            )
    # large wallpapers / splash / wide backgrounds: one tile original, other tiles negatives
    big = {
        "supertux_nighthills": (st + "forest/nighthills.png", 2, 2),
        "supertux_christmas_intro": (st + "christmas/intro.jpg", 2, 2),
        "supertux_halloween_outro": (st + "halloween/outro.jpg", 2, 2),
        "gimp_splash": ("gimp-data/usr/share/gimp/2.0/images/gimp-splash.png", 3, 3),
        "supertux_bg_editor": (
            ("supertux-data/usr/share/games/supertux2/images/engine/menu/bg_editor.png"),
            3,
            3,
        ),
    }
    for fam, (rel, nx, ny) in big.items():
        if not (src / rel).exists():
            continue
        boxes = [(i / nx, j / ny, (i + 1) / nx, (j + 1) / ny) for j in range(ny) for i in range(nx)]
        pick = rng_for(fam, "tile").sample(range(len(boxes)), min(6, len(boxes)))
        srcname = f"{fam}_tile{pick[0]}"
        out.append(
            Cand(
                srcname, fam, "graphic", "original", ("tile", {"file": rel, "box": boxes[pick[0]]})
            )
        )
        for t in pick[1:]:
            out.append(
                Cand(
                    f"{fam}_tile{t}",
                    fam,
                    "graphic",
                    "neighbour_tile",
                    ("tile", {"file": rel, "box": boxes[t]}),
                    near=srcname,
                )
            )
    return out


def sequence_cands(src: Path) -> list[Cand]:
    d = "opencv-doc/usr/share/doc/opencv-doc/examples/data/"
    clips = {
        "vtest": (d + "vtest.avi", 795, 5, (25, 50)),
        "megamind": (d + "Megamind.avi", 270, 9, (10, 24)),
    }
    out: list[Cand] = []
    for clip, (rel, n, k, (dmin, dmax)) in clips.items():
        rng = rng_for("clip", clip)
        fam = f"clip_{clip}"
        step = n / k
        for i in range(k):
            t = int(step * i + step * 0.5 + rng.uniform(-0.15, 0.15) * step)
            t = min(max(t, 0), n - 1)
            name = f"{fam}_f{t:04d}"
            out.append(Cand(name, fam, "sequence", "original", ("frame", rel, t)))
            for _ in range(3):
                dt = rng.randint(dmin, dmax) * rng.choice((-1, 1))
                u = t + dt if 0 <= t + dt < n else t - dt
                u = min(max(u, 0), n - 1)
                out.append(
                    Cand(
                        f"{fam}_f{u:04d}",
                        fam,
                        "sequence",
                        "burst_frame",
                        ("frame", rel, u),
                        near=name,
                    )
                )
    # photo series of one scene (camera calibration shots) and two frames of a sports clip
    sets = {
        "opencv_chessboard": (
            ["left01.jpg", "left09.jpg"],
            ["left05.jpg", "left13.jpg", "left03.jpg", "left11.jpg"],
            "same_scene",
        ),
        "opencv_basketball": (["basketball1.png"], ["basketball2.png"], "burst_frame"),
    }
    cr = "supertux-data/usr/share/games/supertux2/images/creatures/"
    sprites = {"supertux_yeti": (["busted1.png"], ["busted2.png", "busted3.png"], cr + "yeti/")}
    items = [(fam, srcs, negs, nk, d) for fam, (srcs, negs, nk) in sets.items()]
    items += [(fam, srcs, negs, "burst_frame", base) for fam, (srcs, negs, base) in sprites.items()]
    for fam, srcs, negs, nk, base in items:
        for f in srcs:
            out.append(
                Cand(
                    f"{fam}_{Path(f).stem.lower()}",
                    fam,
                    "sequence",
                    "original",
                    ("file", base + f, (225, 235, 245)),
                )
            )
        for j, f in enumerate(negs):
            owner = srcs[j % len(srcs)]
            out.append(
                Cand(
                    f"{fam}_{Path(f).stem.lower()}",
                    fam,
                    "sequence",
                    nk,
                    ("file", base + f, (225, 235, 245)),
                    near=f"{fam}_{Path(owner).stem.lower()}",
                )
            )
    return out


DOC_TEMPLATES = (
    "invoice",
    "calendar",
    "timetable",
    "spreadsheet",
    "code",
    "dotmap",
    "heatmap",
    "gantt",
)


def document_cands() -> list[Cand]:
    out: list[Cand] = []
    for tpl in DOC_TEMPLATES:
        fam = f"doc_{tpl}"
        for v in range(13):
            role = "original" if v < 3 else "same_template"
            near = None if v < 3 else f"{fam}_{v % 3:02d}"
            out.append(Cand(f"{fam}_{v:02d}", fam, "document", role, ("doc", tpl, v), near=near))
    return out


# ----------------------------------------------------------------------------- documents


def fig_to_image(fig: Any) -> Image.Image:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def fake_name(r: random.Random) -> str:
    return f"{r.choice(WORDS).title()} {r.choice(WORDS).title()}"


def render_doc(tpl: str, v: int) -> Image.Image:
    r = rng_for("doc", tpl, v)
    nr = np_rng("doc", tpl, v)
    if tpl == "invoice":
        im = Image.new("RGB", (900, 1200), "white")
        d = ImageDraw.Draw(im)
        d.rectangle((0, 0, 900, 130), fill=(28, 74, 96))
        d.text((50, 35), f"{fake_name(r)} Ltd.", font=font(38, "bold"), fill="white")
        d.text((620, 45), "INVOICE", font=font(34, "bold"), fill=(250, 200, 80))
        d.text((50, 160), f"Invoice no. {r.randint(1000, 99999)}", font=font(20), fill="black")
        d.text(
            (50, 190),
            f"Date: 2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            font=font(20),
            fill="black",
        )
        for i in range(3):
            d.text(
                (560, 160 + 28 * i),
                f"{r.randint(1, 999)} {r.choice(WORDS).title()} "
                f"{r.choice(['Street', 'Road', 'Lane', 'Way'])}"
                if i == 0
                else fake_name(r)
                if i == 1
                else f"{r.randint(10000, 99999)} {r.choice(WORDS).title()}ville",
                font=font(18),
                fill=(60, 60, 60),
            )
        y = 290
        d.rectangle((50, y, 850, y + 36), fill=(220, 232, 238))
        for x, t in ((60, "Item"), (480, "Qty"), (580, "Price"), (720, "Amount")):
            d.text((x, y + 7), t, font=font(18, "bold"), fill="black")
        y += 46
        total = 0.0
        for _ in range(r.randint(4, 14)):
            q, p = r.randint(1, 40), r.uniform(2, 400)
            total += q * p
            what = r.choice(["kit", "service", "unit", "licence", "hours"])
            desc = f"{r.choice(WORDS).title()} {r.choice(WORDS)} {what}"
            d.text((60, y), desc, font=font(17), fill="black")
            d.text((480, y), str(q), font=font(17), fill="black")
            d.text((580, y), f"{p:8.2f}", font=font(17, "mono"), fill="black")
            d.text((720, y), f"{q * p:10.2f}", font=font(17, "mono"), fill="black")
            d.line((50, y + 30, 850, y + 30), fill=(225, 225, 225))
            y += 40
        y += 20
        for lab, val in (("Subtotal", total), ("VAT 20%", total * 0.2), ("Total", total * 1.2)):
            d.text((560, y), lab, font=font(20, "bold" if lab == "Total" else "sans"), fill="black")
            d.text((700, y), f"{val:11.2f}", font=font(20, "monob"), fill="black")
            y += 34
        d.text(
            (50, 1120),
            f"Payment within {r.choice([14, 30, 45])} days. IBAN DE{r.randint(10**15, 10**16)}",
            font=font(15),
            fill=(90, 90, 90),
        )
        return im
    if tpl == "calendar":
        import calendar as cal

        year, month = r.randint(2019, 2030), r.randint(1, 12)
        im = Image.new("RGB", (1100, 860), (250, 248, 240))
        d = ImageDraw.Draw(im)
        d.text(
            (40, 25), f"{cal.month_name[month]} {year}", font=font(44, "serif"), fill=(150, 30, 40)
        )
        cw, ch, x0, y0 = 145, 115, 40, 130
        for i, wd in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
            d.text((x0 + i * cw + 8, y0 - 32), wd, font=font(20, "bold"), fill=(80, 80, 80))
        weeks = cal.monthcalendar(year, month)
        for wi, wk in enumerate(weeks):
            for di, day in enumerate(wk):
                bx, by = x0 + di * cw, y0 + wi * ch
                fill = (255, 255, 255) if day else (235, 232, 225)
                d.rectangle((bx, by, bx + cw - 4, by + ch - 4), fill=fill, outline=(200, 195, 185))
                if day:
                    d.text(
                        (bx + 8, by + 6),
                        str(day),
                        font=font(22, "bold"),
                        fill=(150, 30, 40) if di >= 5 else (40, 40, 40),
                    )
                    if r.random() < 0.3:
                        col = r.choice(
                            [(120, 180, 230), (240, 180, 90), (150, 210, 140), (220, 140, 200)]
                        )
                        d.rectangle((bx + 6, by + 50, bx + cw - 12, by + 78), fill=col)
                        d.text(
                            (bx + 10, by + 54), r.choice(WORDS).title(), font=font(16), fill="black"
                        )
        return im
    if tpl == "timetable":
        im = Image.new("RGB", (1150, 800), "white")
        d = ImageDraw.Draw(im)
        d.rectangle((0, 0, 1150, 80), fill=(230, 120, 0))
        d.text(
            (30, 18),
            f"Line {r.randint(1, 99)}  {r.choice(WORDS).title()} - {r.choice(WORDS).title()}",
            font=font(34, "bold"),
            fill="white",
        )
        suffixes = ["Hbf", "Nord", "Sud", "Platz", "Park", "Mitte"]
        stations = [
            f"{r.choice(WORDS).title()} {r.choice(suffixes)}" for _ in range(r.randint(8, 14))
        ]
        ncol = r.randint(6, 9)
        start = [r.randint(300, 1300) for _ in range(ncol)]
        start.sort()
        y = 110
        for si, s in enumerate(stations):
            if si % 2 == 0:
                d.rectangle((20, y - 4, 1130, y + 42), fill=(253, 240, 225))
            d.text((30, y + 6), s, font=font(19), fill="black")
            for c in range(ncol):
                t = start[c] + si * r.randint(2, 6)
                txt = f"{t // 60 % 24:02d}:{t % 60:02d}" if r.random() > 0.06 else "  |"
                d.text((330 + c * 88, y + 6), txt, font=font(19, "mono"), fill="black")
            y += 46
        d.text((30, y + 20), "Mo-Fr except holidays", font=font(16), fill=(100, 100, 100))
        return im
    if tpl == "spreadsheet":
        im = Image.new("RGB", (1200, 820), "white")
        d = ImageDraw.Draw(im)
        d.rectangle((0, 0, 1200, 40), fill=(33, 115, 70))
        d.text((12, 8), f"{r.choice(WORDS)}_{r.choice(WORDS)}.xlsx", font=font(18), fill="white")
        cols, rows, cw, rh = 9, r.randint(14, 24), 128, 30
        d.rectangle((0, 50, 1200, 50 + rh), fill=(240, 240, 240))
        for c in range(cols):
            d.text((60 + c * cw + cw // 2 - 5, 55), chr(65 + c), font=font(16), fill="black")
        for i in range(rows):
            y = 50 + rh * (i + 1)
            d.rectangle((0, y, 50, y + rh), fill=(240, 240, 240))
            d.text((12, y + 6), str(i + 1), font=font(15), fill="black")
            for c in range(cols):
                x = 50 + c * cw
                if i == 0:
                    txt = r.choice(WORDS).title()
                    d.rectangle((x, y, x + cw, y + rh), fill=(255, 242, 204))
                elif c == 0:
                    txt = f"{r.choice(WORDS)}-{r.randint(1, 99)}"
                elif r.random() < 0.1:
                    txt = ""
                else:
                    txt = f"{nr.normal(500, 300):.2f}"
                d.rectangle((x, y, x + cw, y + rh), outline=(210, 210, 210))
                d.text(
                    (x + 6, y + 6), txt, font=font(15, "mono" if i and c else "sans"), fill="black"
                )
        return im
    if tpl == "code":
        im = Image.new("RGB", (1000, 900), (39, 40, 34))
        d = ImageDraw.Draw(im)
        kw = ["def", "return", "for", "if", "while", "import", "class", "yield", "with"]
        y, ind = 20, 0
        for ln in range(1, r.randint(22, 30) + 1):
            d.text((12, y), f"{ln:3d}", font=font(17, "mono"), fill=(120, 120, 110))
            x = 70 + 36 * ind
            toks = [r.choice(kw)] + [
                r.choice(WORDS) + r.choice(["", "(", ".", "_x", " =", ":"])
                for _ in range(r.randint(1, 5))
            ]
            for t in toks:
                col = (
                    (249, 38, 114)
                    if t in kw
                    else (166, 226, 46)
                    if t.endswith("(")
                    else (230, 219, 116)
                    if r.random() < 0.2
                    else (248, 248, 242)
                )
                d.text((x, y), t, font=font(17, "mono"), fill=col)
                x += 11 * (len(t) + 1)
            ind = max(0, min(4, ind + r.choice([-1, 0, 0, 1])))
            y += 29
        return im
    if tpl in ("dotmap", "heatmap", "gantt"):
        fig = plt.figure(figsize=(10, 7.5))
        ax = fig.add_subplot(111)
        if tpl == "dotmap":
            th = np.linspace(0, 2 * np.pi, 200)
            rad = 1 + sum(
                nr.normal(0, 0.12) * np.sin(k * th + nr.uniform(0, 6)) for k in range(1, 7)
            )
            ax.fill(
                rad * np.cos(th), rad * np.sin(th) * 0.8, color=(0.86, 0.9, 0.8), ec=(0.4, 0.5, 0.4)
            )
            n = int(nr.integers(25, 60))
            pts = nr.normal(0, 0.45, (n, 2))
            sz = nr.lognormal(3, 1, n)
            ax.scatter(
                pts[:, 0],
                pts[:, 1] * 0.8,
                s=sz,
                c=nr.uniform(0, 1, n),
                cmap="plasma",
                alpha=0.8,
                ec="k",
                lw=0.4,
            )
            for i in range(6):
                ax.annotate(r.choice(WORDS).title(), (pts[i, 0], pts[i, 1] * 0.8), fontsize=9)
            ax.set_facecolor((0.75, 0.85, 0.95))
            ax.set_xlim(-1.8, 1.8)
            ax.set_ylim(-1.4, 1.4)
            ax.set_title(f"{r.choice(WORDS).title()} region: sites by size", fontsize=14)
        elif tpl == "heatmap":
            nx_, ny_ = int(nr.integers(6, 11)), int(nr.integers(5, 9))
            z = nr.normal(0, 1, (ny_, nx_)).cumsum(axis=1)
            ax.imshow(z, cmap="YlGnBu", aspect="auto")
            for i in range(ny_):
                for j in range(nx_):
                    ax.text(j, i, f"{z[i, j]:.1f}", ha="center", va="center", fontsize=9)
            ax.set_xticks(range(nx_), [r.choice(WORDS)[:5] for _ in range(nx_)])
            ax.set_yticks(range(ny_), [r.choice(WORDS).title() for _ in range(ny_)])
            ax.set_title(f"Weekly {r.choice(WORDS)} index", fontsize=14)
        else:
            n = int(nr.integers(6, 13))
            st = nr.uniform(0, 30, n).cumsum() / 3
            du = nr.uniform(3, 20, n)
            cols = plt.cm.Set2(nr.integers(0, 8, n) / 8)
            ax.barh(range(n), du, left=st, color=cols, ec="k")
            ax.set_yticks(range(n), [f"{r.choice(WORDS).title()} phase" for _ in range(n)])
            ax.invert_yaxis()
            ax.grid(axis="x", ls=":")
            ax.set_xlabel("days")
            ax.set_title(f"Project {r.choice(WORDS).title()} plan", fontsize=14)
        fig.tight_layout()
        return fig_to_image(fig)
    raise ValueError(tpl)


# ----------------------------------------------------------------------------- edits


def rand_colour(r: random.Random) -> tuple[int, int, int]:
    return (r.randint(0, 255), r.randint(0, 255), r.randint(0, 255))


def enc(im: Image.Image, fmt: str, q: int = 90) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpg":
        im.convert("RGB" if im.mode != "L" else "L").save(buf, "JPEG", quality=q)
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=q, method=4)
    else:
        im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def pick_format(r: random.Random) -> tuple[str, int]:
    u = r.random()
    if u < 0.70:
        return "jpg", r.randint(70, 95)
    if u < 0.85:
        return "png", 0
    return "webp", r.randint(70, 95)


def do_crop(
    im: Image.Image, r: random.Random, lo: float = 0.55, hi: float = 0.95
) -> tuple[Image.Image, dict[str, Any]]:
    a = r.uniform(lo, hi)
    wf = min(1.0, math.sqrt(a) * math.exp(r.uniform(-0.35, 0.35)))
    hf = min(1.0, a / wf)
    wf = min(1.0, a / hf)
    W, H = im.size
    w, h = max(8, round(W * wf)), max(8, round(H * hf))
    x, y = r.randint(0, W - w), r.randint(0, H - h)
    return im.crop((x, y, x + w, y + h)), {
        "box": [x, y, x + w, y + h],
        "area": round(w * h / (W * H), 3),
    }


def do_rotate_small(
    im: Image.Image, r: random.Random, lo: float = 2, hi: float = 20
) -> tuple[Image.Image, dict[str, Any]]:
    ang = r.uniform(lo, hi) * r.choice((-1, 1))
    mode = r.choice(("crop", "expand"))
    W, H = im.size
    if mode == "expand":
        col = rand_colour(r)
        out = im.rotate(ang, Image.BICUBIC, expand=True, fillcolor=col)
        return out, {"angle": round(ang, 2), "mode": mode, "fill": list(col)}
    out = im.rotate(ang, Image.BICUBIC, expand=True)
    a = math.radians(abs(ang))
    # largest axis-aligned rectangle inside the rotated W x H rectangle
    side_long, side_short = (W, H) if W >= H else (H, W)
    sin_a, cos_a = math.sin(a), math.cos(a)
    if side_short <= 2 * sin_a * cos_a * side_long:
        x = 0.5 * side_short
        wr, hr = (x / sin_a, x / cos_a) if W >= H else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr, hr = (W * cos_a - H * sin_a) / cos_2a, (H * cos_a - W * sin_a) / cos_2a
    cx, cy = out.size[0] / 2, out.size[1] / 2
    box = (
        round(cx - wr / 2) + 1,
        round(cy - hr / 2) + 1,
        round(cx + wr / 2) - 1,
        round(cy + hr / 2) - 1,
    )
    return out.crop(box), {"angle": round(ang, 2), "mode": mode}


def do_border(
    im: Image.Image, r: random.Random, lo: float = 0.02, hi: float = 0.35
) -> tuple[Image.Image, dict[str, Any]]:
    W, H = im.size
    col = rand_colour(r)
    frac = r.uniform(lo, hi)
    sides = r.choice(("1", "2", "4", "square"))
    b = int(frac * min(W, H)) | 1
    if sides == "square":
        S = max(W, H) + 2 * (int(frac * max(W, H) * 0.3) | 1)
        out = Image.new("RGB", (S, S), col)
        out.paste(im, ((S - W) // 2, (S - H) // 2))
    else:
        l_, t_, r_, bt = 0, 0, 0, 0
        if sides == "1":
            which = r.choice("ltrb")
            l_, t_, r_, bt = [b if c == which else 0 for c in "ltrb"]
        elif sides == "2":
            if r.random() < 0.5:
                l_, r_ = b, b
            else:
                t_, bt = b, b
        else:
            l_ = t_ = r_ = bt = b
        out = Image.new("RGB", (W + l_ + r_, H + t_ + bt), col)
        out.paste(im, (l_, t_))
    back = r.random() < 0.5
    if back:
        out = out.resize((W, H), Image.LANCZOS)
    return out, {
        "colour": list(col),
        "width_frac": round(frac, 3),
        "width_px": b,
        "sides": sides,
        "resized_back": back,
    }


def do_overlay(
    im: Image.Image, r: random.Random, lo: float = 0.03, hi: float = 0.25
) -> tuple[Image.Image, dict[str, Any]]:
    W, H = im.size
    typ = r.choice(("logo", "watermark", "caption", "sticker"))
    area = r.uniform(lo, hi)
    asp = r.uniform(0.6, 3.0) if typ in ("logo", "sticker") else r.uniform(2.5, 6)
    w = min(W - 2, int(math.sqrt(area * W * H * asp)))
    h = min(H - 2, int(area * W * H / max(w, 1)))
    x, y = r.randint(0, W - w), r.randint(0, H - h)
    alpha = r.uniform(0.35, 1.0) if typ == "watermark" else r.uniform(0.7, 1.0)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    col = rand_colour(r)
    word = r.choice(WORDS).upper()
    if typ == "logo":
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=min(w, h) // 5, fill=(*col, 255))
        d.ellipse((h * 0.1, h * 0.1, h * 0.9, h * 0.9), fill=(*rand_colour(r), 255))
        d.text((h, h * 0.25), word, font=font(h * 0.45, "bold"), fill=(255, 255, 255, 255))
    elif typ == "watermark":
        d.text((0, 0), f"(c) {word}", font=font(h * 0.8, "bold"), fill=(*col, 255))
    elif typ == "caption":
        d.rectangle((0, 0, w, h), fill=(0, 0, 0, 200))
        d.text(
            (h * 0.2, h * 0.2),
            f"{word} {r.choice(WORDS)} {r.randint(1, 99)}",
            font=font(h * 0.55),
            fill=(255, 255, 255, 255),
        )
    else:
        pts = [
            (
                w / 2 + w / 2 * math.cos(k * math.pi / 5) * (1 if k % 2 == 0 else 0.5),
                h / 2 + h / 2 * math.sin(k * math.pi / 5) * (1 if k % 2 == 0 else 0.5),
            )
            for k in range(10)
        ]
        d.polygon(pts, fill=(*col, 255), outline=(0, 0, 0, 255))
    a = np.asarray(layer).copy()
    a[..., 3] = (a[..., 3] * alpha).astype(np.uint8)
    base = im.convert("RGBA")
    base.alpha_composite(Image.fromarray(a), (x, y))
    return base.convert("RGB"), {
        "type": typ,
        "area": round(w * h / (W * H), 3),
        "pos": [x, y],
        "alpha": round(alpha, 2),
    }


def do_banner(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    W, H = im.size
    frac = r.uniform(0.08, 0.2)
    bh = int(H * frac)
    where = r.choice(("top", "bottom"))
    how = r.choice(("over", "added"))
    col = rand_colour(r)
    txtcol = (0, 0, 0) if sum(col) > 380 else (255, 255, 255)
    band = Image.new("RGB", (W, bh), col)
    ImageDraw.Draw(band).text(
        (bh * 0.3, bh * 0.2),
        f"{r.choice(WORDS).upper()} {r.choice(WORDS)} {r.randint(2, 2030)}",
        font=font(bh * 0.5, "bold"),
        fill=txtcol,
    )
    if how == "over":
        out = im.copy()
        out.paste(band, (0, 0 if where == "top" else H - bh))
    else:
        out = Image.new("RGB", (W, H + bh), col)
        out.paste(im, (0, bh if where == "top" else 0))
        out.paste(band, (0, 0 if where == "top" else H))
    return out, {"where": where, "how": how, "height_frac": round(frac, 3)}


def hue_shift(im: Image.Image, deg: float) -> Image.Image:
    hsv = np.asarray(im.convert("HSV")).copy()
    hsv[..., 0] = ((hsv[..., 0].astype(int) + int(deg / 360 * 255)) % 256).astype(np.uint8)
    return Image.fromarray(hsv, "HSV").convert("RGB")


def do_color(
    im: Image.Image, r: random.Random, mild: bool = False
) -> tuple[Image.Image, dict[str, Any]]:
    ops = r.sample(("hue", "saturation", "contrast", "gamma"), r.randint(2, 3))
    p: dict[str, Any] = {}
    for op in ops:
        if op == "hue":
            v = r.uniform(15, 35 if mild else 60) * r.choice((-1, 1))
            im = hue_shift(im, v)
        elif op == "saturation":
            v = r.uniform(0.5, 1.4) if mild else r.uniform(0.3, 1.7)
            im = ImageEnhance.Color(im).enhance(v)
        elif op == "contrast":
            v = r.uniform(0.75, 1.3) if mild else r.uniform(0.6, 1.5)
            im = ImageEnhance.Contrast(im).enhance(v)
        else:
            v = r.uniform(0.75, 1.35) if mild else r.uniform(0.6, 1.6)
            lut = [min(255, int(255 * (i / 255) ** v + 0.5)) for i in range(256)] * 3
            im = im.point(lut)
        p[op] = round(v, 3)
    return im, p


def do_noise(im: Image.Image, sigma: float, g: np.random.Generator) -> Image.Image:
    a = np.asarray(im).astype(np.float32)
    a += g.normal(0, sigma, a.shape).astype(np.float32)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def do_screenshot(im: Image.Image, r: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    frac = r.uniform(0.45, 0.85)
    W, H = im.size
    style = r.choice(("window", "phone"))
    if style == "phone":
        cw = int(math.sqrt(W * H / frac) * 0.62)
        ch = int(cw * r.uniform(1.9, 2.15))
        s = min((frac * cw * ch / (W * H)) ** 0.5, (cw - 30) / W, (ch - 200) / H)
    else:
        cw = int(math.sqrt(W * H / frac) * r.uniform(1.1, 1.45))
        ch = int(W * H / frac / cw)
        s = min((frac * cw * ch / (W * H)) ** 0.5, (cw - 20) / W, (ch - 60) / H)
    w, h = max(8, int(W * s)), max(8, int(H * s))
    bg = (r.randint(20, 60),) * 3 if style == "phone" else (r.randint(215, 245),) * 3
    can = Image.new("RGB", (cw, ch), bg)
    d = ImageDraw.Draw(can)
    if style == "phone":
        d.rounded_rectangle(
            (4, 4, cw - 5, ch - 5), radius=cw // 10, outline=(120, 120, 120), width=6
        )
        d.text(
            (cw * 0.08, 22),
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
            font=font(22, "bold"),
            fill="white",
        )
        x, y = (cw - w) // 2, max(70, (ch - h) // 2 - r.randint(0, 60))
        for k in range(3):
            d.rounded_rectangle(
                (30, y + h + 30 + 50 * k, cw - 30, y + h + 70 + 50 * k),
                radius=10,
                fill=(70, 70, 80),
            )
    else:
        col = rand_colour(r)
        d.rectangle((0, 0, cw, 38), fill=col)
        d.text(
            (14, 8),
            f"{r.choice(WORDS)}.{r.choice(['png', 'jpg'])} - Viewer",
            font=font(18),
            fill="white",
        )
        for k, c in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
            d.ellipse((cw - 30 - 26 * k, 11, cw - 14 - 26 * k, 27), fill=c)
        side = cw - w - 30
        x = max(10, side if side < 60 else r.randint(10, side))
        y = r.randint(48, max(48, ch - h - 10))
        if x > 120:
            for k in range(12):
                d.rectangle((14, 60 + 34 * k, x - 20, 80 + 34 * k), fill=(200, 200, 205))
    can.paste(im.resize((w, h), Image.LANCZOS), (x, y))
    return can, {
        "style": style,
        "area_frac": round(w * h / (cw * ch), 3),
        "pos": [x, y],
        "scale": round(s, 3),
    }


def apply_edit(
    edit: str, im: Image.Image, r: random.Random, g: np.random.Generator
) -> tuple[Image.Image | bytes, str, dict[str, Any]]:
    """Return (image or encoded bytes, extension, params)."""
    W, H = im.size
    if edit == "resize_recompress":
        s, q = r.uniform(0.25, 0.9), r.randint(30, 95)
        out = im.resize((max(8, round(W * s)), max(8, round(H * s))), Image.LANCZOS)
        return enc(out, "jpg", q), "jpg", {"scale": round(s, 3), "quality": q}
    if edit == "recompress_chain":
        steps = []
        cur = im
        data = b""
        for _ in range(r.randint(3, 6)):
            s, q = r.uniform(0.85, 1.05), r.randint(30, 85)
            cur = cur.resize(
                (max(8, round(cur.size[0] * s)), max(8, round(cur.size[1] * s))), Image.BILINEAR
            )
            data = enc(cur, "jpg", q)
            cur = Image.open(io.BytesIO(data)).convert("RGB")
            steps.append([round(s, 3), q])
        return data, "jpg", {"steps": steps}
    if edit == "jpeg_heavy":
        q = r.randint(2, 15)
        return enc(im, "jpg", q), "jpg", {"quality": q}
    fmt, q = pick_format(r)
    p: dict[str, Any]
    if edit == "crop":
        out, p = do_crop(im, r)
    elif edit == "flip":
        hor = r.random() < 0.7
        out = ImageOps.mirror(im) if hor else ImageOps.flip(im)
        p = {"direction": "horizontal" if hor else "vertical"}
    elif edit == "rotate90":
        ang = r.choice((90, 180, 270))
        out = im.rotate(ang, expand=True)
        p = {"angle": ang}
    elif edit == "rotate_small":
        out, p = do_rotate_small(im, r)
    elif edit == "border":
        out, p = do_border(im, r)
    elif edit == "overlay":
        out, p = do_overlay(im, r)
    elif edit == "text_banner":
        out, p = do_banner(im, r)
    elif edit == "color":
        out, p = do_color(im, r)
    elif edit == "greyscale":
        out = im.convert("L")
        if r.random() < 0.5:
            out = out.convert("RGB")
        p = {"mode": out.mode}
    elif edit in ("darken", "brighten"):
        f = r.uniform(0.25, 0.7) if edit == "darken" else r.uniform(1.2, 1.7)
        out = ImageEnhance.Brightness(im).enhance(f)
        p = {"factor": round(f, 3)}
    elif edit == "blur":
        rad = r.uniform(1, 7) * max(W, H) / 1000
        out = im.filter(ImageFilter.GaussianBlur(rad))
        p = {"radius": round(rad, 2)}
    elif edit == "noise":
        sig = r.uniform(4, 30)
        out = do_noise(im, sig, g)
        p = {"sigma": round(sig, 2)}
    elif edit == "sharpen":
        rad, pct = r.uniform(1, 3), r.randint(80, 250)
        out = im.filter(ImageFilter.UnsharpMask(rad, pct, 2))
        p = {"radius": round(rad, 2), "percent": pct}
    elif edit == "screenshot":
        out, p = do_screenshot(im, r)
    elif edit == "compound":
        ops = r.sample(
            (
                "crop",
                "color",
                "resize",
                "border",
                "overlay",
                "text_banner",
                "blur",
                "noise",
                "rotate_small",
                "flip",
                "brighten",
                "darken",
            ),
            r.randint(3, 4),
        )
        if "brighten" in ops and "darken" in ops:
            ops.remove("darken")
        out = im
        chain = []
        for op in ops:
            if op == "crop":
                out, sub = do_crop(out, r, 0.7, 0.95)
            elif op == "color":
                out, sub = do_color(out, r, mild=True)
            elif op == "resize":
                s = r.uniform(0.5, 0.9)
                out = out.resize(
                    (max(8, round(out.size[0] * s)), max(8, round(out.size[1] * s))), Image.LANCZOS
                )
                sub = {"scale": round(s, 3)}
            elif op == "border":
                out, sub = do_border(out, r, 0.02, 0.12)
            elif op == "overlay":
                out, sub = do_overlay(out, r, 0.03, 0.12)
            elif op == "text_banner":
                out, sub = do_banner(out, r)
            elif op == "blur":
                rad = r.uniform(1, 2.5) * max(out.size) / 1000
                out = out.filter(ImageFilter.GaussianBlur(rad))
                sub = {"radius": round(rad, 2)}
            elif op == "noise":
                sig = r.uniform(4, 12)
                out = do_noise(out, sig, g)
                sub = {"sigma": round(sig, 2)}
            elif op == "rotate_small":
                out, sub = do_rotate_small(out, r, 2, 8)
            elif op == "flip":
                out = ImageOps.mirror(out)
                sub = {"direction": "horizontal"}
            else:
                f = r.uniform(1.15, 1.4) if op == "brighten" else r.uniform(0.5, 0.8)
                out = ImageEnhance.Brightness(out).enhance(f)
                sub = {"factor": round(f, 3)}
            chain.append({"op": op, **sub})
        fmt, q = "jpg", r.randint(60, 90)
        p = {"chain": chain}
    else:
        raise ValueError(edit)
    p = dict(p, format=fmt)
    if fmt != "png":
        p["quality"] = q
    return enc(out, fmt, q), fmt, p


# ----------------------------------------------------------------------------- workers


def thumbs(im: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """64x64 grey (aspect ignored), 1/4-size grey, and 256-px-long-side grey thumbnails."""
    grey = im.convert("L")
    g = np.asarray(grey.resize((64, 64), Image.BILINEAR), dtype=np.float32)
    q = np.asarray(
        grey.resize((max(8, im.size[0] // 4), max(8, im.size[1] // 4)), Image.BILINEAR),
        dtype=np.uint8,
    )
    s = 256 / max(im.size)
    f = np.asarray(
        grey.resize((max(8, round(im.size[0] * s)), max(8, round(im.size[1] * s))), Image.BOX),
        dtype=np.float32,
    )
    return g, q, f


def prep_worker(args: tuple[str, Cand, str, np.ndarray | None]) -> tuple[str, Any]:
    src, c, work, frame = args
    frames = {c.name: frame} if frame is not None else {}
    try:
        im = load_cand(Path(src), c, frames)
    except Exception as e:
        return c.name, f"load error: {e}"
    if im is None:
        return c.name, "too small"
    im.save(Path(work) / f"{c.name}.png", compress_level=1)
    g, q, f = thumbs(im)
    return c.name, (g, q, f)


def describe(c: Cand) -> str:
    if c.loader[0] == "file":
        return (
            str(c.loader[1]).split("/usr/share/")[-1]
            if "/usr/share/" in str(c.loader[1])
            else str(c.loader[1])
        )
    if c.loader[0] == "tile":
        spec = c.loader[1]
        files = spec.get("files", [spec.get("file")])
        return f"tile {[round(v, 3) for v in spec['box']]} of " + "+".join(
            Path(f).name for f in files
        )
    if c.loader[0] == "frame":
        return f"frame {c.loader[2]} of {Path(c.loader[1]).name}"
    return f"rendered {c.loader[1]} #{c.loader[2]}"


def edit_worker(args: tuple[Cand, str, int]) -> list[dict[str, Any]]:
    c, work, seed = args
    im = Image.open(Path(work) / f"{c.name}.png").convert("RGB")
    entries: list[dict[str, Any]] = []
    ext = ORIG_EXT[c.kind]
    if c.role != "original":
        r = rng_for(seed, c.name, "negfmt")
        if r.random() < 0.4:
            ext, q = "jpg", r.randint(80, 95)
        else:
            q = 95
        data = enc(im, ext, q if ext == "jpg" else 95)
        tmp = Path(work) / f"out_{c.name}.{ext}"
        tmp.write_bytes(data)
        params = {"near": c.near, "size": list(im.size), "origin": describe(c)}
        if ext == "jpg":
            params["quality"] = q
        return [
            {
                "tmp": str(tmp),
                "ext": ext,
                "group": None,
                "edit": c.role,
                "source": c.family,
                "kind": c.kind,
                "params": params,
            }
        ]
    odata = enc(im, ext, 95)
    tmp = Path(work) / f"out_{c.name}__original.{ext}"
    tmp.write_bytes(odata)
    entries.append(
        {
            "tmp": str(tmp),
            "ext": ext,
            "edit": "original",
            "source": c.name,
            "kind": c.kind,
            "params": {"size": list(im.size), "family": c.family, "origin": describe(c)},
        }
    )
    kr = rng_for(seed, c.name, "kinds")
    kinds = kr.sample(EDIT_KINDS, kr.randint(6, 8))
    for e in kinds:
        if e == "exact_copy":
            data, eext, p = odata, ext, {}
        else:
            data, eext, p = apply_edit(e, im, rng_for(seed, c.name, e), np_rng(seed, c.name, e))
        tmp = Path(work) / f"out_{c.name}__{e}.{eext}"
        tmp.write_bytes(data if isinstance(data, bytes) else enc(data, eext))
        entries.append(
            {
                "tmp": str(tmp),
                "ext": eext,
                "edit": e,
                "source": c.name,
                "kind": c.kind,
                "params": {"family": c.family, **p},
            }
        )
    return entries


# ----------------------------------------------------------------------------- safety


def dihedral(a: np.ndarray) -> list[np.ndarray]:
    out = []
    for k in range(4):
        r = np.rot90(a, k)
        out += [r, r[:, ::-1]]
    return out


def same_picture(g1: np.ndarray, g2s: list[np.ndarray]) -> tuple[bool, float, float, int]:
    """Coarse test on 64x64 thumbnails over the 8 flips/rotations of the second picture."""
    z1 = (g1 - g1.mean()) / (g1.std() + 1e-6)
    best_z, best_f, best_k = 9.0, 1.0, 0
    for k, g2 in enumerate(g2s):
        z2 = (g2 - g2.mean()) / (g2.std() + 1e-6)
        z = float(np.abs(z1 - z2).mean())
        f = float((np.abs(g1 - g2) > 24).mean())
        if min(z / 0.30, f / 0.04) < min(best_z / 0.30, best_f / 0.04):
            best_z, best_f, best_k = z, f, k
    return (best_z < 0.30 or best_f < 0.04), best_z, best_f, best_k


def changed_blocks(f1: np.ndarray, f2: np.ndarray, k: int) -> float:
    """Fine test: share of 16x16 blocks (256-px thumbnails) where the pictures differ.

    ``f2`` is put in the orientation ``k`` found by the coarse test.  Pictures whose aspect
    ratios differ by more than 4 % are treated as different (returns 1.0).
    """
    f2 = dihedral(f2)[k]
    a1, a2 = f1.shape[1] / f1.shape[0], f2.shape[1] / f2.shape[0]
    if abs(math.log(a1 / a2)) > 0.04:
        return 1.0
    if f2.shape != f1.shape:
        f2 = cv2.resize(
            np.ascontiguousarray(f2), (f1.shape[1], f1.shape[0]), interpolation=cv2.INTER_AREA
        )
    diff = np.abs(f1 - f2) > 32
    h, w = (diff.shape[0] // 16) * 16, (diff.shape[1] // 16) * 16
    blocks = diff[:h, :w].reshape(h // 16, 16, w // 16, 16).mean(axis=(1, 3))
    return float((blocks > 0.02).mean())


def contained(q1: np.ndarray, q2: np.ndarray) -> float:
    small, big = (q1, q2) if q1.size <= q2.size else (q2, q1)
    if small.shape[0] > big.shape[0] or small.shape[1] > big.shape[1]:
        return 0.0
    if small.std() < 3:
        return 0.0
    res = cv2.matchTemplate(big, small, cv2.TM_CCOEFF_NORMED)
    return float(res.max())


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sources-dir", default="benchmarks/work/mixed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep-work", action="store_true", help="keep OUTDIR/.work (debugging)")
    a = ap.parse_args()
    src = Path(a.sources_dir).resolve()
    out = Path(a.outdir)
    work = out / ".work"
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    work.mkdir()
    seed = a.seed

    cands = (
        screenshot_cands(src, seed)
        + photo_cands(src)
        + graphic_cands(src)
        + sequence_cands(src)
        + document_cands()
    )
    seen: set[str] = set()
    uniq = []
    for c in cands:
        if c.name not in seen:
            seen.add(c.name)
            uniq.append(c)
    cands = uniq
    # decode the needed video frames once per clip
    frames: dict[str, np.ndarray] = {}
    by_clip: dict[str, list[Cand]] = defaultdict(list)
    for c in cands:
        if c.loader[0] == "frame" and not c.loader[1].endswith(".gif"):
            by_clip[c.loader[1]].append(c)
    for rel, cs in by_clip.items():
        got = read_frames(src / rel, [c.loader[2] for c in cs])
        for c in cs:
            if c.loader[2] in got:
                frames[c.name] = got[c.loader[2]]
    print(f"{len(cands)} candidates", file=sys.stderr)
    jobs = [(str(src), c, str(work), frames.get(c.name)) for c in cands]
    with ProcessPoolExecutor(a.jobs) as ex:
        prepared = dict(ex.map(prep_worker, jobs, chunksize=4))
    # label safety: originals first, then negatives, fixed order
    order = [c for c in cands if c.role == "original"] + [c for c in cands if c.role != "original"]
    accepted: list[Cand] = []
    acc_g: list[list[np.ndarray]] = []
    acc_f: list[np.ndarray] = []
    names_ok: set[str] = set()
    log = []
    for c in order:
        res = prepared.get(c.name)
        if not isinstance(res, tuple):
            log.append(f"drop {c.name}: {res}")
            continue
        g, q, fine = res
        if fine.std() < 8:
            log.append(f"drop {c.name}: near blank")
            continue
        if c.role != "original" and c.near not in names_ok:
            log.append(f"drop {c.name}: its original {c.near} was dropped")
            continue
        bad = None
        for o, og, of in zip(accepted, acc_g, acc_f, strict=True):
            same, dz, df, k = same_picture(g, og)
            if same:
                cb = changed_blocks(fine, of, k)
                if cb < 0.20:
                    bad = f"same as {o.name} (z {dz:.2f}, f {df:.3f}, blocks {cb:.3f})"
                    break
                log.append(
                    f"keep {c.name}: coarse-similar to {o.name} (z {dz:.2f}, "
                    f"f {df:.3f}) but {cb:.0%} of blocks differ"
                )
            if o.family == c.family and c.kind in ("screenshot", "graphic"):
                ncc = contained(q, prepared[o.name][1])
                if ncc > 0.90:
                    bad = f"contained in/contains {o.name} (ncc {ncc:.2f})"
                    break
        if bad:
            log.append(f"drop {c.name}: {bad}")
            continue
        accepted.append(c)
        acc_g.append(dihedral(g))
        acc_f.append(fine)
        names_ok.add(c.name)
    (out / "safety_log.txt").write_text("\n".join(log) + "\n")
    print(f"accepted {len(accepted)}; dropped {len(log)}", file=sys.stderr)

    with ProcessPoolExecutor(a.jobs) as ex:
        results = list(ex.map(edit_worker, [(c, str(work), seed) for c in accepted], chunksize=2))
    # split by family, stratified by kind
    fam_n: dict[str, int] = defaultdict(int)
    fam_kind: dict[str, str] = {}
    for c, ents in zip(accepted, results, strict=True):
        fam_n[c.family] += len(ents)
        fam_kind[c.family] = c.kind
    split: dict[str, str] = {}
    for kind in KINDS:
        tot = {"calib": 0, "test": 0}
        fams = sorted((f for f in fam_n if fam_kind[f] == kind), key=lambda f: (-fam_n[f], f))
        for f in fams:
            if tot["calib"] == tot["test"]:
                s = rng_for(seed, "split", f).choice(("calib", "test"))
            else:
                s = min(tot, key=lambda k: tot[k])
            split[f] = s
            tot[s] += fam_n[f]
    groups: dict[str, str] = {}
    for c in accepted:
        if c.role == "original":
            groups[c.name] = f"g{len(groups):03d}"
    flat = [(c, e) for c, ents in zip(accepted, results, strict=True) for e in ents]
    idx = list(range(len(flat)))
    rng_for(seed, "names").shuffle(idx)
    images = []
    for num, i in enumerate(idx):
        c, e = flat[i]
        path = f"images/{num:06d}.{e['ext']}"
        os.replace(e["tmp"], out / path)
        images.append(
            {
                "path": path,
                "group": groups[c.name] if c.role == "original" else None,
                "edit": e["edit"],
                "source": e["source"],
                "split": split[c.family],
                "kind": e["kind"],
                "params": e["params"],
            }
        )
    images.sort(key=lambda x: x["path"])
    (out / "truth.json").write_text(
        json.dumps({"version": 1, "seed": seed, "images": images}, indent=1)
    )
    if not a.keep_work:
        shutil.rmtree(work)
    print(f"wrote {len(images)} images to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
