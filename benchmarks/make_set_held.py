#!/usr/bin/env python3
"""Build the held-out labelled near-duplicate evaluation set.

Usage: python benchmarks/make_set_held.py OUT_DIR --sources DIR [--seed N]

Sources: `bash benchmarks/fetch_held_sources.sh` (default benchmarks/work/held). Written blind by a
helper on 2026-12-03 (it read no neardup code, docs or results); nothing was fitted or chosen on it.

DIR is what fetch_held_sources.sh unpacked.  Pillow + numpy only; deterministic for a seed.
Writes OUT_DIR/images/NNNNNN.{jpg,png,webp} and OUT_DIR/truth.json.
"""

import argparse
import io
import json
import math
import os
import re
import shutil
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Image.MAX_IMAGE_PIXELS = None

EDITS = [
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
COMPOUNDABLE = [
    "crop",
    "rotate_small",
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
    "jpeg_heavy",
    "resize",
]
COPIES_PER_GROUP = 10
MAX_LONG = 1400
MIN_SHORT = 300

ES = "endless-sky-data/usr/share/games/endless-sky/images"
HW = "hedgewars-data/usr/share/games/hedgewars/Data"
GH = "gimp-help-en/usr/share/gimp/2.0/help/en/images"
ETR = "extremetuxracer-data/usr/share/games/etr"
GB = "gnome-backgrounds/usr/share/backgrounds/gnome"
TP = "tuxpaint-stamps-default/usr/share/tuxpaint/stamps"
MB = "marble-data/usr/share/doc/HTML/en/marble"
XP = "xplanet-images/usr/share/xplanet/images"
GV = "graphviz-doc/usr/share/doc/graphviz/html"

WORDS = [
    "sale",
    "summer",
    "holiday",
    "best",
    "photo",
    "of",
    "the",
    "day",
    "look",
    "at",
    "this",
    "amazing",
    "view",
    "copyright",
    "all",
    "rights",
    "reserved",
    "share",
    "like",
    "follow",
    "new",
    "post",
    "original",
    "reposted",
    "from",
    "archive",
    "breaking",
    "news",
    "weekend",
    "trip",
    "family",
    "memories",
    "free",
    "download",
    "click",
    "here",
    "wallpaper",
    "do",
    "not",
    "copy",
    "sample",
    "preview",
    "draft",
    "confidential",
    "meme",
    "when",
    "you",
    "see",
    "it",
]


# ----------------------------------------------------------------------------- sources


def grid_box(W, H, cols, rows, c, r):
    cw, ch = W // cols, H // rows
    return (c * cw, r * ch, c * cw + cw, r * ch + ch)


def shifted_neighbour(src, nb, frac):
    """Move the neighbour cell nb toward src so they overlap by frac of a cell side."""
    x0, y0, x1, y1 = nb
    sx0, sy0, sx1, sy1 = src
    if sx1 <= x0:
        d = int((sx1 - sx0) * frac)
        x0 -= d
        x1 -= d
    elif x1 <= sx0:
        d = int((sx1 - sx0) * frac)
        x0 += d
        x1 += d
    elif sy1 <= y0:
        d = int((sy1 - sy0) * frac)
        y0 -= d
        y1 -= d
    elif y1 <= sy0:
        d = int((sy1 - sy0) * frac)
        y0 += d
        y1 += d
    return (x0, y0, x1, y1)


def overlap_frac(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy / float((a[2] - a[0]) * (a[3] - a[1]))


def series_files(srcdir, rel, prefix):
    d = os.path.join(srcdir, rel)
    pat = re.compile(r"^%s\d+(-[a-z]+)?\.(jpg|png)$" % re.escape(prefix))
    return sorted(os.path.join(rel, f) for f in os.listdir(d) if pat.match(f))


def build_plan(srcdir, rng):
    """List of groups: dict(kind, origin, src=(file, box), negs=[(edit, file, box)])."""
    plan = []

    def add(kind, src, negs, origin=None, box=None):
        plan.append(
            dict(
                kind=kind,
                origin=origin or src,
                src=(src, box),
                negs=[n if len(n) == 3 else (n[0], n[1], None) for n in negs],
            )
        )

    def tiled(kind, f, cols, rows, pairs, frac=0.06):
        """Sources and neighbour tiles cut from one big picture (one origin)."""
        W, H = Image.open(os.path.join(srcdir, f)).size
        srcs = [grid_box(W, H, cols, rows, *p[0]) for p in pairs]
        for (sc, ncs), sbox in zip(pairs, srcs):
            negs = []
            for nc in ncs:
                nb = shifted_neighbour(sbox, grid_box(W, H, cols, rows, *nc), frac)
                if max(overlap_frac(nb, s) for s in srcs) <= 0.10:
                    negs.append(("neighbour_tile", f, nb))
            add(kind, f, negs, origin=f, box=sbox)

    # --- photographs: Endless Sky landscape photo series, WWII colour photo session, GIMP tutorial photos
    for prefix in [
        "beach",
        "canyon",
        "city",
        "fields",
        "mountain",
        "sea",
        "valley",
        "forest",
        "lava",
    ]:
        files = series_files(srcdir, ES + "/land", prefix)
        pick = [files[i] for i in rng.permutation(len(files))[:7]]
        add("photo", pick[0], [("same_template", f) for f in pick[1 : 1 + int(rng.integers(4, 7))]])
    add(
        "photo",
        ES + "/scene/loc1.jpg",
        [("same_template", ES + "/scene/loc%d.jpg" % i) for i in (4, 0, 8)],
    )
    add(
        "photo",
        ES + "/scene/loc7.jpg",
        [("same_template", ES + "/scene/loc%d.jpg" % i) for i in (2, 9, 3, 6)],
    )
    tm = GH + "/tutorials/tone-mapping/"
    add("photo", tm + "apple-orchard-truck-from-camera.jpg", [])
    add("photo", tm + "power-lines.jpg", [])

    # --- painted / illustrated art
    houses = TP + "/town/houses/cartoon/"
    for src, others in [
        ("windmill", ["farm", "tavern", "blacksmith", "inn"]),
        ("fairytale_castle", ["fortress", "monastery", "cathedral", "townhall"]),
        ("igloo", ["tepee", "tent", "swisshome", "wooden_cottage"]),
    ]:
        add(
            "painted",
            houses + src + ".png",
            [("same_template", houses + o + ".png") for o in others],
        )
    add(
        "painted",
        TP + "/people/cartoon/mermaid.png",
        [("same_template", TP + "/people/cartoon/snowman.png")],
    )
    add(
        "painted",
        TP + "/food/fruit/cartoon/pineapple.png",
        [
            ("same_template", TP + "/food/fruit/cartoon/%s.png" % o)
            for o in ("pear", "grapes", "strawberry", "banana")
        ],
    )
    add("painted", TP + "/vehicles/emergency/firetruck.png", [])
    add(
        "painted",
        HW + "/Forts/CastleL.png",
        [
            ("same_template", HW + "/Forts/%sL.png" % o)
            for o in ("Wood", "Statue", "Lego", "SteelTower")
        ],
    )
    add(
        "painted",
        HW + "/Forts/OctopusL.png",
        [("same_template", HW + "/Forts/%sL.png" % o) for o in ("Cake", "Snail", "UFO")],
    )
    add("painted", ES + "/ship/albatross.png", [])
    add("painted", ES + "/scene/tempest.jpg", [])
    tiled("painted", GB + "/pixels-l.webp", 3, 3, [((1, 1), [(2, 1), (1, 2)]), ((0, 0), [(0, 1)])])
    add(
        "painted",
        HW + "/Themes/Stage/Sky.png",
        [("same_template", HW + "/Themes/Underwater/Sky.png")],
    )

    # --- screenshots / documents
    pr = GH + "/preferences/"
    for src, others in [
        ("interface", ["display", "theme", "toolbox", "window-management"]),
        ("image-window-title", ["tool-options", "folders", "help", "import-export"]),
        ("system-resources", ["color-management", "debugging", "default-grid", "dialog-defaults"]),
    ]:
        add(
            "screenshot",
            pr + "prefs-%s.png" % src,
            [("same_template", pr + "prefs-%s.png" % o) for o in others],
        )
    add(
        "screenshot",
        GH + "/menus/colors/levels-dialog.png",
        [("same_template", GH + "/menus/colors/components/channelmixer.png")],
    )
    add("screenshot", GH + "/menus/image/metadata-editor-dialog.png", [])
    add(
        "screenshot",
        GH + "/menus/file/save-as.png",
        [("same_template", GH + "/menus/file/new/advanced-dialog.png")],
    )
    add("screenshot", GH + "/toolbox/heal-compar.png", [])
    add(
        "screenshot",
        MB + "/configure-plugins.png",
        [
            ("same_template", MB + "/configure-%s.png" % o)
            for o in ("view", "cacheproxy", "navigation", "routing")
        ],
    )
    add(
        "screenshot",
        ETR + "/courses/extras/snow_run_1/preview.png",
        [
            ("same_template", ETR + "/courses/extras/%s/preview.png" % o)
            for o in ("wild_ride", "snow_run_2")
        ],
    )
    add("screenshot", ETR + "/courses/default/in_search_of_vodka/preview.png", [])
    add("screenshot", ES + "/ui/info panel.png", [])
    add("screenshot", GH + "/filters/light-and-shadow/gflare-editor-1.png", [])

    # --- maps / diagrams
    tiled(
        "map",
        XP + "/earth.jpg",
        4,
        2,
        [((0, 0), [(0, 1)]), ((2, 0), [(2, 1)]), ((1, 1), [(1, 0)]), ((3, 1), [(3, 0)])],
    )
    add("map", MB + "/mapview-1.png", [("same_template", MB + "/search-1.png")])
    add("map", MB + "/routing-4.png", [])
    add(
        "map",
        GV + "/info/sdlshapes.png",
        [
            ("same_template", GV + "/gdtclft.entities.example.png"),
            ("same_template", GV + "/pspdf.png"),
        ],
    )
    add(
        "map", GV + "/info/spline_curved.png", []
    )  # its spline_* siblings share the node layout: too close to be negatives
    tiled(
        "map",
        GV + "/info/plugins.png",
        2,
        5,
        [((0, 1), [(1, 1), (0, 0)]), ((1, 3), [(1, 4), (0, 3)])],
    )

    # --- smooth, low-texture pictures
    for env, others in [
        ("sunny", ["left", "right"]),
        ("cloudy", ["right", "left"]),
        ("evening", ["left", "right"]),
        ("night", ["left", "right"]),
    ]:
        add(
            "smooth",
            ETR + "/env/etr/%s/front.png" % env,
            [("same_template", ETR + "/env/etr/%s/%s.png" % (env, o)) for o in others],
        )
    add(
        "smooth",
        HW + "/Themes/Golf/Sky.png",
        [
            ("same_template", HW + "/Themes/Island/Sky.png"),
            ("same_template", HW + "/Themes/Cake/Sky.png"),
        ],
    )
    add("smooth", HW + "/Themes/Desert/Sky.png", [("same_template", HW + "/Themes/Bath/Sky.png")])
    add(
        "smooth",
        HW + "/Themes/Castle/Sky.png",
        [
            ("same_template", HW + "/Themes/Christmas/Sky.png"),
            ("same_template", HW + "/Themes/Bamboo/Sky.png"),
        ],
    )
    tiled(
        "smooth",
        GB + "/adwaita-l.webp",
        3,
        3,
        [((0, 0), [(1, 0), (0, 1)]), ((2, 2), [(2, 1), (1, 2)])],
    )
    tiled("smooth", GB + "/symbolic-d.webp", 2, 2, [((0, 0), [(1, 0)])])
    skies = series_files(srcdir, ES + "/land", "sky")
    pick = [skies[i] for i in rng.permutation(len(skies))[:7]]
    add("smooth", pick[0], [("same_template", f) for f in pick[1:4]])
    add("smooth", pick[4], [("same_template", f) for f in pick[5:7]])
    add("smooth", ES + "/_menu/haze+.jpg", [])

    # --- textures
    tiled(
        "texture",
        GB + "/wood-l.webp",
        3,
        3,
        [((0, 0), [(1, 0), (0, 1)]), ((2, 2), [(2, 1), (1, 2)])],
    )
    tiled(
        "texture",
        GB + "/truchet-l.webp",
        3,
        3,
        [((0, 1), [(0, 0), (1, 1)]), ((2, 1), [(2, 2), (2, 0)])],
    )
    tiled("texture", GB + "/licorice-d.webp", 2, 2, [((0, 0), [(0, 1), (1, 0)])])
    tx = HW + "/Themes/%s/LandTex.png"
    for src, others in [
        ("Beach", ["Desert", "Fruit"]),
        ("Brick", ["Castle", "Christmas"]),
        ("City", ["Planes", "Freeway"]),
        ("Golf", ["Nature", "Jungle"]),
        ("Halloween", ["Hell", "Cave"]),
    ]:
        add("texture", tx % src, [("similar_texture", tx % o) for o in others])
    add("texture", ETR + "/textures/snow1.png", [("similar_texture", ETR + "/textures/snow2.png")])
    return plan


def load_picture(srcdir, f, box):
    """Decode, cut, flatten onto an opaque background and bring within MAX_LONG (never upscale)."""
    im = Image.open(os.path.join(srcdir, f))
    im.load()
    if box is not None:
        im = im.crop(box)
    if im.mode in ("P", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        a = np.asarray(im)[:, :, 3]
        if a.min() < 250:
            # flatten transparent art onto white (or black for sprites whose files are dark)
            bgc = (0, 0, 0) if "endless-sky" in f else (255, 255, 255)
            bg = Image.new("RGBA", im.size, bgc + (255,))
            bg.alpha_composite(im)
            im = bg
    im = im.convert("RGB")
    w, h = im.size
    s = min(1.0, MAX_LONG / max(w, h))
    if s < 1.0:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    return im


def thumb(im):
    t = np.asarray(im.convert("L").resize((24, 24), Image.BILINEAR), dtype=np.float64)
    return t


def near_same(t1, t2):
    best = -1.0
    for v in (t2, t2[:, ::-1], t2[::-1, :]):
        a, b = t1.ravel() - t1.mean(), v.ravel() - v.mean()
        sa, sb = np.sqrt((a * a).sum()), np.sqrt((b * b).sum())
        if sa < 24 * 3 and sb < 24 * 3:  # both nearly flat (std < 3 grey levels)
            c = 1.0 if abs(t1.mean() - v.mean()) < 12 else 0.0
        elif sa < 1e-6 or sb < 1e-6:
            c = 0.0
        else:
            c = float((a * b).sum() / (sa * sb))
        best = max(best, c)
    return best


# ----------------------------------------------------------------------------- encoding


def encode(im, fmt, q):
    buf = io.BytesIO()
    if fmt == "jpg":
        im.convert("RGB").save(buf, "JPEG", quality=int(q))
    elif fmt == "webp":
        if q >= 100:
            im.save(buf, "WEBP", lossless=True, method=2)
        else:
            im.save(buf, "WEBP", quality=int(q), method=4)
    else:
        im.save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def decode(b):
    im = Image.open(io.BytesIO(b))
    im.load()
    return im.convert("RGB")


def pick_format(rng):
    r = rng.random()
    if r < 0.55:
        return "jpg", int(rng.integers(60, 96))
    if r < 0.8:
        return "png", 100
    return "webp", (100 if rng.random() < 0.15 else int(rng.integers(50, 91)))


def scaled(im, sx, sy):
    w, h = im.size
    nw, nh = max(16, round(w * sx)), max(16, round(h * sy))
    return im.resize((min(nw, w), min(nh, h)), Image.LANCZOS)


def rand_colour(rng):
    r = rng.random()
    if r < 0.3:
        return (0, 0, 0)
    if r < 0.5:
        return (255, 255, 255)
    return tuple(int(v) for v in rng.integers(0, 256, 3))


# ----------------------------------------------------------------------------- edits


class Fonts:
    def __init__(self, srcdir):
        fdir = os.path.join(srcdir, GH, "fonts")
        self.paths = sorted(os.path.join(fdir, f) for f in os.listdir(fdir) if f.endswith(".ttf"))
        e = os.path.join(srcdir, ETR, "fonts")
        self.paths += sorted(os.path.join(e, f) for f in os.listdir(e) if f.endswith(".ttf"))

    def get(self, rng, size):
        p = self.paths[int(rng.integers(len(self.paths)))]
        return ImageFont.truetype(p, max(8, int(size))), os.path.basename(p)


def caption(rng):
    n = int(rng.integers(1, 6))
    return " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), n))


def e_crop(im, rng, mild=False):
    w, h = im.size
    lo = 0.70 if mild else 0.55
    kw, kh = rng.uniform(lo, 0.95), rng.uniform(lo, 0.95)
    cw, ch = round(w * kw), round(h * kh)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return im.crop((x, y, x + cw, y + ch)), dict(keep_w=round(kw, 3), keep_h=round(kh, 3), x=x, y=y)


def inner_rect(w, h, ang):
    """Largest axis-aligned rectangle inside a w x h rectangle rotated by ang radians."""
    if w <= 0 or h <= 0:
        return 0, 0
    wide = w >= h
    long_, short = (w, h) if wide else (h, w)
    sa, ca = abs(math.sin(ang)), abs(math.cos(ang))
    if short <= 2.0 * sa * ca * long_ or abs(sa - ca) < 1e-10:
        x = 0.5 * short
        wr, hr = (x / sa, x / ca) if wide else (x / ca, x / sa)
    else:
        cos2a = ca * ca - sa * sa
        wr, hr = (w * ca - h * sa) / cos2a, (h * ca - w * sa) / cos2a
    return int(wr), int(hr)


def e_rotate_small(im, rng, mild=False):
    deg = rng.uniform(2, 10 if mild else 20) * (1 if rng.random() < 0.5 else -1)
    cropin = bool(rng.random() < 0.5)
    fill = rand_colour(rng)
    r = im.rotate(deg, resample=Image.BICUBIC, expand=True, fillcolor=fill)
    if cropin:
        wr, hr = inner_rect(im.size[0], im.size[1], math.radians(deg))
        W, H = r.size
        r = r.crop(((W - wr) // 2, (H - hr) // 2, (W - wr) // 2 + wr, (H - hr) // 2 + hr))
    # keep within the original's pixel budget (expand grows the canvas)
    s = min(1.0, max(im.size) / max(r.size))
    if s < 1.0:
        r = scaled(r, s, s)
    return r, dict(degrees=round(deg, 2), crop_inner=cropin, fill=list(fill))


def e_rotate90(im, rng, mild=False):
    k = [90, 180, 270][int(rng.integers(3))]
    return im.rotate(k, expand=True), dict(degrees=k)


def e_flip(im, rng, mild=False):
    if rng.random() < 0.75:
        return ImageOps.mirror(im), dict(axis="horizontal")
    return ImageOps.flip(im), dict(axis="vertical")


def e_border(im, rng, mild=False):
    w, h = im.size
    col = rand_colour(rng)
    style = ["uniform", "letterbox", "pillarbox", "padding"][int(rng.integers(4))]
    f = rng.uniform(0.03, 0.20 if mild else 0.30)
    if style == "uniform":
        t = round(max(w, h) * f / 2)
        l = r = t
        tp = bt = t
    elif style == "letterbox":
        l = r = 0
        tp = bt = round(h * f / 2)
    elif style == "pillarbox":
        tp = bt = 0
        l = r = round(w * f / 2)
    else:  # uneven padding on some sides
        l, r, tp, bt = [round(v * max(w, h) * f) for v in rng.dirichlet([1, 1, 1, 1])]
    out = Image.new("RGB", (w + l + r, h + tp + bt), col)
    out.paste(im, (l, tp))
    s = min(1.0, max(w, h) / max(out.size)) if rng.random() < 0.5 else 1.0
    if s < 1.0:
        out = scaled(out, s, s)
    return out, dict(style=style, fraction=round(f, 3), colour=list(col), sides=[l, tp, r, bt])


def e_overlay(im, rng, fonts, mild=False):
    w, h = im.size
    frac = rng.uniform(0.03, 0.12 if mild else 0.20)
    kind = ["logo", "watermark", "sticker", "shape"][int(rng.integers(4))]
    aspect = rng.uniform(0.5, 2.0) if kind != "watermark" else rng.uniform(3, 6)
    ow = int(min(w * 0.95, math.sqrt(frac * w * h * aspect)))
    oh = int(min(h * 0.95, frac * w * h / max(ow, 1)))
    layer = Image.new("RGBA", (ow, oh), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    col = tuple(int(v) for v in rng.integers(0, 256, 3))
    alpha = int(rng.integers(90, 256)) if kind in ("shape", "watermark") else 255
    if kind == "logo":
        d.ellipse((0, 0, ow - 1, oh - 1), fill=col + (alpha,))
        f, _ = fonts.get(rng, oh * 0.35)
        d.text(
            (ow / 2, oh / 2),
            caption(rng)[:8].upper(),
            font=f,
            fill=(255, 255, 255, 255),
            anchor="mm",
        )
    elif kind == "watermark":
        f, _ = fonts.get(rng, oh * 0.6)
        d.text((ow / 2, oh / 2), "© " + caption(rng), font=f, fill=col + (alpha,), anchor="mm")
    elif kind == "sticker":
        rad = int(min(ow, oh) * 0.2)
        d.rounded_rectangle(
            (0, 0, ow - 1, oh - 1),
            rad,
            fill=col + (255,),
            outline=(255, 255, 255, 255),
            width=max(2, min(ow, oh) // 20),
        )
        c2 = tuple(int(v) for v in rng.integers(0, 256, 3))
        d.ellipse((ow * 0.2, oh * 0.2, ow * 0.8, oh * 0.8), fill=c2 + (255,))
    else:
        if rng.random() < 0.5:
            d.ellipse((0, 0, ow - 1, oh - 1), fill=col + (alpha,))
        else:
            d.rectangle((0, 0, ow - 1, oh - 1), fill=col + (alpha,))
    x, y = int(rng.integers(0, max(1, w - ow))), int(rng.integers(0, max(1, h - oh)))
    out = im.convert("RGBA")
    out.alpha_composite(layer, (x, y))
    return out.convert("RGB"), dict(
        type=kind, area=round(ow * oh / (w * h), 3), alpha=alpha, x=x, y=y
    )


def e_text_banner(im, rng, fonts, mild=False):
    w, h = im.size
    size = rng.uniform(0.03, 0.08 if mild else 0.12) * h
    f, fname = fonts.get(rng, size)
    txt = caption(rng)
    out = im.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    bbox = d.textbbox((0, 0), txt, font=f)
    tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
    style = ["bar", "outlined", "plain"][int(rng.integers(3))]
    x = int(rng.integers(0, max(1, w - tw))) if tw < w else 0
    y = int(rng.integers(0, max(1, h - th - 4)))
    tc = rand_colour(rng)
    if style == "bar":
        pad = int(th * 0.4)
        bc = rand_colour(rng)
        d.rectangle(
            (0, max(0, y - pad), w, min(h, y + th + pad)), fill=bc + (int(rng.integers(140, 256)),)
        )
        if tc == bc:
            tc = tuple(255 - v for v in bc)
        d.text((x - bbox[0], y - bbox[1]), txt, font=f, fill=tc + (255,))
    elif style == "outlined":
        d.text(
            (x - bbox[0], y - bbox[1]),
            txt,
            font=f,
            fill=(255, 255, 255, 255),
            stroke_width=max(1, int(size / 12)),
            stroke_fill=(0, 0, 0, 255),
        )
    else:
        d.text((x - bbox[0], y - bbox[1]), txt, font=f, fill=tc + (255,))
    out.alpha_composite(layer)
    return out.convert("RGB"), dict(text=txt, style=style, font=fname, size_px=int(size), x=x, y=y)


def e_blur(im, rng, mild=False):
    r = rng.uniform(0.8, 2.5 if mild else 4.0) * max(im.size) / 1000.0
    return im.filter(ImageFilter.GaussianBlur(r)), dict(radius_px=round(r, 2))


def e_noise(im, rng, mild=False):
    a = np.asarray(im, dtype=np.float32)
    if rng.random() < 0.7:
        sigma = rng.uniform(4, 12 if mild else 20)
        a = a + rng.normal(0, sigma, a.shape if rng.random() < 0.6 else a.shape[:2] + (1,))
        p = dict(type="gaussian", sigma=round(sigma, 1))
    else:
        frac = rng.uniform(0.005, 0.02 if mild else 0.05)
        m = rng.random(a.shape[:2])
        a[m < frac / 2] = 0
        a[m > 1 - frac / 2] = 255
        p = dict(type="salt_pepper", fraction=round(frac, 4))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)), p


def e_sharpen(im, rng, mild=False):
    r, pc = rng.uniform(1, 4), int(rng.integers(80, 300))
    return im.filter(
        ImageFilter.UnsharpMask(radius=r, percent=pc, threshold=int(rng.integers(0, 4)))
    ), dict(radius=round(r, 2), percent=pc)


def e_color(im, rng, mild=False):
    hsv = np.asarray(im.convert("HSV"), dtype=np.int16)
    shift = int(rng.integers(8, 45 if not mild else 25)) * (
        1 if rng.random() < 0.5 else -1
    )  # of 256
    sat = rng.uniform(0.3, 1.8)
    if rng.random() < 0.25:
        shift = 0
    hsv[:, :, 0] = (hsv[:, :, 0] + shift) % 256
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * sat, 0, 255)
    out = Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")
    return out, dict(hue_shift_deg=round(shift * 360 / 256, 1), saturation=round(sat, 2))


def e_brighten(im, rng, mild=False):
    if rng.random() < 0.5:
        f = rng.uniform(1.15, 1.4 if mild else 1.7)
        return ImageEnhance.Brightness(im).enhance(f), dict(type="linear", factor=round(f, 2))
    g = rng.uniform(0.45, 0.8)
    lut = [round(255 * (i / 255) ** g) for i in range(256)] * 3
    return im.point(lut), dict(type="gamma", gamma=round(g, 2))


def e_darken(im, rng, mild=False):
    if rng.random() < 0.6:
        f = rng.uniform(0.5 if mild else 0.35, 0.8)
        return ImageEnhance.Brightness(im).enhance(f), dict(type="linear", factor=round(f, 2))
    g = rng.uniform(1.3, 2.2)
    lut = [round(255 * (i / 255) ** g) for i in range(256)] * 3
    return im.point(lut), dict(type="gamma", gamma=round(g, 2))


def e_greyscale(im, rng, mild=False):
    return im.convert("L").convert("RGB"), {}


def e_jpeg_inline(im, rng, mild=False):
    q = int(rng.integers(10 if mild else 2, 21))
    return decode(encode(im, "jpg", q)), dict(quality=q)


def e_resize_inline(im, rng, mild=False):
    s = rng.uniform(0.4, 0.9)
    return scaled(im, s, s), dict(scale=round(s, 3))


def e_screenshot(im, rng, fonts, mild=False):
    cw, ch = [(1280, 800), (1366, 768), (1024, 768), (1400, 900), (1200, 1000), (720, 1280)][
        int(rng.integers(6))
    ]
    style = ["window", "webpage", "phone"][int(rng.integers(3))] if ch < cw else "phone"
    bg = tuple(int(v) for v in rng.integers(20, 236, 3))
    can = Image.new("RGB", (cw, ch), bg)
    d = ImageDraw.Draw(can)
    # desktop gradient
    top = np.array(bg, np.float32)
    bot = np.array(rand_colour(rng), np.float32)
    t = np.linspace(0, 1, ch)[:, None, None]
    grad = (top * (1 - t) + bot * t) * np.ones((1, cw, 1), np.float32)
    can = Image.fromarray(grad.astype(np.uint8))
    d = ImageDraw.Draw(can)
    f, _ = fonts.get(rng, 14)
    if style == "phone":
        bar = 50
        d.rectangle((0, 0, cw, bar), fill=(30, 30, 30))
        d.text((12, 16), "12:%02d" % int(rng.integers(60)), font=f, fill=(255, 255, 255))
        area = (10, bar + 60, cw - 10, ch - 120)
        d.text((14, bar + 20), caption(rng), font=f, fill=(0, 0, 0))
        for i in range(3):
            d.rectangle(
                (14, ch - 110 + i * 30, 14 + int(rng.integers(150, cw - 40)), ch - 96 + i * 30),
                fill=(200, 200, 200),
            )
    else:
        x0, y0 = int(rng.integers(0, cw // 10)), int(rng.integers(0, ch // 10))
        x1, y1 = cw - int(rng.integers(0, cw // 10)), ch - int(rng.integers(0, ch // 10))
        d.rectangle(
            (x0, y0, x1, y1),
            fill=(245, 245, 245) if rng.random() < 0.7 else (45, 45, 48),
            outline=(120, 120, 120),
        )
        tb = 32
        d.rectangle((x0, y0, x1, y0 + tb), fill=tuple(int(v) for v in rng.integers(60, 220, 3)))
        d.text(
            (x0 + 12, y0 + 8),
            caption(rng) + (" - Viewer" if style == "window" else " - Browser"),
            font=f,
            fill=(0, 0, 0),
        )
        for i, c in enumerate([(230, 80, 70), (240, 190, 60), (90, 200, 90)]):
            d.ellipse((x1 - 24 - i * 22, y0 + 9, x1 - 10 - i * 22, y0 + 23), fill=c)
        side = 0
        if style == "webpage":
            d.rectangle(
                (x0 + 8, y0 + tb + 6, x1 - 8, y0 + tb + 30),
                fill=(255, 255, 255),
                outline=(180, 180, 180),
            )
            d.text(
                (x0 + 16, y0 + tb + 10),
                "https://example.org/" + caption(rng).replace(" ", "-"),
                font=f,
                fill=(60, 60, 60),
            )
            tb += 36
        if rng.random() < 0.6:
            side = int((x1 - x0) * rng.uniform(0.15, 0.28))
            for i in range(int((y1 - y0 - tb) / 28) - 1):
                d.rectangle(
                    (
                        x0 + 10,
                        y0 + tb + 14 + i * 28,
                        x0 + 10 + int(side * rng.uniform(0.4, 0.9)),
                        y0 + tb + 26 + i * 28,
                    ),
                    fill=(190, 190, 190),
                )
        area = (x0 + side + 16, y0 + tb + 12, x1 - 16, y1 - 40)
        d.text((area[0], y1 - 32), caption(rng), font=f, fill=(90, 90, 90))
    aw, ah = area[2] - area[0], area[3] - area[1]
    s = min(1.0, aw / im.size[0], ah / im.size[1]) * rng.uniform(0.7 if mild else 0.55, 1.0)
    pic = scaled(im, s, s)
    px = area[0] + int(rng.integers(0, max(1, aw - pic.size[0] + 1)))
    py = area[1] + int(rng.integers(0, max(1, ah - pic.size[1] + 1)))
    can.paste(pic, (px, py))
    return can, dict(
        style=style,
        canvas=[cw, ch],
        picture_scale=round(s, 3),
        x=px,
        y=py,
        picture_area_frac=round(pic.size[0] * pic.size[1] / (cw * ch), 3),
    )


SIMPLE = dict(
    crop=e_crop,
    rotate_small=e_rotate_small,
    rotate90=e_rotate90,
    flip=e_flip,
    border=e_border,
    blur=e_blur,
    noise=e_noise,
    sharpen=e_sharpen,
    color=e_color,
    brighten=e_brighten,
    darken=e_darken,
    greyscale=e_greyscale,
    jpeg_heavy=e_jpeg_inline,
    resize=e_resize_inline,
)
WITH_FONTS = dict(overlay=e_overlay, text_banner=e_text_banner, screenshot=e_screenshot)


def apply_edit(name, im, rng, fonts, mild=False):
    if name in SIMPLE:
        return SIMPLE[name](im, rng, mild=mild)
    return WITH_FONTS[name](im, rng, fonts, mild=mild)


def post_resize(im, rng, params):
    """Extra resize applied to some copies: downscale to 30-90 % or a proportion change."""
    r = rng.random()
    if r < 0.2:
        s = rng.uniform(0.3, 0.9)
        params["post_resize"] = dict(sx=round(s, 3), sy=round(s, 3))
        return scaled(im, s, s)
    if r < 0.32:
        sx, sy = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
        if abs(sx - sy) < 0.1:
            sy = max(0.5, sx - 0.15)
        params["post_resize"] = dict(sx=round(sx, 3), sy=round(sy, 3))
        return scaled(im, sx, sy)
    return im


def make_copy(edit, orig, orig_bytes, orig_ext, rng, fonts):
    """Returns (bytes, ext, params)."""
    params = {}
    if edit == "exact_copy":
        return orig_bytes, orig_ext, params
    if edit == "resize_recompress":
        if rng.random() < 0.7:
            s = rng.uniform(0.3, 0.95)
            sx = sy = s
        else:
            sx, sy = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0)
        im = scaled(orig, sx, sy)
        fmt, q = pick_format(rng)
        params.update(sx=round(sx, 3), sy=round(sy, 3), format=fmt, quality=q)
        return encode(im, fmt, q), fmt, params
    if edit == "jpeg_heavy":
        q = int(rng.integers(2, 21))
        im = orig
        if rng.random() < 0.4:
            s = rng.uniform(0.5, 1.0)
            im = scaled(orig, s, s)
            params["scale"] = round(s, 3)
        params.update(format="jpg", quality=q)
        return encode(im, "jpg", q), "jpg", params
    if edit == "recompress_chain":
        n = int(rng.integers(3, 7))
        im, steps = orig, []
        for _ in range(n):
            if rng.random() < 0.5:
                s = rng.uniform(0.75, 0.97)
                im = scaled(im, s, s)
            else:
                s = 1.0
            fmt = "jpg" if rng.random() < 0.65 else "webp"
            q = int(rng.integers(35, 91))
            b = encode(im, fmt, q)
            im = decode(b)
            steps.append(dict(scale=round(s, 3), format=fmt, quality=q))
        params["steps"] = steps
        return b, fmt, params
    if edit == "compound":
        k = int(rng.integers(3, 5))
        chosen = []
        pool = list(COMPOUNDABLE)
        while len(chosen) < k:
            e = pool[int(rng.integers(len(pool)))]
            if e in chosen or ({e} | set(chosen)) >= {"brighten", "darken"}:
                continue
            if (
                e in ("crop", "rotate_small", "border")
                and len({"crop", "rotate_small", "border"} & set(chosen)) >= 2
            ):
                continue
            chosen.append(e)
        im, sub = orig, []
        for e in chosen:
            im, p = apply_edit(e, im, rng, fonts, mild=True)
            sub.append(dict(edit=e, **p))
        params["steps"] = sub
    else:
        im, p = apply_edit(edit, orig, rng, fonts)
        params.update(p)
    if edit != "screenshot":
        im = post_resize(im, rng, params)
    fmt, q = pick_format(rng)
    params.update(format=fmt, quality=q)
    return encode(im, fmt, q), fmt, params


# ----------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sources", required=True)
    ap.add_argument("--seed", type=int, default=20240621)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    srcdir = args.sources
    fonts = Fonts(srcdir)
    plan = build_plan(srcdir, rng)

    # load pictures, drop near-identical ones (24x24 grey thumbnail correlation > 0.97, also mirrored)
    seen_files = set()
    thumbs = []  # (id, thumb)
    groups = []
    dropped = []
    for g in plan:
        f, box = g["src"]
        key = (f, box)
        im = load_picture(srcdir, f, box)
        if min(im.size) < MIN_SHORT:
            dropped.append(("source too small", f, box))
            continue
        t = thumb(im)
        hit = [(sid, near_same(t, u)) for sid, u in thumbs]
        hit = [h for h in hit if h[1] > 0.97]
        if key in seen_files or hit:
            dropped.append(("source near-same as %s" % (hit[0][0] if hit else "itself"), f, box))
            continue
        sid = "g%03d" % len(groups)
        seen_files.add(key)
        thumbs.append((sid, t))
        negs = []
        for ne, nf, nbox in g["negs"]:
            nkey = (nf, nbox)
            if nkey in seen_files or not os.path.exists(os.path.join(srcdir, nf)):
                dropped.append(("negative reused/missing", nf, nbox))
                continue
            nim = load_picture(srcdir, nf, nbox)
            nt = thumb(nim)
            hit = [(s, near_same(nt, u)) for s, u in thumbs]
            hit = [h for h in hit if h[1] > 0.97]
            if hit:
                dropped.append(("negative near-same as %s" % hit[0][0], nf, nbox))
                continue
            nid = "%s-n%d" % (sid, len(negs))
            seen_files.add(nkey)
            thumbs.append((nid, nt))
            negs.append(
                dict(
                    edit=ne,
                    file=nf,
                    box=nbox,
                    image=nim,
                    corr_with_family=round(near_same(nt, t), 3),
                )
            )
        groups.append(
            dict(id=sid, kind=g["kind"], origin=g["origin"], file=f, box=box, image=im, negs=negs)
        )

    # split by origin file, alternating within each kind
    split_of = {}
    for kind in sorted({g["kind"] for g in groups}):
        origins = []
        for g in groups:
            if g["kind"] == kind and g["origin"] not in origins:
                origins.append(g["origin"])
        for i, o in enumerate(origins):
            split_of[o] = "calib" if i % 2 == 0 else "test"

    # balanced deck of edits: each group draws COPIES_PER_GROUP distinct kinds
    deck = []
    records = []  # dict(bytes, ext, meta)
    for g in groups:
        chosen = []
        while len(chosen) < COPIES_PER_GROUP:
            if not deck:
                deck = [EDITS[i] for i in rng.permutation(len(EDITS))]
            # take the first edit in the deck not already used in this group
            for j, e in enumerate(deck):
                if e not in chosen:
                    chosen.append(deck.pop(j))
                    break
            else:
                deck = deck + [EDITS[i] for i in rng.permutation(len(EDITS))]
        split = split_of[g["origin"]]
        src_id = g["file"] + ("" if g["box"] is None else "@%d,%d,%d,%d" % tuple(g["box"]))
        base = dict(group=g["id"], source=src_id, split=split, kind=g["kind"])
        ofmt = "png" if g["file"].endswith((".png", ".webp")) else "jpg"
        if rng.random() < 0.1:
            ofmt = "webp"
        oq = 100 if ofmt != "jpg" else 92
        ob = encode(g["image"], ofmt, oq)
        orig = decode(ob)
        records.append(
            (
                ob,
                ofmt,
                dict(
                    base,
                    edit="original",
                    params=dict(format=ofmt, quality=oq, size=list(orig.size)),
                ),
            )
        )
        for e in chosen:
            b, ext, p = make_copy(e, orig, ob, ofmt, rng, fonts)
            p["size"] = list(Image.open(io.BytesIO(b)).size)
            records.append((b, ext, dict(base, edit=e, params=p)))
        for n in g["negs"]:
            im = n["image"]
            p = dict(family=g["id"], family_source=src_id, corr_with_family=n["corr_with_family"])
            if rng.random() < 0.3:
                s = rng.uniform(0.5, 0.95)
                im = scaled(im, s, s)
                p["scale"] = round(s, 3)
            fmt, q = pick_format(rng)
            p.update(format=fmt, quality=q, size=list(im.size))
            nsrc = n["file"] + ("" if n["box"] is None else "@%d,%d,%d,%d" % tuple(n["box"]))
            records.append(
                (
                    encode(im, fmt, q),
                    fmt,
                    dict(
                        group=None,
                        source=nsrc,
                        split=split,
                        kind=g["kind"],
                        edit=n["edit"],
                        params=p,
                    ),
                )
            )
        g["image"] = None
        for n in g["negs"]:
            n["image"] = None
        print(
            "%s %-8s %-5s %s (+%d neg)" % (g["id"], g["kind"], split, src_id, len(g["negs"])),
            file=sys.stderr,
        )

    order = rng.permutation(len(records))
    imgdir = os.path.join(args.out, "images")
    if os.path.isdir(imgdir):
        shutil.rmtree(imgdir)
    os.makedirs(imgdir)
    out = []
    for num, idx in enumerate(order):
        b, ext, meta = records[idx]
        rel = "images/%06d.%s" % (num, ext)
        with open(os.path.join(args.out, rel), "wb") as fh:
            fh.write(b)
        out.append(
            dict(
                path=rel,
                group=meta["group"],
                edit=meta["edit"],
                source=meta["source"],
                split=meta["split"],
                kind=meta["kind"],
                params=meta["params"],
            )
        )
    truth = dict(
        version=1,
        seed=args.seed,
        images=out,
        dropped=[dict(reason=r, file=f, box=list(b) if b else None) for r, f, b in dropped],
    )
    with open(os.path.join(args.out, "truth.json"), "w") as fh:
        json.dump(truth, fh, indent=1)
    print(
        "wrote %d images in %d groups to %s; dropped %d candidates"
        % (len(out), len(groups), args.out, len(dropped)),
        file=sys.stderr,
    )
    for r in dropped:
        print("  dropped:", *r, file=sys.stderr)


if __name__ == "__main__":
    main()
