"""Build a labelled near-duplicate evaluation set of *graphics* (non-photographic pictures).

Usage::

    python benchmarks/make_set_graphics.py OUTDIR [--seed 1] \
        [--sources-dir benchmarks/work/graphics] [--jobs 2]

Fetch the packaged pictures first with ``benchmarks/fetch_graphics_sources.sh``; units whose
files are missing are skipped with a warning (the rendered and scikit-image units always work).

Sources (one "source" = one split unit; every source name is unique)
---------------------------------------------------------------------
* clipart      -- openclipart-png items (alpha-cropped, scaled to 55-85 % of the canvas and
                  composited onto a plain or gradient background, canvas longest side 800-1200).
* illustration -- larger openclipart drawings (landscape, picnic, poster, gift card, GIMP
                  mascot), the Debian "emerald" logo art (desktop-base) and scikit-image's
                  non-photographic pictures ``logo``, ``horse``, ``shepp_logan_phantom`` and
                  ``binary_blobs`` (upscaled).
* wallpaper    -- desktop-base theme wallpapers (one per theme) and gnome-backgrounds
                  wallpapers (only one of each light/dark pair).
* screenshot   -- gimp-help-en dialog/window screenshots, gnome-user-docs figures, the Plasma
                  preview shot from desktop-base and one inkscape-tutorials dialog.
* diagram      -- two gimp-help diagrams, one gnome-user-docs diagram and rendered flowcharts.
* document     -- rendered text pages (serif/sans/mono/condensed DejaVu fonts, 1-2 columns,
                  headings, figures, tables) and scikit-image ``page`` and ``text`` (upscaled).
* chart        -- rendered charts (bar, horizontal bar, stacked, line, area, scatter, pie,
                  donut), presentation slides and a dashboard.
* ui           -- rendered application windows (table, cards, form, code editor, chat, mail).
* gradient     -- rendered smooth gradients (linear/radial, 2-3 stops) with one small subject
                  (0.4-3 % of the area) and rendered skies (day/sunset/dusk/dawn/overcast)
                  with soft clouds and optional sun, hills and birds.
Packaged pictures are scaled to a longest side of 800-1200 px (smaller ones are upscaled to
800-960 px); pictures with transparency are composited onto a background. Sources that are
variants of each other (light/dark wallpapers, a theme's boot/login/grub pictures, the same
screenshot in two layouts, localised copies, duplicate clip-art files) were excluded by eye,
as were near-blank pictures.

Groups: original plus 7 edited copies
-------------------------------------
Every source with a group gets an ``original`` plus 7 of the 16 edit kinds below (a seeded
sample), each made from the decoded original file. Parameters are drawn uniformly:

* exact_copy        -- byte copy of the original file.
* resize_recompress -- scale 0.3-0.9 (Lanczos/bicubic/bilinear), JPEG (or WebP) q 50-95.
* recompress_chain  -- 3-6 successive JPEG saves at q 30-80, with a resize of 0.85-1.12
                       before each save with probability 0.7.
* crop              -- keep 60-95 % of the area, any aspect (the kept width fraction is drawn
                       from [area, 1]), any position.
* flip              -- horizontal mirror.
* rotate90          -- 90, 180 or 270 degrees.
* rotate_small      -- 3-20 degrees either way; half cropped to the largest inner axis-aligned
                       rectangle, half expanded with black, white or random-colour corners.
* border            -- uniform colour (any colour; 20 % black/white) of 3-30 % of the side on
                       1 side, 2 opposite sides (letterbox/pillarbox), all 4 sides, or padded to
                       a square; widths are never multiples of 8.
* overlay           -- a logo (circle/rounded box/star/badge with letters), a text watermark
                       (alpha 0.2-0.6, optionally rotated up to 35 degrees) or a caption banner
                       (alpha 0.6-1), placed anywhere, covering 3-20 % of the area.
* color             -- 1-2 of: hue shift 15-180 degrees, saturation 0-2x, contrast 0.5-1.6,
                       gamma 0.5-2 (factors closer than 0.15 to 1 are redrawn).
* greyscale         -- luminance only (saved single-channel or as RGB).
* brightness        -- brightness factor 0.3-1.6 (redrawn if within 0.12 of 1).
* blur              -- Gaussian radius 1.5-6 px at a 1000 px longest side (scaled with size).
* noise             -- additive Gaussian noise, sigma 5-25 (RGB or luminance-only).
* jpeg_heavy        -- JPEG q 2-15.
* compound          -- 3-4 distinct kinds from resize_recompress, crop, flip, rotate90,
                       rotate_small, border, overlay, color, greyscale, brightness, blur, noise,
                       jpeg_heavy, chained, each at moderate strength (narrower ranges, e.g. crop
                       75-95 %, rotation 3-10 degrees, blur 1.5-3.5, noise 5-12, JPEG q 20-35).
Formats: originals are JPEG/PNG/WebP by source kind (screenshots, UIs, charts and documents
mostly PNG; wallpapers and gradients mostly JPEG); copies are mostly JPEG with some PNG/WebP
(recompress_chain and jpeg_heavy always JPEG).

Hard negatives (group null)
---------------------------
* neighbour_tile   -- non-overlapping neighbouring regions of one large picture: the other
                      quadrants of a 4096 px gnome wallpaper or of its central part (the
                      group's original is one quadrant, scaled to 900-1100 px),
                      the other bands of a long rendered document, the other quadrants of a
                      large rendered application window or dashboard.
* same_template    -- same layout, different content: rendered pages with other text, UIs with
                      other items, charts with other data, slides and flowcharts with other
                      text; different clip-art items on the identical background and layout;
                      other tabs of the same GIMP dialog / inkscape dialog.
* similar_gradient -- other gradients/skies with jittered colours (hue within 7-20 degrees),
                      different geometry and a different (or no) subject / other clouds.
Some sources consist of negatives only (no group). Negatives of a source belong to its split;
their file formats follow the same mix as originals of their kind.

Split
-----
Sources are split into ``calib`` and ``test`` halves, stratified by source kind (each kind is
shuffled with a seeded RNG and halved), so no source has pictures in both halves.

Output
------
``OUTDIR/images/NNNNNN.<jpg|png|webp>`` (names from a seeded shuffle) and ``OUTDIR/truth.json``::

    {"version": 1, "seed": 1, "images": [{"path": "images/000123.jpg", "group": "g017",
      "edit": "crop", "source": "clip_apple", "split": "test", "kind": "clipart",
      "params": {...}}, ...]}

Two images are true duplicates iff they share a non-null ``group``. Every random choice comes
from ``random.Random`` seeded with (seed, source, edit[, index]), so the output does not depend
on ``--jobs``.
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import io
import json
import math
import random
import shutil
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Image.MAX_IMAGE_PIXELS = None

EDIT_KINDS = [
    "exact_copy",
    "resize_recompress",
    "recompress_chain",
    "crop",
    "flip",
    "rotate90",
    "rotate_small",
    "border",
    "overlay",
    "color",
    "greyscale",
    "brightness",
    "blur",
    "noise",
    "jpeg_heavy",
    "compound",
]
EDITS_PER_GROUP = 7
COMPOUND_PARTS = [
    "resize_recompress",
    "crop",
    "flip",
    "rotate90",
    "rotate_small",
    "border",
    "overlay",
    "color",
    "greyscale",
    "brightness",
    "blur",
    "noise",
    "jpeg_heavy",
]

# (jpg, png, webp) weights
ORIGINAL_FORMATS = {
    "clipart": (0.5, 0.45, 0.05),
    "illustration": (0.5, 0.4, 0.1),
    "wallpaper": (0.7, 0.1, 0.2),
    "screenshot": (0.3, 0.65, 0.05),
    "diagram": (0.35, 0.6, 0.05),
    "document": (0.45, 0.5, 0.05),
    "chart": (0.35, 0.6, 0.05),
    "ui": (0.3, 0.65, 0.05),
    "gradient": (0.7, 0.15, 0.15),
}
EDIT_FORMATS = {
    "resize_recompress": (0.85, 0.0, 0.15),
    "recompress_chain": (1.0, 0.0, 0.0),
    "jpeg_heavy": (1.0, 0.0, 0.0),
    "compound": (0.85, 0.0, 0.15),
    "noise": (0.85, 0.15, 0.0),
    "blur": (0.8, 0.2, 0.0),
    "greyscale": (0.8, 0.2, 0.0),
    "color": (0.8, 0.15, 0.05),
    "brightness": (0.8, 0.15, 0.05),
}
DEFAULT_EDIT_FORMAT = (0.7, 0.2, 0.1)
FORMATS = ("jpg", "png", "webp")

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans_bold": "DejaVuSans-Bold.ttf",
    "sans_italic": "DejaVuSans-Oblique.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif_bold": "DejaVuSerif-Bold.ttf",
    "serif_italic": "DejaVuSerif-Italic.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono_bold": "DejaVuSansMono-Bold.ttf",
    "mono_italic": "DejaVuSansMono-Oblique.ttf",
    "cond": "DejaVuSansCondensed.ttf",
    "cond_bold": "DejaVuSansCondensed-Bold.ttf",
    "cond_italic": "DejaVuSansCondensed-Oblique.ttf",
    "light": "DejaVuSans-ExtraLight.ttf",
}

GIMP = "gimp-help-en/usr/share/gimp/2.0/help/en/images/"
GUD = "gnome-user-docs/usr/share/help/C/gnome-help/figures/"
INK = "inkscape-tutorials/usr/share/inkscape/tutorials/"
GBG = "gnome-backgrounds/usr/share/backgrounds/gnome/"
DEB = "desktop-base/usr/share/desktop-base/"
PLASMA = "desktop-base/usr/share/plasma/look-and-feel/org.debian.desktop/contents/previews/"
OCA = "openclipart-png/usr/share/openclipart/png/"

# name, item shown in the group, other items on the same background (same_template negatives)
CLIPART = [
    (
        "aiga_bus",
        "transportation/aiga-symbols/aiga_bus1.png",
        [
            "signs_and_symbols/map_symbols/aiga_rail_transportation1.png",
            "transportation/aiga-symbols/aiga_parking1.png",
            "transportation/aiga-symbols/aiga_toilets1.png",
        ],
    ),
    (
        "aiga_flights",
        "signs_and_symbols/map_symbols/aiga_departing_flights1.png",
        [
            "signs_and_symbols/map_symbols/aiga_drinking_fountain1.png",
            "transportation/aiga-symbols/aiga_escalator_down_.png",
            "transportation/aiga-symbols/aiga_up_arrow1.png",
        ],
    ),
    (
        "sign_no_entry",
        "transportation/roadsigns/no_entry.png",
        [
            "transportation/roadsigns/turn_left.png",
            "transportation/pass_either.png",
            "signs_and_symbols/no.png",
        ],
    ),
    (
        "sign_narrows",
        "transportation/roadsigns/narrows_both.png",
        ["transportation/roadsigns/tram.png", "transportation/roadsigns/queues.png"],
    ),
    (
        "saturn",
        "science/astronomy/saturn_dan_gerhards_01.png",
        [
            "science/astronomy/venus_dan_gerhards_01.png",
            "science/astronomy/jupiter_dan_gerhards_01.png",
        ],
    ),
    (
        "moon",
        "science/astronomy/the_moon_dan_gerhards_01.png",
        ["geography/astronomy/moon-crescent.png", "geography/svg_globe.png"],
    ),
    (
        "flag_antilles",
        "signs_and_symbols/flags/america/netherlands_antilles.png",
        [
            "signs_and_symbols/flags/oceania/melanesia/solomonislands.png",
            "signs_and_symbols/flags/africa/mauritania.png",
            "signs_and_symbols/flags/america/canada/canada_prince_edward_island.png",
        ],
    ),
    (
        "house",
        "buildings/homes/small_house_01.png",
        ["buildings/homes/my_house_01.png", "buildings/homes/house.png"],
    ),
    (
        "firestation",
        "buildings/firestation_mimooh_01.png",
        ["buildings/homes/house_christoph_brill_01.png", "buildings/ch_teau-fort_01.png"],
    ),
    (
        "map_africa",
        "geography/africa_01.png",
        ["geography/spain_provinces_sherrera_01.png", "geography/map_of_scandinavia_jarno_01.png"],
    ),
    (
        "apple",
        "food/fruit/apple.png",
        ["food/fruit/pineapple.png", "food/fruit/lime_half_jarno_vasamaa_.png"],
    ),
    (
        "cake",
        "food/desserts/cake1_jarno_vasamaa_01.png",
        [
            "food/desserts/gateau_jean_victor_balin_.png",
            "food/desserts/pudim_valessio_soares_de_.png",
        ],
    ),
    (
        "tea_cup",
        "food/beverages/cuppa_schwoo_01.png",
        [
            "food/beverages/zielony_kubek_herbaty_-_01.png",
            "food/beverages/kubek_herbaty_-_mug_of__01.png",
        ],
    ),
    (
        "bee",
        "animals/bugs/bee2_mimooh_01.png",
        ["animals/mosquito_peterm_01.png", "animals/bugs/punaisa_01.png"],
    ),
    (
        "crawfish",
        "food/crawfish2_ganson.png",
        [
            "animals/fish/bofish_massimo_aiello_r.png",
            "animals/fish/amibe_renardjb_on_free.f_02.png",
        ],
    ),
    (
        "puppy",
        "animals/mammals/dogs/bulldog_puppy_ganson.png",
        [
            "animals/mammals/dogs/black_lab_ganson.png",
            "animals/mammals/housecats/cartoon_vgcats_fanart_01.png",
        ],
    ),
    (
        "cow",
        "animals/mammals/mhooo_peterm_.png",
        ["people/self_portrait_hardi1.png", "people/brozo_the_clown_enrique__01.png"],
    ),
    (
        "book",
        "education/books/old_book_lumen_design_st_01.png",
        [
            "education/books/paperback_book_black_gal_.png",
            "education/books/stack_of_books_taller_ga_.png",
        ],
    ),
    (
        "calculator",
        "office/simple_calculator_01.png",
        [
            "computer/phone_sergio_luiz_araujo_01.png",
            "office/telephone/red_telephone_mimooh_01.png",
        ],
    ),
    (
        "magnifier",
        "office/magnifying_glass_01.png",
        ["office/scissors.png", "education/paperclip.png"],
    ),
    (
        "palette",
        "education/paint.png",
        [
            "tools/paint_brush_costea_bogda_01.png",
            "education/books/newspaper_aubanel_monnie_01.png",
        ],
    ),
    (
        "wrench",
        "tools/wrench_jarno_vasamaa_01.png",
        ["tools/axe_peterm_.png", "tools/wooden_mallot_benji_park_.png"],
    ),
    (
        "gears",
        "tools/engrenagem_01.png",
        [
            "tools/weapons/ninjastar_dave_pena_01.png",
            "recreation/religion/christianity/trefoil_architectural_e_01.png",
        ],
    ),
    (
        "eight_ball",
        "recreation/sports/8_ball_jarno_vasamaa.png",
        [
            "recreation/sports/blowling_ball_01.png",
            "recreation/sports/dartboard_ruud_steltenpo_01.png",
        ],
    ),
    (
        "guitar",
        "recreation/music/guitar_profile_philippe__01.png",
        [
            "recreation/sports/table_tennis_racquets_o_01r.png",
            "recreation/sports/golf_flag_ball_bram_gron_.png",
        ],
    ),
    (
        "flower",
        "plants/flowers/red_flower_raphael_seban_01.png",
        ["decorations/sakura_01.png", "plants/flowers/fiore_01.png"],
    ),
    (
        "shamrock",
        "plants/shamrock_for_march_natha_01.png",
        [
            "recreation/holiday/valentines/heart_left-highlight_jon_01.png",
            "computer/icons/star_sergio_luiz_araujo__01.png",
        ],
    ),
    (
        "xmas_tree",
        "plants/trees/evergreen/lightly_decorated_evergreen_01.png",
        ["decorations/sapin_01.png", "decorations/wreath_of_evergreen_with_red_berries_01.png"],
    ),
    (
        "arrow",
        "shapes/arrows/arrow-right-seagreen_ben_01.png",
        [
            "shapes/arrows/green_arrow_bradley_whit_01.png",
            "shapes/arrows/arrow-down-seagreen_benj_01.png",
            "shapes/arrows/arrow12_1.png",
        ],
    ),
    (
        "cd",
        "electronics/cd.png",
        [
            "recreation/games/cards/audio_cassette_mo_01.png",
            "electronics/bobine_czara1_christophe_01.png",
        ],
    ),
    (
        "monitor",
        "office/video_lcd_sergio_luiz_ar_01.png",
        ["electronics/navigation_display_panel_01.png", "office/handphone_2_toh_yen_chen_01.png"],
    ),
    (
        "pumpkin",
        "food/pumpkin_erik_postma_01.png",
        ["food/vegetables/what_s_up_doc_01.png", "food/thanksgiving_spread_01.png"],
    ),
    (
        "capitol",
        "buildings/us_capitol_building_ink_01.png",
        ["buildings/wall.png", "education/school_in_fall_abiclipar_01.png"],
    ),
    (
        "vacuum",
        "tools/vavuum_cleaner_-_uprigh_02.png",
        ["office/pinzatrice_rollandin_arc_01.png", "office/eraser.png"],
    ),
    (
        "fern",
        "plants/trees/fern_mo_01.png",
        ["plants/bamboo_01.png", "plants/tree_branches_and_roots_01.png"],
    ),
    (
        "lightbulb",
        "electronics/bulb/lightbulb_jon_phillips_01.png",
        ["electronics/battery/battery_snuatautisticido_01.png", "electronics/capacitors_1.png"],
    ),
    (
        "route66",
        "signs_and_symbols/flags/america/route_jakob_chaosinfa_.png",
        ["transportation/roadsigns/Motorway_on.png", "transportation/street_sign_gerald_g._01.png"],
    ),
    (
        "magic_hat",
        "recreation/party/abracadabra_jean_maurice_.png",
        [
            "people/clothing/mitten_nathan_eady_01.png",
            "plants/flowers/magnolia_white_patricia__01.png",
        ],
    ),
]

# name, kind, picture, other pictures of the same template (same_template negatives)
PACKAGED = [
    ("gimp_export_dialog", "screenshot", GIMP + "using/export-image-dialog.png", []),
    ("gimp_export_jpeg", "screenshot", GIMP + "using/export-jpeg-dialog.png", []),
    ("gimp_file_open", "screenshot", GIMP + "using/file-open-dialog.png", []),
    ("gimp_single_window", "screenshot", GIMP + "using/single-window.png", []),
    ("gimp_single_window_mode", "screenshot", GIMP + "using/single-window-mode.png", []),
    ("gimp_shortcuts", "screenshot", GIMP + "dialogs/keyboard-shortcuts-dialog.png", []),
    ("gimp_rotate_menu", "screenshot", GIMP + "tutorials/quickie-rotate-menu.png", []),
    ("gimp_gfig", "screenshot", GIMP + "filters/render/gfig.png", []),
    ("gimp_convolution", "screenshot", GIMP + "filters/generic/convolution.png", []),
    ("gimp_imagemap", "screenshot", GIMP + "filters/web/imagemap.png", []),
    ("gimp_metadata", "screenshot", GIMP + "menus/image/metadata-editor-dialog.png", []),
    ("gimp_new_layer", "screenshot", GIMP + "menus/layer/new.png", []),
    ("gimp_new_image", "screenshot", GIMP + "menus/file/new/advanced-dialog.png", []),
    ("gimp_curve_bend", "screenshot", GIMP + "filters/distort/curvebend.png", []),
    ("gimp_sphere_designer", "screenshot", GIMP + "filters/render/spheredesigner.png", []),
    (
        "gimp_fractal_explorer",
        "screenshot",
        GIMP + "filters/render/fractalexplorer.png",
        [GIMP + "filters/render/fractalexplorer3.png"],
    ),
    (
        "gimp_spyrogimp",
        "screenshot",
        GIMP + "filters/render/spyrogimp.png",
        [GIMP + "filters/render/spyrogimp2.png"],
    ),
    (
        "gimp_cml_explorer",
        "screenshot",
        GIMP + "filters/render/cmlexplorer1.png",
        [GIMP + "filters/render/cmlexplorer4.png"],
    ),
    (
        "gimp_gflare",
        "screenshot",
        GIMP + "filters/light-and-shadow/gflare-editor-1.png",
        [GIMP + "filters/light-and-shadow/gflare-editor-2.png"],
    ),
    (
        "gimp_lighting",
        "screenshot",
        GIMP + "filters/light-and-shadow/lighting.png",
        [GIMP + "filters/light-and-shadow/lighting4.png"],
    ),
    (
        "gimp_prefs",
        "screenshot",
        GIMP + "preferences/prefs-color-management.png",
        [
            GIMP + "preferences/prefs-interface.png",
            GIMP + "preferences/prefs-system-resources.png",
        ],
    ),
    ("inkscape_trace", "screenshot", INK + "potrace.png", [INK + "pixelart-dialog.png"]),
    ("plasma_desktop", "screenshot", PLASMA + "fullscreenpreview.jpg", []),
    ("gnome_screenshot_tool", "screenshot", GUD + "screenshot-tool.png", []),
    ("gnome_calendar", "screenshot", GUD + "shell-appts.png", []),
    ("gnome_system_menu", "screenshot", GUD + "shell-exit.png", []),
    ("gimp_slider_help", "diagram", GIMP + "toolbox/new-slider-interaction.png", []),
    ("gimp_companding", "diagram", GIMP + "glossary/companding-curves-compared.png", []),
    ("gnome_color_space", "diagram", GUD + "color-space.png", []),
    ("wall_debian_emerald", "wallpaper", DEB + "emerald-theme/grub/grub-16x9.png", []),
    (
        "wall_debian_future",
        "wallpaper",
        DEB + "futureprototype-theme/plymouth/plymouth_background_future.png",
        [],
    ),
    ("wall_debian_joy", "wallpaper", DEB + "joy-theme/grub/grub-16x9.png", []),
    ("wall_debian_lines", "wallpaper", DEB + "lines-theme/plymouth/background.png", []),
    ("wall_debian_moonlight", "wallpaper", DEB + "moonlight-theme/grub/grub-16x9.png", []),
    (
        "wall_debian_softwaves",
        "wallpaper",
        DEB + "softwaves-theme/plymouth/plymouth_background_waves.png",
        [],
    ),
    ("wall_debian_spacefun", "wallpaper", DEB + "spacefun-theme/plymouth/background.png", []),
    ("wall_gnome_wood", "wallpaper", GBG + "wood-l.webp", []),
    ("illus_landscape", "illustration", OCA + "unsorted/landscape_near_the_river_01.png", []),
    ("illus_picnic", "illustration", OCA + "food/picnic_01.png", []),
    ("illus_gimp_mascot", "illustration", OCA + "computer/icons/gim_pcch_01.png", []),
    ("illus_poster", "illustration", OCA + "special/poster-example_01.png", []),
    (
        "illus_gift_card",
        "illustration",
        OCA + "special/examples/01_gift_certificate/hideaway.png",
        [],
    ),
    ("illus_debian_emerald", "illustration", DEB + "emerald-theme/plymouth/logo+emerald.png", []),
]

# backgrounds for packaged pictures with transparency (default: light grey/white or random)
PACKAGED_BG = {"illus_debian_emerald": (18, 40, 46)}

# 4096 px gnome wallpapers: original = one quadrant, negatives = the other quadrants
GNOME_TILED = [
    ("wall_gnome_adwaita", GBG + "adwaita-l.webp", (0.0, 0.0, 1.0, 1.0)),
    ("wall_gnome_grid", GBG + "grid-l.webp", (0.0, 0.0, 1.0, 1.0)),
    ("wall_gnome_licorice", GBG + "licorice-d.webp", (0.0, 0.0, 1.0, 1.0)),
    ("wall_gnome_pixels", GBG + "pixels-d.webp", (0.22, 0.2, 0.86, 0.8)),
    ("wall_gnome_truchet", GBG + "truchet-d.webp", (0.0, 0.0, 1.0, 1.0)),
]

_WORDS_TEXT = """
the of and to in is for on that with as by at from this are be or an was it which we can
not data system report model value results method using new time first two more these
other each used analysis process design also based may between than used such over into
study section table figure shown level number results shows case user file network
project team budget quarter growth sales market customer service product support update
policy review plan meeting summary revenue cost region north south east west annual
monthly weekly daily target performance index rate risk quality control test sample
group general public private local global simple complex average total large small high
low early late open close build release version feature issue change request status
green river mountain garden village harbour station library museum theatre school
morning evening winter summer spring autumn light water stone paper glass metal wood
engine signal memory screen window button panel menu option setting profile account
member board council committee office department unit center research development
training program course lesson chapter page note letter article journal paper volume
"""
WORDS = _WORDS_TEXT.split()

SUBJECT_KINDS = ["sun", "house", "tree", "birds", "logo", "boat", "star", "balloon"]


# ----------------------------------------------------------------------------- utilities
def rng_for(seed: int, *parts: object) -> random.Random:
    key = "|".join(str(p) for p in (seed, *parts)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def np_rng(r: random.Random) -> np.random.Generator:
    return np.random.default_rng(r.getrandbits(63))


@lru_cache(maxsize=256)
def font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    size = max(6, int(size))
    try:
        return ImageFont.truetype(str(FONT_DIR / FONT_FILES.get(name, "DejaVuSans.ttf")), size)
    except OSError:
        return ImageFont.load_default(size=size)


def fam_bold(fam: str) -> str:
    return {"light": "sans_bold"}.get(fam, fam.split("_")[0] + "_bold")


def fam_italic(fam: str) -> str:
    return {"light": "sans_italic"}.get(fam, fam.split("_")[0] + "_italic")


def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))
    return (round(r * 255), round(g * 255), round(b * 255))


def mix(c1: tuple, c2: tuple, t: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * t) for a, b in zip(c1, c2, strict=False))  # type: ignore


def luma(c: tuple) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def contrast_text(c: tuple) -> tuple[int, int, int]:
    return (20, 20, 25) if luma(c) > 140 else (245, 245, 245)


def rand_color(r: random.Random) -> tuple[int, int, int]:
    return (r.randrange(256), r.randrange(256), r.randrange(256))


def words(r: random.Random, n: int) -> list[str]:
    return [r.choice(WORDS) for _ in range(n)]


def sentence(r: random.Random, lo: int = 6, hi: int = 16) -> str:
    w = words(r, r.randint(lo, hi))
    if r.random() < 0.25:
        w.insert(r.randrange(len(w)), str(r.randint(2, 2030)))
    if len(w) > 6 and r.random() < 0.4:
        k = r.randrange(2, len(w) - 2)
        w[k] += ","
    s = " ".join(w)
    return s[0].upper() + s[1:] + "."


def paragraph(r: random.Random, lo: int = 2, hi: int = 6) -> str:
    return " ".join(sentence(r) for _ in range(r.randint(lo, hi)))


def title_text(r: random.Random, lo: int = 2, hi: int = 6) -> str:
    return " ".join(w.capitalize() for w in words(r, r.randint(lo, hi)))


def wrap(text: str, f, width: float) -> list[str]:
    lines: list[str] = []
    cur = ""
    for w in text.split():
        cand = f"{cur} {w}" if cur else w
        if f.getlength(cand) <= width or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def fit_text(text: str, f, width: float) -> str:
    while text and f.getlength(text) > width:
        text = text[:-2] if len(text) > 2 else ""
    return text


def interp_stops(t: np.ndarray, stops: list[tuple[float, tuple]]) -> np.ndarray:
    pos = [p for p, _ in stops]
    out = np.empty((*t.shape, 3), np.float32)
    for ch in range(3):
        out[..., ch] = np.interp(t, pos, [c[ch] for _, c in stops])
    return out


def gradient_array(w: int, h: int, stops, geom: dict) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if geom["type"] == "linear":
        a = math.radians(geom["angle"])
        t = (xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a)
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    else:
        cx, cy = geom["cx"] * w, geom["cy"] * h
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / (geom["radius"] * max(w, h))
        t = np.clip(t, 0, 1)
    return interp_stops(t, stops)


def to_image(arr: np.ndarray, r: random.Random | None = None, dither: float = 0.0) -> Image.Image:
    if r is not None and dither > 0:
        arr = arr + np_rng(r).normal(0, dither, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def smooth_noise(w: int, h: int, r: random.Random, octaves: int = 4, base: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1] (bicubic-upsampled random grids)."""
    g = np_rng(r)
    acc = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gw = base * 2**o + 1
        gh = max(2, round(gw * h / w) + 1)
        small = Image.fromarray((g.random((gh, gw)) * 255).astype(np.uint8))
        acc += amp * np.asarray(small.resize((w, h), Image.BICUBIC), np.float32) / 255.0
        total += amp
        amp *= 0.5
    return acc / total


def resize_longest(img: Image.Image, target: int) -> Image.Image:
    w, h = img.size
    s = target / max(w, h)
    return img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)


def jpeg_roundtrip(img: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB" if img.mode not in ("RGB", "L") else img.mode).save(buf, "JPEG", quality=q)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def save_image(img: Image.Image, path: Path, fmt: str, quality: int) -> None:
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if fmt == "jpg":
        img.save(path, "JPEG", quality=int(quality))
    elif fmt == "png":
        img.save(path, "PNG", compress_level=6)
    else:
        img.convert("RGB").save(path, "WEBP", quality=int(quality), method=4)


def pick_format(r: random.Random, weights: tuple[float, float, float]) -> str:
    return r.choices(FORMATS, weights=weights)[0]


# ----------------------------------------------------------------------------- backgrounds
def background_spec(r: random.Random) -> dict:
    kind = r.choices(["plain", "linear", "radial"], weights=[0.5, 0.3, 0.2])[0]
    mode = r.choices(["light", "white", "dark", "vivid"], weights=[0.4, 0.2, 0.15, 0.25])[0]
    h = r.random()
    if mode == "white":
        c1 = (255, 255, 255)
    elif mode == "light":
        c1 = hsv(h, r.uniform(0.05, 0.3), r.uniform(0.85, 1.0))
    elif mode == "dark":
        c1 = hsv(h, r.uniform(0.1, 0.6), r.uniform(0.1, 0.3))
    else:
        c1 = hsv(h, r.uniform(0.5, 0.9), r.uniform(0.55, 0.95))
    c2 = hsv(h + r.uniform(-0.12, 0.12), r.uniform(0.1, 0.7), r.uniform(0.3, 1.0))
    geom = {
        "type": "linear" if kind != "radial" else "radial",
        "angle": r.uniform(0, 360),
        "cx": r.uniform(0.2, 0.8),
        "cy": r.uniform(0.2, 0.8),
        "radius": r.uniform(0.6, 1.2),
    }
    return {"kind": kind, "c1": c1, "c2": c2, "geom": geom}


def render_background(spec: dict, w: int, h: int, r: random.Random) -> Image.Image:
    if spec["kind"] == "plain":
        return Image.new("RGB", (w, h), spec["c1"])
    arr = gradient_array(w, h, [(0.0, spec["c1"]), (1.0, spec["c2"])], spec["geom"])
    return to_image(arr, r, 0.6)


def canvas_size(r: random.Random) -> tuple[int, int]:
    longest = r.randint(800, 1200)
    aspect = r.choice([1.0, 4 / 3, 3 / 2, 16 / 9, 5 / 4])
    if r.random() < 0.35:
        aspect = 1 / aspect
    if aspect >= 1:
        return longest, round(longest / aspect)
    return round(longest * aspect), longest


# ----------------------------------------------------------------------------- documents
def doc_template(r: random.Random) -> dict:
    height = r.randint(1040, 1200)
    fam = r.choice(["serif", "sans", "mono", "cond", "serif"])
    return {
        "W": round(height / r.choice([1.414, 1.294, 1.5])),
        "H": height,
        "paper": r.choice([(255, 255, 255), (252, 250, 243), (246, 246, 246), (255, 253, 247)]),
        "ink": r.choice([(20, 20, 20), (35, 35, 45), (45, 40, 35), (10, 20, 50)]),
        "accent": hsv(r.random(), r.uniform(0.4, 0.8), r.uniform(0.35, 0.7)),
        "fam": fam,
        "size": r.randint(14, 19),
        "lead": r.uniform(1.3, 1.65),
        "margin": r.randint(55, 105),
        "cols": r.choice([1, 1, 2]),
        "gutter": r.randint(24, 40),
        "title_size": r.randint(24, 36),
        "title_center": r.random() < 0.5,
        "title_fam": r.choice([fam, "sans", "serif"]),
        "title_accent": r.random() < 0.4,
        "header": r.random() < 0.6,
        "rule": r.random() < 0.6,
        "justify": r.random() < 0.5,
        "indent": r.random() < 0.5,
        "para_gap": r.uniform(0.3, 1.0),
        "headings": r.random() < 0.6,
        "figure": r.random() < 0.55,
        "table": r.random() < 0.35,
        "footer": r.random() < 0.8,
        "fig_h": r.uniform(0.14, 0.24),
        "journal": title_text(r, 2, 4),
    }


def draw_mini_plot(d: ImageDraw.ImageDraw, box, r: random.Random, accent, ink) -> None:
    x0, y0, x1, y1 = box
    kind = r.choice(["line", "bars", "shapes", "scatter"])
    d.line([(x0 + 10, y1 - 10), (x1 - 10, y1 - 10)], fill=ink, width=1)
    d.line([(x0 + 10, y0 + 10), (x0 + 10, y1 - 10)], fill=ink, width=1)
    w, h = x1 - x0 - 30, y1 - y0 - 30
    if kind == "line":
        for s in range(r.randint(1, 3)):
            col = accent if s == 0 else hsv(r.random(), 0.6, 0.7)
            n = r.randint(6, 14)
            v = r.uniform(0.2, 0.8)
            pts = []
            for i in range(n):
                v = min(0.95, max(0.05, v + r.uniform(-0.2, 0.2)))
                pts.append((x0 + 15 + w * i / (n - 1), y1 - 15 - h * v))
            d.line(pts, fill=col, width=2)
    elif kind == "bars":
        n = r.randint(4, 10)
        bw = w / n
        for i in range(n):
            v = r.uniform(0.1, 0.95)
            d.rectangle(
                [x0 + 15 + i * bw + 2, y1 - 15 - h * v, x0 + 15 + (i + 1) * bw - 3, y1 - 11],
                fill=accent,
            )
    elif kind == "scatter":
        for _ in range(r.randint(20, 60)):
            cx, cy = x0 + 15 + r.random() * w, y1 - 15 - r.random() * h
            d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=accent)
    else:
        for _ in range(r.randint(3, 7)):
            cx, cy = x0 + 20 + r.random() * (w - 20), y0 + 20 + r.random() * (h - 20)
            s = r.uniform(10, min(w, h) / 3)
            col = hsv(r.random(), 0.5, 0.85)
            if r.random() < 0.5:
                d.ellipse([cx - s, cy - s, cx + s, cy + s], fill=col, outline=ink)
            else:
                d.rectangle([cx - s, cy - s * 0.7, cx + s, cy + s * 0.7], fill=col, outline=ink)


def render_doc(t: dict, r: random.Random, height: int | None = None) -> Image.Image:
    W = t["W"]
    H = height or t["H"]
    img = Image.new("RGB", (W, H), t["paper"])
    d = ImageDraw.Draw(img)
    m, ink, fam = t["margin"], t["ink"], t["fam"]
    f = font(fam, t["size"])
    lh = round(t["size"] * t["lead"])
    small = font(fam, max(10, t["size"] - 4))
    if t["header"]:
        hy = m // 2
        d.text((m, hy), t["journal"], font=small, fill=mix(ink, t["paper"], 0.45))
        pg = str(r.randint(2, 480))
        d.text((W - m - small.getlength(pg), hy), pg, font=small, fill=mix(ink, t["paper"], 0.45))
        d.line(
            [(m, hy + t["size"] + 2), (W - m, hy + t["size"] + 2)], fill=mix(ink, t["paper"], 0.6)
        )
    y = m + (t["size"] if t["header"] else 0)
    tf = font(fam_bold(t["title_fam"]), t["title_size"])
    tcol = t["accent"] if t["title_accent"] else ink
    for line in wrap(title_text(r, 3, 9), tf, W - 2 * m):
        x = (W - tf.getlength(line)) / 2 if t["title_center"] else m
        d.text((x, y), line, font=tf, fill=tcol)
        y += round(t["title_size"] * 1.25)
    auth = ", ".join(title_text(r, 2, 2) for _ in range(r.randint(1, 3)))
    af = font(fam_italic(fam), max(11, t["size"] - 1))
    x = (W - af.getlength(auth)) / 2 if t["title_center"] else m
    d.text((x, y + 4), auth, font=af, fill=mix(ink, t["paper"], 0.3))
    y += round(t["size"] * 2.6)
    if t["rule"]:
        d.line([(m, y - lh // 2), (W - m, y - lh // 2)], fill=t["accent"], width=2)
    bottom = H - m - (t["size"] * 2 if t["footer"] else 0)
    cols = t["cols"]
    col_w = (W - 2 * m - (cols - 1) * t["gutter"]) / cols
    top = y
    col = 0
    fig_no = 1
    section = 1
    while col < cols:
        x0 = m + col * (col_w + t["gutter"])
        roll = r.random()
        if t["headings"] and roll < 0.18:
            hf = font(fam_bold(fam), t["size"] + 3)
            text = f"{section}. {title_text(r, 1, 4)}"
            section += 1
            if y + lh * 3 > bottom:
                col, y = col + 1, top
                continue
            y += lh // 2
            d.text((x0, y), fit_text(text, hf, col_w), font=hf, fill=ink)
            y += round((t["size"] + 3) * 1.5)
            continue
        if t["figure"] and roll < 0.30:
            fh = round(H * t["fig_h"]) if height is None else round(t["H"] * t["fig_h"])
            if y + fh + lh * 2 > bottom:
                continue  # does not fit: leave it out, text fills the column
            box = (x0 + 10, y + 6, x0 + col_w - 10, y + fh)
            d.rectangle(
                box, fill=mix(t["paper"], t["accent"], 0.08), outline=mix(ink, t["paper"], 0.6)
            )
            draw_mini_plot(d, box, r, t["accent"], ink)
            cap = f"Figure {fig_no}: {sentence(r, 4, 9)}"
            fig_no += 1
            capf = font(fam_italic(fam), max(10, t["size"] - 3))
            y += fh + 8
            for line in wrap(cap, capf, col_w - 20)[:2]:
                d.text((x0 + 10, y), line, font=capf, fill=ink)
                y += round(t["size"] * 1.2)
            y += lh
            continue
        if t["table"] and roll < 0.36:
            rows, ncol = r.randint(4, 7), r.randint(3, 4)
            rh = round(t["size"] * 1.5)
            if y + rh * (rows + 1) > bottom:
                continue
            cw = col_w / ncol
            d.line([(x0, y), (x0 + col_w, y)], fill=ink, width=2)
            bf = font(fam_bold(fam), max(10, t["size"] - 2))
            sf = font(fam, max(10, t["size"] - 2))
            for j in range(ncol):
                d.text(
                    (x0 + j * cw + 4, y + 3),
                    fit_text(title_text(r, 1, 1), bf, cw - 6),
                    font=bf,
                    fill=ink,
                )
            y += rh
            d.line([(x0, y), (x0 + col_w, y)], fill=ink, width=1)
            for _ in range(rows):
                for j in range(ncol):
                    cell = r.choice(WORDS) if j == 0 else f"{r.uniform(0, 999):.{r.randint(0, 2)}f}"
                    d.text((x0 + j * cw + 4, y + 3), fit_text(cell, sf, cw - 6), font=sf, fill=ink)
                y += rh
            d.line([(x0, y), (x0 + col_w, y)], fill=ink, width=2)
            y += lh
            continue
        indent = t["size"] * 2 if t["indent"] else 0
        lines = wrap(paragraph(r), f, col_w - indent)
        for i, line in enumerate(lines):
            if y + lh > bottom:
                col, y = col + 1, top
                x0 = m + col * (col_w + t["gutter"])
                if col >= cols:
                    break
            lx = x0 + (indent if i == 0 else 0)
            avail = col_w - (indent if i == 0 else 0)
            ws = line.split()
            if t["justify"] and i < len(lines) - 1 and len(ws) > 1:
                gap = (avail - sum(f.getlength(w) for w in ws)) / (len(ws) - 1)
                xx = lx
                for w in ws:
                    d.text((xx, y), w, font=f, fill=ink)
                    xx += f.getlength(w) + gap
            else:
                d.text((lx, y), line, font=f, fill=ink)
            y += lh
        y += round(lh * t["para_gap"])
    if t["footer"]:
        pn = str(r.randint(1, 300))
        d.text(((W - small.getlength(pn)) / 2, H - m + t["size"] // 2), pn, font=small, fill=ink)
    return img


# ----------------------------------------------------------------------------- UI windows
UI_MAINS = ["table", "cards", "form", "editor", "chat", "mail"]


def ui_template(r: random.Random) -> dict:
    dark = r.random() < 0.4
    base = r.randint(28, 48) if dark else r.randint(236, 250)
    tint = hsv(r.random(), r.uniform(0.02, 0.12), 1.0)
    bg = mix((base, base, base), tint, 0.15 if not dark else 0.0)
    return {
        "W": r.randint(1000, 1200),
        "H": r.randint(640, 820),
        "dark": dark,
        "bg": bg,
        "panel": mix(bg, (255, 255, 255) if dark else (0, 0, 0), 0.06),
        "side": mix(bg, (255, 255, 255) if dark else (0, 0, 0), r.uniform(0.03, 0.1)),
        "text": (230, 230, 232) if dark else (30, 30, 36),
        "muted": (150, 150, 160) if dark else (110, 110, 120),
        "line": mix(bg, (255, 255, 255) if dark else (0, 0, 0), 0.15),
        "accent": hsv(r.random(), r.uniform(0.5, 0.85), r.uniform(0.6, 0.9)),
        "fam": r.choice(["sans", "cond"]),
        "fs": r.randint(13, 16),
        "title_h": r.randint(30, 40),
        "tool_h": r.randint(38, 54),
        "side_w": r.randint(170, 260),
        "status_h": r.randint(22, 28),
        "main": r.choice(UI_MAINS),
        "mac": r.random() < 0.5,
        "row_h": r.randint(28, 38),
        "round": r.randint(2, 8),
        "icon_hues": [r.random() for _ in range(12)],
        "headers": [title_text(r, 1, 1) for _ in range(5)],
        "app": title_text(r, 1, 2),
    }


def ui_icon(d: ImageDraw.ImageDraw, x: float, y: float, s: float, col, rnd: int) -> None:
    d.rounded_rectangle([x, y, x + s, y + s], radius=rnd, fill=col)


def render_ui(t: dict, r: random.Random, W: int | None = None, H: int | None = None) -> Image.Image:
    W = W or t["W"]
    H = H or t["H"]
    img = Image.new("RGB", (W, H), t["bg"])
    d = ImageDraw.Draw(img)
    fs, fam = t["fs"], t["fam"]
    f = font(fam, fs)
    fb = font(fam_bold(fam), fs)
    th = t["title_h"]
    d.rectangle([0, 0, W, th], fill=t["panel"])
    title = f"{title_text(r, 1, 3)} - {t['app']}"
    d.text(((W - fb.getlength(title)) / 2, (th - fs) / 2 - 1), title, font=fb, fill=t["text"])
    if t["mac"]:
        for i, c in enumerate([(237, 94, 86), (245, 190, 80), (98, 197, 84)]):
            cx = 18 + i * 22
            d.ellipse([cx - 6, th / 2 - 6, cx + 6, th / 2 + 6], fill=c)
    else:
        for i in range(3):
            cx = W - 22 - i * 40
            d.line([(cx - 6, th / 2), (cx + 6, th / 2)], fill=t["text"], width=2)
    y0 = th
    tb = t["tool_h"]
    d.rectangle([0, y0, W, y0 + tb], fill=mix(t["panel"], t["bg"], 0.5))
    x = 12
    hues = t["icon_hues"]
    for i in range(r.randint(6, 12)):
        s = tb * 0.55
        ui_icon(d, x, y0 + (tb - s) / 2, s, hsv(hues[i % len(hues)], 0.45, 0.8), t["round"])
        x += s + (18 if r.random() < 0.25 else 8)
    sx = W - 280
    d.rounded_rectangle(
        [sx, y0 + 8, W - 14, y0 + tb - 8], radius=t["round"] + 4, fill=t["bg"], outline=t["line"]
    )
    d.text((sx + 12, y0 + (tb - fs) / 2 - 1), "Search " + r.choice(WORDS), font=f, fill=t["muted"])
    d.line([(0, y0 + tb), (W, y0 + tb)], fill=t["line"])
    top = y0 + tb + 1
    bottom = H - t["status_h"]
    sw = t["side_w"]
    d.rectangle([0, top, sw, bottom], fill=t["side"])
    d.line([(sw, top), (sw, bottom)], fill=t["line"])
    yy = top + 12
    sel = r.randrange(8)
    for i in range(r.randint(7, 14)):
        if yy + t["row_h"] > bottom:
            break
        if i in (4, 9) and r.random() < 0.6:
            d.text(
                (14, yy + 8),
                title_text(r, 1, 1).upper(),
                font=font(fam_bold(fam), fs - 3),
                fill=t["muted"],
            )
            yy += t["row_h"]
            continue
        if i == sel:
            d.rounded_rectangle(
                [6, yy, sw - 6, yy + t["row_h"] - 4], radius=t["round"], fill=t["accent"]
            )
        s = fs + 2
        ui_icon(d, 16, yy + (t["row_h"] - 4 - s) / 2, s, hsv(hues[(i + 3) % 12], 0.5, 0.85), 3)
        col = contrast_text(t["accent"]) if i == sel else t["text"]
        d.text(
            (24 + s, yy + (t["row_h"] - 4 - fs) / 2 - 1),
            fit_text(title_text(r, 1, 2), f, sw - 40 - s),
            font=f,
            fill=col,
        )
        yy += t["row_h"]
    st = f"{r.randint(2, 999)} items, {r.randint(1, 99)} selected  |  {r.choice(WORDS)}"
    d.rectangle([0, bottom, W, H], fill=t["panel"])
    d.text((10, bottom + (t["status_h"] - fs) / 2 - 1), st, font=font(fam, fs - 2), fill=t["muted"])
    box = (sw + 1, top, W, bottom)
    {
        "table": ui_table,
        "cards": ui_cards,
        "form": ui_form,
        "editor": ui_editor,
        "chat": ui_chat,
        "mail": ui_mail,
    }[t["main"]](d, img, box, t, r)
    return img


STATUSES = ["Done", "Pending", "Shared", "Draft", "Error", "Synced"]


def ui_table(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs, f, fb = t["fs"], font(t["fam"], t["fs"]), font(fam_bold(t["fam"]), t["fs"])
    widths = [0.42, 0.22, 0.14, 0.22]
    rh = t["row_h"]
    d.rectangle([x0, y0, x1, y0 + rh], fill=t["panel"])
    cx = x0 + 12
    for j, wf in enumerate(widths):
        d.text((cx, y0 + (rh - fs) / 2 - 1), t["headers"][j], font=fb, fill=t["text"])
        cx += (x1 - x0) * wf
    y = y0 + rh
    sel = r.randrange(12)
    i = 0
    while y + rh <= y1:
        if i == sel:
            d.rectangle([x0, y, x1, y + rh], fill=mix(t["bg"], t["accent"], 0.3))
        elif i % 2:
            d.rectangle([x0, y, x1, y + rh], fill=mix(t["bg"], t["panel"], 0.6))
        cx = x0 + 12
        s = fs
        ui_icon(d, cx, y + (rh - s) / 2, s, hsv(t["icon_hues"][r.randrange(12)], 0.5, 0.85), 2)
        cells = [
            "_".join(words(r, r.randint(1, 3))) + r.choice([".png", ".pdf", ".txt", ".odt", ""]),
            f"20{r.randint(10, 25)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
            f"{r.uniform(1, 999):.1f} {r.choice(['kB', 'MB', 'B'])}",
            r.choice(STATUSES),
        ]
        for j, wf in enumerate(widths):
            tx = cx + (s + 8 if j == 0 else 0)
            cw = (x1 - x0) * wf - 16
            if j == 3:
                pill = hsv(STATUSES.index(cells[3]) / 7.0, 0.5, 0.85)
                tw = f.getlength(cells[3]) + 16
                d.rounded_rectangle(
                    [tx, y + 5, tx + tw, y + rh - 5], radius=(rh - 10) // 2, fill=pill
                )
                d.text((tx + 8, y + (rh - fs) / 2 - 1), cells[3], font=f, fill=contrast_text(pill))
            else:
                d.text(
                    (tx, y + (rh - fs) / 2 - 1), fit_text(cells[j], f, cw), font=f, fill=t["text"]
                )
            cx += (x1 - x0) * wf
        d.line([(x0, y + rh), (x1, y + rh)], fill=t["line"])
        y += rh
        i += 1


def ui_cards(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs, f = t["fs"], font(t["fam"], t["fs"])
    ncol = max(2, round((x1 - x0) / r.uniform(190, 260)))
    gap = 16
    cw = (x1 - x0 - gap * (ncol + 1)) / ncol
    ch = cw * 0.75 + fs * 3
    y = y0 + gap
    while y + ch <= y1:
        for j in range(ncol):
            x = x0 + gap + j * (cw + gap)
            d.rounded_rectangle(
                [x, y, x + cw, y + ch], radius=t["round"] + 2, fill=t["panel"], outline=t["line"]
            )
            th = cw * 0.75
            tw_, th_ = max(2, int(cw - 12)), max(2, int(th - 12))
            spec = background_spec(r)
            spec["kind"] = r.choice(["linear", "radial"])
            thumb = render_background(spec, tw_, th_, r)
            td = ImageDraw.Draw(thumb)
            for _ in range(r.randint(1, 4)):
                cx, cy, s = r.random() * tw_, r.random() * th_, r.uniform(6, th_ / 3)
                td.ellipse([cx - s, cy - s, cx + s, cy + s], fill=hsv(r.random(), 0.6, 0.9))
            img.paste(thumb, (int(x + 6), int(y + 6)))
            d.text(
                (x + 8, y + th + 2),
                fit_text(title_text(r, 1, 3), f, cw - 16),
                font=f,
                fill=t["text"],
            )
            d.text(
                (x + 8, y + th + fs * 1.5),
                fit_text(sentence(r, 2, 5), font(t["fam"], fs - 2), cw - 16),
                font=font(t["fam"], fs - 2),
                fill=t["muted"],
            )
        y += ch + gap


def ui_form(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs, f, fb = t["fs"], font(t["fam"], t["fs"]), font(fam_bold(t["fam"]), t["fs"] + 4)
    x = x0 + 30
    y = y0 + 20
    d.text((x, y), title_text(r, 1, 3), font=fb, fill=t["text"])
    y += fs * 3
    lw = (x1 - x0) * 0.3
    while y + fs * 3 < y1 - 60:
        kind = r.random()
        d.text((x, y + 6), title_text(r, 1, 3), font=f, fill=t["text"])
        fx = x + lw
        if kind < 0.6:
            d.rounded_rectangle(
                [fx, y, x1 - 40, y + fs * 2.2], radius=t["round"], fill=t["bg"], outline=t["line"]
            )
            d.text(
                (fx + 10, y + fs * 0.55),
                fit_text(sentence(r, 1, 5)[:-1], f, x1 - fx - 70),
                font=f,
                fill=t["muted"] if r.random() < 0.5 else t["text"],
            )
        elif kind < 0.8:
            on = r.random() < 0.5
            d.rounded_rectangle(
                [fx, y + 2, fx + 44, y + 24], radius=11, fill=t["accent"] if on else t["line"]
            )
            cx = fx + (33 if on else 11)
            d.ellipse([cx - 9, y + 4, cx + 9, y + 22], fill=(255, 255, 255))
        else:
            for k in range(r.randint(2, 4)):
                bx = fx + k * 140
                d.rectangle(
                    [bx, y + 4, bx + 16, y + 20],
                    outline=t["text"],
                    fill=t["accent"] if r.random() < 0.5 else t["bg"],
                )
                d.text((bx + 24, y + 4), fit_text(r.choice(WORDS), f, 100), font=f, fill=t["text"])
        y += fs * 3.2
        if r.random() < 0.15:
            d.line([(x, y - fs), (x1 - 40, y - fs)], fill=t["line"])
    for k, lab in enumerate(["Cancel", r.choice(["Apply", "Save", "OK", "Send", "Create"])]):
        bw = f.getlength(lab) + 36
        bx = x1 - 40 - (k == 0) * (bw + 130) - bw * (k == 1)
        fill = t["accent"] if k == 1 else t["panel"]
        d.rounded_rectangle(
            [bx, y1 - 50, bx + bw, y1 - 18], radius=t["round"], fill=fill, outline=t["line"]
        )
        d.text((bx + 18, y1 - 50 + (32 - fs) / 2 - 1), lab, font=f, fill=contrast_text(fill))


def ui_editor(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs = t["fs"]
    f = font("mono", fs)
    d.rectangle([x0, y0, x1, y0 + 30], fill=t["panel"])
    tx = x0
    for k in range(r.randint(2, 5)):
        name = "_".join(words(r, r.randint(1, 2))) + r.choice([".py", ".c", ".js", ".rs", ".go"])
        w = f.getlength(name) + 30
        if k == 0:
            d.rectangle([tx, y0, tx + w, y0 + 30], fill=t["bg"])
        d.text((tx + 15, y0 + 8), name, font=f, fill=t["text"])
        tx += w
    kw = hsv(r.random(), 0.6, 0.9 if t["dark"] else 0.6)
    st = hsv(r.random(), 0.6, 0.85 if t["dark"] else 0.55)
    cm = t["muted"]
    lh = round(fs * 1.45)
    y = y0 + 38
    n = 1
    indent = 0
    while y + lh < y1:
        d.text((x0 + 8, y), f"{n:>4}", font=f, fill=t["muted"])
        x = x0 + 60 + indent * fs * 2.4
        roll = r.random()
        if roll < 0.1:
            indent = 0
        elif roll < 0.15:
            y += lh
            n += 1
            continue
        elif roll < 0.25:
            d.text((x, y), "# " + sentence(r, 3, 8), font=f, fill=cm)
        else:
            toks = [(r.choice(["def", "if", "for", "return", "let", "fn", "while", "const"]), kw)]
            for _ in range(r.randint(1, 5)):
                toks.append(("_".join(words(r, r.randint(1, 2))), t["text"]))
                if r.random() < 0.3:
                    toks.append((f'"{r.choice(WORDS)}"', st))
                toks.append((r.choice(["(", ")", " = ", ", ", ".", " + ", ":"]), t["text"]))
            for text, col in toks:
                if x > x1 - 20:
                    break
                d.text((x, y), text, font=f, fill=col)
                x += f.getlength(text) + fs * 0.3
            if toks[0][0] in ("def", "if", "for", "while", "fn"):
                indent = min(indent + 1, 4)
        y += lh
        n += 1


def ui_chat(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs, f = t["fs"], font(t["fam"], t["fs"])
    y = y0 + 16
    maxw = (x1 - x0) * 0.6
    while True:
        mine = r.random() < 0.45
        lines = wrap(sentence(r, 3, 22), f, maxw - 24)
        bh = len(lines) * (fs + 6) + 16
        if y + bh + 60 > y1:
            break
        bw = max(f.getlength(line) for line in lines) + 24
        bx = x1 - 20 - bw if mine else x0 + 60
        fill = t["accent"] if mine else t["panel"]
        if not mine:
            d.ellipse(
                [x0 + 14, y, x0 + 48, y + 34], fill=hsv(t["icon_hues"][r.randrange(12)], 0.5, 0.8)
            )
        d.rounded_rectangle([bx, y, bx + bw, y + bh], radius=12, fill=fill)
        for k, line in enumerate(lines):
            d.text((bx + 12, y + 8 + k * (fs + 6)), line, font=f, fill=contrast_text(fill))
        y += bh + 14
    d.rounded_rectangle(
        [x0 + 14, y1 - 50, x1 - 14, y1 - 12], radius=19, fill=t["panel"], outline=t["line"]
    )
    d.text((x0 + 30, y1 - 40), "Write a message...", font=f, fill=t["muted"])


def ui_mail(d, img, box, t, r) -> None:
    x0, y0, x1, y1 = box
    fs, f, fb = t["fs"], font(t["fam"], t["fs"]), font(fam_bold(t["fam"]), t["fs"])
    lw = (x1 - x0) * 0.42
    d.line([(x0 + lw, y0), (x0 + lw, y1)], fill=t["line"])
    ih = fs * 4.2
    y = y0
    sel = r.randrange(5)
    i = 0
    while y + ih <= y1:
        if i == sel:
            d.rectangle([x0, y, x0 + lw, y + ih], fill=mix(t["bg"], t["accent"], 0.3))
        d.text((x0 + 14, y + 6), title_text(r, 2, 2), font=fb, fill=t["text"])
        tm = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        d.text((x0 + lw - 14 - f.getlength(tm), y + 6), tm, font=f, fill=t["muted"])
        d.text(
            (x0 + 14, y + 6 + fs * 1.35),
            fit_text(title_text(r, 2, 6), f, lw - 28),
            font=f,
            fill=t["text"],
        )
        d.text(
            (x0 + 14, y + 6 + fs * 2.7),
            fit_text(sentence(r), font(t["fam"], fs - 2), lw - 28),
            font=font(t["fam"], fs - 2),
            fill=t["muted"],
        )
        d.line([(x0, y + ih), (x0 + lw, y + ih)], fill=t["line"])
        y += ih
        i += 1
    rx = x0 + lw + 24
    rw = x1 - rx - 24
    y = y0 + 20
    big = font(fam_bold(t["fam"]), fs + 6)
    for line in wrap(title_text(r, 3, 7), big, rw)[:2]:
        d.text((rx, y), line, font=big, fill=t["text"])
        y += fs + 12
    d.ellipse([rx, y + 8, rx + 36, y + 44], fill=hsv(t["icon_hues"][r.randrange(12)], 0.5, 0.8))
    d.text((rx + 46, y + 10), title_text(r, 2, 2), font=fb, fill=t["text"])
    d.text(
        (rx + 46, y + 12 + fs),
        f"to {r.choice(WORDS)}@{r.choice(WORDS)}.org",
        font=f,
        fill=t["muted"],
    )
    y += 64
    while y < y1 - fs * 3:
        for line in wrap(paragraph(r, 1, 4), f, rw):
            if y > y1 - fs * 2:
                break
            d.text((rx, y), line, font=f, fill=t["text"])
            y += round(fs * 1.5)
        y += fs


# ----------------------------------------------------------------------------- charts etc.
CHART_KINDS = ["bar", "hbar", "line", "area", "pie", "donut", "scatter", "stacked"]


def chart_template(r: random.Random, kind: str | None = None) -> dict:
    dark = r.random() < 0.25
    bg = (
        hsv(r.random(), 0.15, 0.16)
        if dark
        else r.choice([(255, 255, 255), (250, 250, 247), (244, 246, 250)])
    )
    h0 = r.random()
    spread = r.choice([0.08, 0.15, 0.61803])
    return {
        "W": r.randint(1000, 1200),
        "ratio": r.uniform(0.58, 0.78),
        "kind": kind or r.choice(CHART_KINDS),
        "bg": bg,
        "fg": (225, 225, 230) if dark else (40, 40, 48),
        "grid": mix(bg, (255, 255, 255) if dark else (0, 0, 0), 0.12),
        "palette": [
            hsv(h0 + i * spread, r.uniform(0.45, 0.8), r.uniform(0.6, 0.92)) for i in range(8)
        ],
        "fam": r.choice(["sans", "cond", "serif"]),
        "fs": r.randint(13, 17),
        "legend": r.choice(["right", "top", "none"]),
        "gridlines": r.random() < 0.75,
        "values": r.random() < 0.35,
        "n_series": r.randint(1, 3),
        "n_cat": r.randint(4, 10),
        "cat_style": r.choice(["months", "years", "words", "quarters"]),
    }


def categories(t: dict, r: random.Random, n: int) -> list[str]:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    st = t["cat_style"]
    if st == "months":
        s = r.randrange(12)
        return [months[(s + i) % 12] for i in range(n)]
    if st == "years":
        s = r.randint(1990, 2015)
        return [str(s + i) for i in range(n)]
    if st == "quarters":
        s = r.randint(2010, 2022)
        return [f"Q{i % 4 + 1} {s + i // 4}" for i in range(n)]
    return [r.choice(WORDS).capitalize() for _ in range(n)]


def nice_ticks(vmax: float) -> list[float]:
    raw = vmax / 5
    mag = 10 ** math.floor(math.log10(max(raw, 1e-9)))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    return [i * step for i in range(int(vmax / step) + 2)]


def render_chart(
    t: dict, r: random.Random, W: int | None = None, H: int | None = None
) -> Image.Image:
    W = W or t["W"]
    H = H or round(W * t["ratio"])
    img = Image.new("RGB", (W, H), t["bg"])
    d = ImageDraw.Draw(img)
    fs, fam, fg = t["fs"], t["fam"], t["fg"]
    f = font(fam, fs)
    tf = font(fam_bold(fam), fs + 8)
    d.text((30, 20), fit_text(title_text(r, 2, 7), tf, W - 60), font=tf, fill=fg)
    kind = t["kind"]
    n_series = 1 if kind in ("pie", "donut") else t["n_series"]
    n = r.randint(max(3, t["n_cat"] - 2), t["n_cat"] + 2)
    if kind in ("pie", "donut"):
        n = min(n, 7)
    cats = categories(t, r, n)
    names = [title_text(r, 1, 2) for _ in range(n_series)]
    scale = 10 ** r.randint(0, 4)
    data = []
    for _ in range(n_series):
        v = r.uniform(0.3, 1.0)
        row = []
        for _ in range(n):
            v = (
                max(0.05, v + r.uniform(-0.3, 0.3))
                if kind in ("line", "area")
                else r.uniform(0.1, 1.0)
            )
            row.append(v * scale)
        data.append(row)
    left, right, top, bottom = 90, 40, 80, 60
    if t["legend"] == "right" and kind not in ("pie", "donut"):
        right = 200
    if t["legend"] == "top":
        top = 110
    px0, py0, px1, py1 = left, top, W - right, H - bottom
    pal = t["palette"]
    if t["legend"] != "none" or kind in ("pie", "donut"):
        labels = cats if kind in ("pie", "donut") else names
        for i, lab in enumerate(labels):
            if t["legend"] == "top":
                lx, ly = 30 + i * 170, 68
            else:
                lx, ly = (
                    W - (right if kind not in ("pie", "donut") else 260) + 20,
                    top + i * (fs + 14),
                )
            d.rectangle([lx, ly + 2, lx + fs, ly + fs + 2], fill=pal[i % len(pal)])
            d.text((lx + fs + 8, ly), fit_text(lab, f, 140), font=f, fill=fg)
    if kind in ("pie", "donut"):
        cx, cy = (W - 260) / 2 + 20, (top + H - 30) / 2
        rad = min((W - 300) / 2, (H - top - 40) / 2)
        tot = sum(data[0])
        a = r.uniform(-90, 0)
        for i, v in enumerate(data[0]):
            ext = 360 * v / tot
            d.pieslice(
                [cx - rad, cy - rad, cx + rad, cy + rad],
                a,
                a + ext,
                fill=pal[i % len(pal)],
                outline=t["bg"],
                width=2,
            )
            if t["values"]:
                mid = math.radians(a + ext / 2)
                lab = f"{100 * v / tot:.0f}%"
                d.text(
                    (
                        cx + 0.7 * rad * math.cos(mid) - f.getlength(lab) / 2,
                        cy + 0.7 * rad * math.sin(mid) - fs / 2,
                    ),
                    lab,
                    font=f,
                    fill=contrast_text(pal[i % len(pal)]),
                )
            a += ext
        if kind == "donut":
            d.ellipse(
                [cx - rad * 0.55, cy - rad * 0.55, cx + rad * 0.55, cy + rad * 0.55], fill=t["bg"]
            )
            tl = f"{tot:,.0f}"
            d.text((cx - tf.getlength(tl) / 2, cy - fs), tl, font=tf, fill=fg)
        return img
    if kind == "stacked":
        vmax = max(sum(col) for col in zip(*data, strict=True))
    else:
        vmax = max(max(row) for row in data)
    ticks = nice_ticks(vmax)
    vtop = ticks[-1]
    horiz = kind == "hbar"
    for tv in ticks:
        lab = f"{tv:,.0f}" if scale >= 10 else f"{tv:.1f}"
        if horiz:
            x = px0 + (px1 - px0) * tv / vtop
            if t["gridlines"]:
                d.line([(x, py0), (x, py1)], fill=t["grid"])
            d.text((x - f.getlength(lab) / 2, py1 + 8), lab, font=f, fill=fg)
        else:
            y = py1 - (py1 - py0) * tv / vtop
            if t["gridlines"]:
                d.line([(px0, y), (px1, y)], fill=t["grid"])
            d.text((px0 - 10 - f.getlength(lab), y - fs / 2 - 1), lab, font=f, fill=fg)
    d.line([(px0, py1), (px1, py1)], fill=fg, width=2)
    d.line([(px0, py0), (px0, py1)], fill=fg, width=2)
    slot = ((py1 - py0) if horiz else (px1 - px0)) / n
    for i, c in enumerate(cats):
        if horiz:
            d.text(
                (px0 - 10 - f.getlength(fit_text(c, f, 75)), py0 + slot * (i + 0.5) - fs / 2),
                fit_text(c, f, 75),
                font=f,
                fill=fg,
            )
        elif n <= 12:
            lab = fit_text(c, f, slot * 0.95)
            d.text((px0 + slot * (i + 0.5) - f.getlength(lab) / 2, py1 + 8), lab, font=f, fill=fg)
    if kind in ("bar", "hbar", "stacked"):
        base = [0.0] * n
        for s, row in enumerate(data):
            col = pal[s % len(pal)]
            for i, v in enumerate(row):
                if kind == "stacked":
                    a0, a1 = base[i], base[i] + v
                    bw0, bw1 = slot * 0.2, slot * 0.8
                    base[i] = a1
                else:
                    a0, a1 = 0.0, v
                    bw = slot * 0.75 / n_series
                    bw0 = slot * 0.125 + s * bw
                    bw1 = bw0 + bw - 2
                if horiz:
                    d.rectangle(
                        [
                            px0 + (px1 - px0) * a0 / vtop,
                            py0 + slot * i + bw0,
                            px0 + (px1 - px0) * a1 / vtop,
                            py0 + slot * i + bw1,
                        ],
                        fill=col,
                    )
                else:
                    d.rectangle(
                        [
                            px0 + slot * i + bw0,
                            py1 - (py1 - py0) * a1 / vtop,
                            px0 + slot * i + bw1,
                            py1 - (py1 - py0) * a0 / vtop,
                        ],
                        fill=col,
                    )
                if t["values"] and kind != "stacked" and not horiz:
                    lab = f"{v:,.0f}" if scale >= 10 else f"{v:.1f}"
                    fsm = font(fam, fs - 3)
                    d.text(
                        (
                            px0 + slot * i + (bw0 + bw1) / 2 - fsm.getlength(lab) / 2,
                            py1 - (py1 - py0) * a1 / vtop - fs - 2,
                        ),
                        lab,
                        font=fsm,
                        fill=fg,
                    )
    else:
        for s, row in enumerate(data):
            col = pal[s % len(pal)]
            pts = [
                (px0 + slot * (i + 0.5), py1 - (py1 - py0) * v / vtop) for i, v in enumerate(row)
            ]
            if kind == "scatter":
                g = np_rng(r)
                for _ in range(r.randint(30, 90)):
                    x = px0 + g.random() * (px1 - px0)
                    y = py1 - (py1 - py0) * min(0.98, max(0.02, g.normal(0.5, 0.2)))
                    d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=col)
                continue
            if kind == "area":
                layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
                ImageDraw.Draw(layer).polygon(
                    [(pts[0][0], py1), *pts, (pts[-1][0], py1)], fill=(*col, 110)
                )
                img.paste(layer, (0, 0), layer)
                d = ImageDraw.Draw(img)
            d.line(pts, fill=col, width=3)
            for x, y in pts:
                d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=col)
    return img


def slide_template(r: random.Random) -> dict:
    w = r.randint(1024, 1200)
    dark = r.random() < 0.35
    h0 = r.random()
    bg1 = (
        hsv(h0, r.uniform(0.3, 0.7), r.uniform(0.15, 0.3))
        if dark
        else hsv(h0, r.uniform(0.0, 0.08), 1.0)
    )
    return {
        "W": w,
        "H": round(w * 9 / 16),
        "bg1": bg1,
        "bg2": mix(bg1, hsv(h0 + 0.1, 0.6, 0.5), r.uniform(0.0, 0.4)),
        "fg": (240, 240, 240) if dark else (35, 35, 40),
        "accent": hsv(h0 + r.uniform(0.3, 0.7), r.uniform(0.5, 0.9), r.uniform(0.6, 0.95)),
        "fam": r.choice(["sans", "cond", "serif", "light"]),
        "band": r.choice(["top", "left", "line", "none"]),
        "layout": r.choice(["bullets", "bullets_image", "bullets_chart", "big_number"]),
        "title_fs": r.randint(34, 46),
        "fs": r.randint(20, 26),
        "footer": title_text(r, 2, 3),
    }


def render_slide(t: dict, r: random.Random) -> Image.Image:
    W, H = t["W"], t["H"]
    arr = gradient_array(W, H, [(0.0, t["bg1"]), (1.0, t["bg2"])], {"type": "linear", "angle": 60})
    img = to_image(arr)
    d = ImageDraw.Draw(img)
    fam, fg, acc = t["fam"], t["fg"], t["accent"]
    tf = font(fam_bold(fam), t["title_fs"])
    x0, y = 60, 50
    if t["band"] == "top":
        d.rectangle([0, 0, W, 130], fill=acc)
        tcol = contrast_text(acc)
        y = 130 / 2 - t["title_fs"] / 2 - 4
    elif t["band"] == "left":
        d.rectangle([0, 0, 28, H], fill=acc)
        tcol, x0 = fg, 80
    else:
        tcol = fg
    d.text((x0, y), fit_text(title_text(r, 2, 6), tf, W - x0 - 60), font=tf, fill=tcol)
    y = 160
    if t["band"] == "line":
        d.line([(x0, 130), (x0 + 260, 130)], fill=acc, width=6)
    f = font(fam, t["fs"])
    text_w = W - x0 - 60
    if t["layout"] != "bullets":
        text_w = W * 0.52 - x0
    if t["layout"] == "big_number":
        bf = font(fam_bold(fam), 120)
        num = f"{r.randint(2, 99)}{r.choice(['%', 'k', 'M', 'x', ''])}"
        d.text((W * 0.6, H * 0.3), num, font=bf, fill=acc)
        d.text((W * 0.6, H * 0.3 + 140), fit_text(sentence(r, 2, 5), f, W * 0.38), font=f, fill=fg)
    elif t["layout"] == "bullets_image":
        bx = (W * 0.58, 160, W - 60, H - 80)
        spec = background_spec(r)
        spec["kind"] = "linear"
        pic = render_background(spec, int(bx[2] - bx[0]), int(bx[3] - bx[1]), r)
        pd = ImageDraw.Draw(pic)
        for _ in range(r.randint(2, 6)):
            cx, cy, s = r.random() * pic.width, r.random() * pic.height, r.uniform(15, 80)
            pd.ellipse([cx - s, cy - s, cx + s, cy + s], fill=hsv(r.random(), 0.6, 0.9))
        img.paste(pic, (int(bx[0]), int(bx[1])))
    elif t["layout"] == "bullets_chart":
        n = r.randint(3, 7)
        bx0, by1, bw = W * 0.6, H - 90, (W * 0.38 - 20) / n
        for i in range(n):
            v = r.uniform(0.15, 1.0) * (H - 280)
            d.rectangle([bx0 + i * bw + 4, by1 - v, bx0 + (i + 1) * bw - 4, by1], fill=acc)
        d.line([(bx0, by1), (W - 50, by1)], fill=fg, width=2)
    for _ in range(r.randint(3, 6)):
        lines = wrap(sentence(r, 3, 12), f, text_w - 40)
        if y + len(lines) * t["fs"] * 1.3 > H - 70:
            break
        d.ellipse([x0, y + t["fs"] * 0.35, x0 + 12, y + t["fs"] * 0.35 + 12], fill=acc)
        for line in lines:
            d.text((x0 + 30, y), line, font=f, fill=fg)
            y += round(t["fs"] * 1.3)
        y += 14
    sf = font(fam, 14)
    d.text((x0, H - 36), t["footer"], font=sf, fill=mix(fg, t["bg1"], 0.4))
    pn = str(r.randint(2, 40))
    d.text((W - 50, H - 36), pn, font=sf, fill=mix(fg, t["bg1"], 0.4))
    return img


def diagram_template(r: random.Random) -> dict:
    return {
        "W": r.randint(1000, 1200),
        "ratio": r.uniform(0.6, 0.8),
        "bg": r.choice([(255, 255, 255), (250, 250, 245), (240, 244, 250)]),
        "box": hsv(r.random(), r.uniform(0.15, 0.5), r.uniform(0.85, 1.0)),
        "edge": r.choice([(40, 40, 40), (60, 70, 90), (90, 60, 40)]),
        "shape": r.choice(["rect", "round", "ellipse"]),
        "rows": r.randint(2, 4),
        "cols": r.randint(3, 5),
        "fam": r.choice(["sans", "cond", "serif", "mono"]),
        "fs": r.randint(14, 18),
        "accent": hsv(r.random(), 0.6, 0.85),
    }


def render_diagram(t: dict, r: random.Random) -> Image.Image:
    W = t["W"]
    H = round(W * t["ratio"])
    img = Image.new("RGB", (W, H), t["bg"])
    d = ImageDraw.Draw(img)
    f = font(t["fam"], t["fs"])
    tf = font(fam_bold(t["fam"]), t["fs"] + 8)
    d.text((30, 20), title_text(r, 2, 5), font=tf, fill=t["edge"])
    rows, cols = t["rows"], t["cols"]
    cw, ch = (W - 60) / cols, (H - 100) / rows
    cells = [(i, j) for i in range(rows) for j in range(cols)]
    chosen = sorted(r.sample(cells, r.randint(max(3, len(cells) // 2), len(cells))))
    centers = {}
    for i, j in chosen:
        cx, cy = 30 + cw * (j + 0.5), 80 + ch * (i + 0.5)
        centers[(i, j)] = (cx, cy)
    bw, bh = cw * 0.7, min(ch * 0.5, 90)
    order = chosen[:]
    r.shuffle(order)
    edges = [(order[k], order[r.randrange(k)]) for k in range(1, len(order))]
    for a, b in edges:
        (ax, ay), (bx, by) = centers[a], centers[b]
        d.line([(ax, ay), (bx, by)], fill=t["edge"], width=2)
        ang = math.atan2(ay - by, ax - bx)
        ex = (
            bx + math.cos(ang) * bw / 2 * 0.9
            if abs(ax - bx) > abs(ay - by)
            else bx + math.cos(ang) * bh / 2
        )
        ey = by + math.sin(ang) * bh / 2 * 1.1
        for s in (-0.45, 0.45):
            d.line(
                [(ex, ey), (ex + 14 * math.cos(ang + s), ey + 14 * math.sin(ang + s))],
                fill=t["edge"],
                width=2,
            )
    for key in chosen:
        cx, cy = centers[key]
        fill = t["accent"] if r.random() < 0.2 else t["box"]
        bb = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
        if t["shape"] == "rect":
            d.rectangle(bb, fill=fill, outline=t["edge"], width=2)
        elif t["shape"] == "round":
            d.rounded_rectangle(bb, radius=14, fill=fill, outline=t["edge"], width=2)
        else:
            d.ellipse(bb, fill=fill, outline=t["edge"], width=2)
        lines = wrap(title_text(r, 1, 3), f, bw - 20)[:2]
        for k, line in enumerate(lines):
            d.text(
                (
                    cx - f.getlength(line) / 2,
                    cy - len(lines) * (t["fs"] + 4) / 2 + k * (t["fs"] + 4),
                ),
                line,
                font=f,
                fill=contrast_text(fill),
            )
    return img


# ----------------------------------------------------------------------------- gradients
def gradient_palette(r: random.Random) -> list[tuple[float, tuple[float, float, float]]]:
    """2-3 HSV stops of neighbouring hues; the end stops differ clearly (RGB distance >= 90)
    so that the direction of the gradient is visible."""
    out: list[tuple[float, tuple[float, float, float]]] = []
    for _ in range(100):
        h = r.random()
        n = r.choice([2, 2, 3])
        out = [
            (i / (n - 1), (h + r.uniform(-0.12, 0.12), r.uniform(0.25, 0.9), r.uniform(0.3, 1.0)))
            for i in range(n)
        ]
        a, b = np.array(hsv(*out[0][1]), float), np.array(hsv(*out[-1][1]), float)
        if np.linalg.norm(a - b) >= 90:
            break
    return out


def jitter_palette(pal, r: random.Random):
    dh = r.uniform(0.02, 0.055) * r.choice([-1, 1])
    return [
        (
            p,
            (
                h + dh,
                min(1, max(0, s + r.uniform(-0.08, 0.08))),
                min(1, max(0.1, v + r.uniform(-0.08, 0.08))),
            ),
        )
        for p, (h, s, v) in pal
    ]


def gradient_geometry(r: random.Random) -> dict:
    return {
        "type": r.choice(["linear", "linear", "radial"]),
        "angle": r.uniform(0, 360),
        "cx": r.uniform(0.15, 0.85),
        "cy": r.uniform(0.15, 0.85),
        "radius": r.uniform(0.6, 1.3),
    }


def other_geometry(g: dict, i: int, n: int, r: random.Random) -> dict:
    """Geometry of the i-th of n similar gradients: rotated by (i + 1) / (n + 1) of a turn
    (linear) or with the centre moved around the picture (radial), so that the original and
    all the similar gradients differ from each other; the type flips with probability 0.4."""
    g2 = dict(g)
    if r.random() < 0.4:
        g2["type"] = "radial" if g["type"] == "linear" else "linear"
    turn = (i + 1) / (n + 1) * 2 * math.pi
    g2["angle"] = (g["angle"] + math.degrees(turn) + r.uniform(-10, 10)) % 360
    a0 = math.atan2(g["cy"] - 0.5, g["cx"] - 0.5)
    g2["cx"] = 0.5 + 0.35 * math.cos(a0 + turn)
    g2["cy"] = 0.5 + 0.35 * math.sin(a0 + turn)
    return g2


def draw_subject(img: Image.Image, r: random.Random, kind: str) -> None:
    W, H = img.size
    frac = r.uniform(0.004, 0.03)
    s = math.sqrt(frac * W * H)
    x = r.uniform(0.08, 0.92) * W
    y = r.uniform(0.12, 0.88) * H
    base = np.asarray(img.resize((1, 1), Image.BOX)).reshape(3)
    dark = luma(tuple(int(v) for v in base)) > 130
    col = hsv(
        r.random(), r.uniform(0.3, 0.9), r.uniform(0.05, 0.35) if dark else r.uniform(0.8, 1.0)
    )
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    if kind == "sun":
        for k in range(6, 0, -1):
            rr = s / 2 * (1 + k * 0.25)
            d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=(255, 240, 200, 18))
        d.ellipse([x - s / 2, y - s / 2, x + s / 2, y + s / 2], fill=(255, 236, 170, 255))
    elif kind == "house":
        d.rectangle([x - s / 2, y, x + s / 2, y + s * 0.6], fill=col)
        d.polygon([(x - s * 0.62, y), (x, y - s * 0.45), (x + s * 0.62, y)], fill=col)
    elif kind == "tree":
        d.rectangle([x - s * 0.07, y + s * 0.3, x + s * 0.07, y + s * 0.6], fill=col)
        d.polygon(
            [(x - s * 0.35, y + s * 0.35), (x, y - s * 0.6), (x + s * 0.35, y + s * 0.35)], fill=col
        )
    elif kind == "birds":
        for _ in range(r.randint(2, 5)):
            bx, by, bs = (
                x + r.uniform(-s, s),
                y + r.uniform(-s / 2, s / 2),
                s * r.uniform(0.15, 0.3),
            )
            d.line(
                [(bx - bs, by - bs * 0.4), (bx, by), (bx + bs, by - bs * 0.4)],
                fill=col,
                width=max(2, int(bs / 5)),
            )
    elif kind == "logo":
        d.rounded_rectangle([x - s / 2, y - s / 2, x + s / 2, y + s / 2], radius=s / 5, fill=col)
        letter = chr(65 + r.randrange(26))
        lf = font("sans_bold", max(8, int(s * 0.6)))
        d.text(
            (x - lf.getlength(letter) / 2, y - s * 0.38), letter, font=lf, fill=contrast_text(col)
        )
    elif kind == "boat":
        d.polygon(
            [
                (x - s / 2, y),
                (x + s / 2, y),
                (x + s * 0.35, y + s * 0.2),
                (x - s * 0.35, y + s * 0.2),
            ],
            fill=col,
        )
        d.polygon([(x, y - s * 0.7), (x, y - s * 0.05), (x + s * 0.35, y - s * 0.05)], fill=col)
    elif kind == "star":
        pts = []
        for k in range(10):
            rr = s / 2 if k % 2 == 0 else s / 5
            a = math.pi / 2 + k * math.pi / 5
            pts.append((x + rr * math.cos(a), y - rr * math.sin(a)))
        d.polygon(pts, fill=col)
    else:
        d.ellipse([x - s * 0.3, y - s * 0.4, x + s * 0.3, y + s * 0.35], fill=col)
        d.line([(x, y + s * 0.35), (x + s * 0.05, y + s * 0.8)], fill=col, width=2)
    img.paste(layer, (0, 0), layer)


def render_gradient_picture(
    pal, geom: dict, size: tuple[int, int], subject: str | None, r: random.Random
) -> Image.Image:
    stops = [(p, hsv(*c)) for p, c in pal]
    img = to_image(gradient_array(size[0], size[1], stops, geom), r, 0.7)
    if subject:
        draw_subject(img, r, subject)
    return img


SKY_PALETTES = {
    "day": [(0.0, (0.6, 0.75, 0.7)), (0.6, (0.57, 0.45, 0.9)), (1.0, (0.55, 0.15, 0.98))],
    "sunset": [(0.0, (0.68, 0.55, 0.35)), (0.55, (0.95, 0.45, 0.8)), (1.0, (0.09, 0.7, 1.0))],
    "dusk": [(0.0, (0.7, 0.7, 0.2)), (0.6, (0.75, 0.45, 0.5)), (1.0, (0.98, 0.35, 0.85))],
    "dawn": [(0.0, (0.6, 0.35, 0.75)), (0.6, (0.9, 0.2, 0.95)), (1.0, (0.1, 0.35, 1.0))],
    "overcast": [(0.0, (0.6, 0.1, 0.55)), (1.0, (0.6, 0.05, 0.85))],
}


def render_sky(pal, size: tuple[int, int], r: random.Random) -> Image.Image:
    W, H = size
    horizon = r.uniform(0.6, 1.0)
    stops = [(p * horizon, hsv(*c)) for p, c in pal]
    stops.append((1.0, stops[-1][1]))
    arr = gradient_array(W, H, stops, {"type": "linear", "angle": 90})
    cover = r.uniform(0.15, 0.6)
    if cover > 0:
        n = smooth_noise(W, H, r, octaves=5, base=r.randint(2, 5))
        yy = np.linspace(0, 1, H, dtype=np.float32)[:, None]
        mask = np.clip((n - (0.75 - cover * 0.4)) * r.uniform(3, 7), 0, 1) * np.clip(1.3 - yy, 0, 1)
        cloud = np.array(mix(hsv(*pal[-1][1]), (255, 255, 255), 0.7), np.float32)
        arr = arr * (1 - mask[..., None] * 0.85) + cloud * mask[..., None] * 0.85
    img = to_image(arr, r, 0.7)
    d = ImageDraw.Draw(img)
    if r.random() < 0.5:
        sx, sy, sr = (
            r.uniform(0.1, 0.9) * W,
            r.uniform(0.15, 0.7) * H * horizon,
            r.uniform(0.02, 0.05) * W,
        )
        glow = Image.new("L", img.size, 0)
        ImageDraw.Draw(glow).ellipse([sx - sr * 3, sy - sr * 3, sx + sr * 3, sy + sr * 3], fill=90)
        glow = glow.filter(ImageFilter.GaussianBlur(sr))
        img.paste((255, 245, 215), (0, 0), glow)
        d.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=(255, 247, 225))
    if r.random() < 0.6:
        base_y = H * r.uniform(0.78, 0.93)
        pts = [(0, H)]
        n = r.randint(3, 8)
        for i in range(n + 1):
            pts.append((W * i / n, base_y - r.uniform(0, 0.12) * H))
        pts.append((W, H))
        hc = mix(hsv(*pal[0][1]), (10, 10, 20), r.uniform(0.5, 0.85))
        d.polygon(pts, fill=hc)
    if r.random() < 0.35:
        draw_subject(img, r, "birds")
    return img


# ----------------------------------------------------------------------------- builders
@dataclass(frozen=True)
class Unit:
    name: str
    kind: str
    builder: str
    args: tuple = ()
    group: bool = True
    neg_edit: str | None = None
    n_neg: tuple[int, int] = (0, 0)


def load_rgba(path: Path) -> Image.Image:
    im = Image.open(path)
    if max(im.size) > 4200:
        im.draft("RGB", (2100, 2100))
    return im.convert("RGBA")


def clip_item(path: Path) -> Image.Image:
    im = load_rgba(path)
    bb = im.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    return im.crop(bb) if bb else im


def compose_clipart(
    item: Image.Image, layout: dict, bg: Image.Image, r: random.Random
) -> Image.Image:
    W, H = bg.size
    iw, ih = item.size
    s = min(W * layout["fill"] / iw, H * layout["fill"] / ih)
    item = item.resize((max(1, round(iw * s)), max(1, round(ih * s))), Image.LANCZOS)
    x = round((W - item.width) * layout["px"])
    y = round((H - item.height) * layout["py"])
    out = bg.convert("RGBA")
    if layout["shadow"]:
        sh = Image.new("RGBA", item.size, (0, 0, 0, 0))
        sh.putalpha(item.getchannel("A").point(lambda v: v * 0.45))
        sh = sh.filter(ImageFilter.GaussianBlur(layout["shadow_blur"]))
        out.alpha_composite(sh, (x + layout["shadow_dx"], y + layout["shadow_dy"]))
    out.alpha_composite(item, (x, y))
    return out.convert("RGB")


def clip_layout(r: random.Random) -> dict:
    return {
        "fill": r.uniform(0.55, 0.85),
        "px": r.uniform(0.2, 0.8) if r.random() < 0.4 else 0.5,
        "py": r.uniform(0.2, 0.8) if r.random() < 0.4 else 0.5,
        "shadow": r.random() < 0.3,
        "shadow_blur": r.uniform(3, 10),
        "shadow_dx": r.randint(4, 16),
        "shadow_dy": r.randint(4, 16),
    }


def item_luma(item: Image.Image) -> float:
    a = np.asarray(item.convert("RGBA"), np.float32)
    w = a[..., 3] / 255.0
    lum = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
    return float((lum * w).sum() / max(1.0, w.sum()))


def build_clipart(u: Unit, seed: int, src: Path, n_neg: int):
    r = rng_for(seed, u.name, "source")
    item_path, sibs = u.args
    item = clip_item(src / (OCA + item_path))
    il = item_luma(item)
    size = canvas_size(r)
    spec = {"kind": "plain", "c1": (255, 255, 255)}
    for _ in range(30):  # the background must contrast with the item shown in the group
        cand = background_spec(r)
        bl = (
            luma(cand["c1"]) + (luma(cand["c2"]) if cand["kind"] != "plain" else luma(cand["c1"]))
        ) / 2
        if abs(bl - il) >= 60:
            spec = cand
            break
    bg = render_background(spec, *size, r)
    layout = clip_layout(r)
    orig = compose_clipart(item, layout, bg, r)
    negs = [compose_clipart(clip_item(src / (OCA + s)), layout, bg, r) for s in sibs[:n_neg]]
    return orig, negs


def prepare_packaged(
    path: Path, r: random.Random, target: int | None = None, bg=None
) -> tuple[Image.Image, int]:
    im = load_rgba(path)
    if bg is None:
        bg = r.choice([(255, 255, 255), (240, 240, 240), (230, 233, 238)])
    if im.getchannel("A").getextrema()[0] < 255:
        base = Image.new("RGBA", im.size, (*bg, 255))
        base.alpha_composite(im)
        im = base
    im = im.convert("RGB")
    if target is None:
        longest = max(im.size)
        target = (
            r.randint(1000, 1200)
            if longest >= 1200
            else (r.randint(800, min(1200, longest)) if longest >= 800 else r.randint(800, 960))
        )
    return resize_longest(im, target), target


def build_packaged(u: Unit, seed: int, src: Path, n_neg: int):
    r = rng_for(seed, u.name, "source")
    path, sibs = u.args
    bg = PACKAGED_BG.get(u.name)
    if bg is None and u.kind == "illustration":
        bg = background_spec(r)["c1"]
    orig, target = prepare_packaged(src / path, r, bg=bg)
    negs = []
    for s in sibs[:n_neg]:
        im, _ = prepare_packaged(src / s, r, target, bg=bg)
        negs.append(im)
    return orig, negs


def build_gnome_tiles(u: Unit, seed: int, src: Path, n_neg: int):
    r = rng_for(seed, u.name, "source")
    path, region = u.args
    im = Image.open(src / path).convert("RGB")
    W, H = im.size
    x0, y0, x1, y1 = region[0] * W, region[1] * H, region[2] * W, region[3] * H
    cw, ch = (x1 - x0) / 2, (y1 - y0) / 2
    target = r.randint(900, 1100)
    tiles = []
    for i in range(2):
        for j in range(2):
            box = (
                round(x0 + j * cw),
                round(y0 + i * ch),
                round(x0 + (j + 1) * cw),
                round(y0 + (i + 1) * ch),
            )
            tiles.append(resize_longest(im.crop(box), target))
    r.shuffle(tiles)
    if u.group:
        return tiles[0], tiles[1 : 1 + n_neg]
    return None, tiles[:n_neg]


def build_skimage(u: Unit, seed: int, src: Path, n_neg: int):
    from skimage import data as skdata

    r = rng_for(seed, u.name, "source")
    name = u.args[0]
    if name == "binary_blobs":
        arr = skdata.binary_blobs(
            length=512, blob_size_fraction=0.08, volume_fraction=0.4, rng=r.randrange(2**31)
        )
        c1, c2 = hsv(r.random(), 0.6, 0.35), hsv(r.random(), 0.25, 0.95)
        rgb = np.where(arr[..., None], np.array(c1, np.uint8), np.array(c2, np.uint8))
        im = Image.fromarray(rgb.astype(np.uint8))
    else:
        arr = getattr(skdata, name)()
        if arr.dtype == bool:
            arr = (~arr).astype(np.uint8) * 255
        elif arr.dtype != np.uint8:
            arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8)
        im = Image.fromarray(arr)
        if im.mode == "RGBA":
            base = Image.new("RGBA", im.size, (255, 255, 255, 255))
            base.alpha_composite(im)
            im = base
        im = im.convert("RGB")
    target = r.randint(800, 1000)
    w, h = im.size
    s = target / max(w, h)
    return im.resize((round(w * s), round(h * s)), Image.BICUBIC), []


def build_template(u: Unit, seed: int, src: Path, n_neg: int):
    """Same layout, different content: document/ui/chart/slide/diagram."""
    kind, variant = u.args
    tr = rng_for(seed, u.name, "template")
    if kind == "doc":
        t = doc_template(tr)
        render = lambda cr: render_doc(t, cr)  # noqa: E731
    elif kind == "ui":
        t = ui_template(tr)
        t["main"] = UI_MAINS[variant % len(UI_MAINS)]
        render = lambda cr: render_ui(t, cr)  # noqa: E731
    elif kind == "chart":
        t = chart_template(tr, CHART_KINDS[variant % len(CHART_KINDS)])
        render = lambda cr: render_chart(t, cr)  # noqa: E731
    elif kind == "slide":
        t = slide_template(tr)
        render = lambda cr: render_slide(t, cr)  # noqa: E731
    else:
        t = diagram_template(tr)
        render = lambda cr: render_diagram(t, cr)  # noqa: E731
    orig = render(rng_for(seed, u.name, "content", 0)) if u.group else None
    negs = [render(rng_for(seed, u.name, "content", i + 1)) for i in range(n_neg)]
    return orig, negs


def build_big_tiles(u: Unit, seed: int, src: Path, n_neg: int):
    """A large rendered canvas cut into non-overlapping neighbouring tiles."""
    kind = u.args[0]
    tr = rng_for(seed, u.name, "template")
    cr = rng_for(seed, u.name, "content")
    if kind == "longdoc":
        t = doc_template(tr)
        t["cols"] = 1
        big = render_doc(t, cr, height=t["H"] * 3)
        h3 = big.height // 3
        tiles = [big.crop((0, i * h3, big.width, (i + 1) * h3)) for i in range(3)]
        tiles = [resize_longest(tile, max(tile.size)) for tile in tiles]
    else:
        if kind == "bigui":
            t = ui_template(tr)
            t["main"] = tr.choice(["table", "cards", "mail"])  # dense enough for every tile
            t["side_w"] = round(t["side_w"] * 1.3)
            big = render_ui(t, cr, W=t["W"] * 2, H=t["H"] * 2)
        else:
            big = render_dashboard(tr, cr)
        W, H = big.size
        tiles = [
            big.crop((j * W // 2, i * H // 2, (j + 1) * W // 2, (i + 1) * H // 2))
            for i in range(2)
            for j in range(2)
        ]
    order = list(range(len(tiles)))
    cr.shuffle(order)
    tiles = [tiles[i] for i in order]
    if u.group:
        return tiles[0], tiles[1 : 1 + n_neg]
    return None, tiles[:n_neg]


def render_dashboard(tr: random.Random, cr: random.Random) -> Image.Image:
    base = chart_template(tr)
    W, H = tr.randint(2000, 2300), tr.randint(1250, 1400)
    img = Image.new("RGB", (W, H), mix(base["bg"], (128, 128, 128), 0.08))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W, 70], fill=base["palette"][0])
    d.text(
        (30, 18),
        title_text(cr, 2, 4),
        font=font(fam_bold(base["fam"]), 30),
        fill=contrast_text(base["palette"][0]),
    )
    rows, cols = 2, 3
    cw, ch = (W - 40) / cols, (H - 90) / rows
    for i in range(rows):
        for j in range(cols):
            t = dict(base)
            t["kind"] = tr.choice(CHART_KINDS)
            t["legend"] = tr.choice(["top", "none"])
            chart = render_chart(t, cr, W=round(cw - 20), H=round(ch - 20))
            img.paste(chart, (round(20 + j * cw), round(80 + i * ch)))
    return img


def build_gradient(u: Unit, seed: int, src: Path, n_neg: int):
    r = rng_for(seed, u.name, "source")
    size = canvas_size(r)
    if size[1] > size[0] and r.random() < 0.6:
        size = (size[1], size[0])
    if u.args[0] == "sky":
        pal = SKY_PALETTES[r.choice(sorted(SKY_PALETTES))]
        pal = jitter_palette(pal, r) if r.random() < 0.7 else pal
        orig = render_sky(pal, size, rng_for(seed, u.name, "content", 0)) if u.group else None
        negs = []
        for i in range(n_neg):
            nr = rng_for(seed, u.name, "content", i + 1)
            negs.append(render_sky(jitter_palette(pal, nr), size, nr))
        return orig, negs
    pal = gradient_palette(r)
    geom = gradient_geometry(r)
    subject = r.choice(SUBJECT_KINDS)
    orig = None
    if u.group:
        orig = render_gradient_picture(
            pal, geom, size, subject, rng_for(seed, u.name, "content", 0)
        )
    others = [s for s in SUBJECT_KINDS if s != subject]
    r.shuffle(others)
    if r.random() < 0.5:
        others.insert(r.randrange(n_neg + 1), None)  # at most one without a subject
    negs = []
    for i in range(n_neg):
        nr = rng_for(seed, u.name, "content", i + 1)
        g2 = other_geometry(geom, i, n_neg, nr)
        negs.append(render_gradient_picture(jitter_palette(pal, nr), g2, size, others[i], nr))
    return orig, negs


BUILDERS = {
    "clipart": build_clipart,
    "packaged": build_packaged,
    "gnome_tiles": build_gnome_tiles,
    "skimage": build_skimage,
    "template": build_template,
    "big_tiles": build_big_tiles,
    "gradient": build_gradient,
}


def all_units() -> list[Unit]:
    units: list[Unit] = []
    for name, item, sibs in CLIPART:
        units.append(
            Unit(
                f"clip_{name}",
                "clipart",
                "clipart",
                (item, tuple(sibs)),
                True,
                "same_template",
                (len(sibs), len(sibs)),
            )
        )
    for name, kind, path, sibs in PACKAGED:
        neg = "same_template" if sibs else None
        units.append(
            Unit(name, kind, "packaged", (path, tuple(sibs)), True, neg, (len(sibs), len(sibs)))
        )
    for name, path, region in GNOME_TILED:
        units.append(
            Unit(name, "wallpaper", "gnome_tiles", (path, region), True, "neighbour_tile", (2, 3))
        )
    for name, kind in [
        ("logo", "illustration"),
        ("horse", "illustration"),
        ("shepp_logan_phantom", "illustration"),
        ("binary_blobs", "illustration"),
        ("page", "document"),
        ("text", "document"),
    ]:
        units.append(Unit(f"skimage_{name}", kind, "skimage", (name,)))
    spec = [
        # prefix, kind, template kind, groups, negative-only units, negatives per unit
        ("doc", "document", "doc", 9, 4, (4, 6)),
        ("ui", "ui", "ui", 8, 3, (4, 5)),
        ("chart", "chart", "chart", 7, 3, (4, 5)),
        ("slide", "chart", "slide", 4, 2, (3, 4)),
        ("flow", "diagram", "diagram", 3, 2, (3, 4)),
    ]
    for prefix, kind, tkind, n_group, n_only, nn in spec:
        for i in range(n_group + n_only):
            grp = i < n_group
            lo, hi = nn if grp else (nn[0] + 1, nn[1] + 1)
            units.append(
                Unit(
                    f"{prefix}_{i + 1:02d}",
                    kind,
                    "template",
                    (tkind, i),
                    grp,
                    "same_template",
                    (lo, hi),
                )
            )
    for prefix, kind, tkind, n_group, n_only in [
        ("longdoc", "document", "longdoc", 3, 1),
        ("bigui", "ui", "bigui", 2, 1),
        ("dashboard", "chart", "dashboard", 1, 1),
    ]:
        for i in range(n_group + n_only):
            grp = i < n_group
            hi = 2 if tkind == "longdoc" else 3
            units.append(
                Unit(
                    f"{prefix}_{i + 1:02d}",
                    kind,
                    "big_tiles",
                    (tkind,),
                    grp,
                    "neighbour_tile",
                    (hi if not grp else 2, hi),
                )
            )
    for prefix, gkind, n_group, n_only in [("gradient", "plain", 7, 4), ("sky", "sky", 5, 3)]:
        for i in range(n_group + n_only):
            grp = i < n_group
            units.append(
                Unit(
                    f"{prefix}_{i + 1:02d}",
                    "gradient",
                    "gradient",
                    (gkind,),
                    grp,
                    "similar_gradient",
                    (3, 4) if grp else (3, 3),
                )
            )
    return units


def unit_files(u: Unit) -> list[str]:
    if u.builder == "clipart":
        return [OCA + u.args[0], *(OCA + s for s in u.args[1])]
    if u.builder == "packaged":
        return [u.args[0], *u.args[1]]
    if u.builder == "gnome_tiles":
        return [u.args[0]]
    return []


# ----------------------------------------------------------------------------- edits
def uni(
    r: random.Random, lo: float, hi: float, avoid: float | None = None, gap: float = 0.0
) -> float:
    for _ in range(100):
        v = r.uniform(lo, hi)
        if avoid is None or abs(v - avoid) >= gap:
            return v
    return v


def ed_resize_recompress(img, r, mod):
    s = uni(r, 0.5, 0.85) if mod else uni(r, 0.3, 0.9)
    q = r.randint(60, 90) if mod else r.randint(50, 95)
    res = r.choice(["lanczos", "bicubic", "bilinear"])
    rs = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[res]
    out = img.resize((max(16, round(img.width * s)), max(16, round(img.height * s))), rs)
    return out, {"scale": round(s, 3), "quality": q, "resample": res}, q


def ed_recompress_chain(img, r, mod):
    n = r.randint(3, 6)
    qs, scales = [], []
    out = img
    for k in range(n):
        if r.random() < 0.7:
            s = r.uniform(0.85, 1.12)
            out = out.resize(
                (max(16, round(out.width * s)), max(16, round(out.height * s))), Image.BICUBIC
            )
            scales.append(round(s, 3))
        q = r.randint(30, 80)
        qs.append(q)
        if k < n - 1:
            out = jpeg_roundtrip(out, q)
    return out, {"saves": n, "qualities": qs, "scales": scales}, qs[-1]


def ed_crop(img, r, mod):
    a = uni(r, 0.75, 0.95) if mod else uni(r, 0.6, 0.95)
    wf = r.uniform(a, 1.0)
    hf = a / wf
    if r.random() < 0.5:
        wf, hf = hf, wf
    W, H = img.size
    cw, ch = max(16, round(W * wf)), max(16, round(H * hf))
    x, y = r.randint(0, W - cw), r.randint(0, H - ch)
    return (
        img.crop((x, y, x + cw, y + ch)),
        {"area": round(cw * ch / (W * H), 3), "box": [x, y, cw, ch]},
        None,
    )


def ed_flip(img, r, mod):
    return ImageOps.mirror(img), {}, None


def ed_rotate90(img, r, mod):
    a = r.choice([90, 180, 270])
    op = {
        90: Image.Transpose.ROTATE_90,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }
    return img.transpose(op[a]), {"angle": a}, None


def inner_rect(w: float, h: float, angle: float) -> tuple[float, float]:
    long_side, short_side = (w, h) if w >= h else (h, w)
    sa, ca = abs(math.sin(angle)), abs(math.cos(angle))
    if short_side <= 2 * sa * ca * long_side or abs(sa - ca) < 1e-10:
        x = 0.5 * short_side
        return (x / sa, x / ca) if w >= h else (x / ca, x / sa)
    cos2 = ca * ca - sa * sa
    return (w * ca - h * sa) / cos2, (h * ca - w * sa) / cos2


def ed_rotate_small(img, r, mod):
    ang = (uni(r, 3, 10) if mod else uni(r, 3, 20)) * r.choice([-1, 1])
    crop = r.random() < 0.5
    if crop:
        out = img.rotate(ang, resample=Image.BICUBIC, expand=True)
        wr, hr = inner_rect(img.width, img.height, math.radians(ang))
        cx, cy = out.width / 2, out.height / 2
        out = out.crop(
            (
                round(cx - wr / 2 + 1),
                round(cy - hr / 2 + 1),
                round(cx + wr / 2 - 1),
                round(cy + hr / 2 - 1),
            )
        )
        return out, {"angle": round(ang, 2), "crop": True}, None
    fill_kind = r.choice(["black", "white", "random"])
    fill = {"black": (0, 0, 0), "white": (255, 255, 255)}.get(fill_kind) or rand_color(r)
    out = img.convert("RGB").rotate(ang, resample=Image.BICUBIC, expand=True, fillcolor=fill)
    return out, {"angle": round(ang, 2), "crop": False, "fill": list(fill)}, None


def not_aligned(p: int) -> int:
    return p + 1 if p % 8 == 0 else p


def ed_border(img, r, mod):
    W, H = img.size
    lo, hi = (0.03, 0.15) if mod else (0.03, 0.30)
    col = (0, 0, 0) if r.random() < 0.1 else (255, 255, 255) if r.random() < 0.11 else rand_color(r)
    mode = r.choice(["one", "letterbox", "pillarbox", "four", "square"])
    if mode == "square" and abs(W - H) < 0.06 * max(W, H):
        mode = "letterbox"
    left = top = right = bottom = 0
    if mode == "one":
        side = r.choice(["left", "top", "right", "bottom"])
        dim = W if side in ("left", "right") else H
        p = not_aligned(round(dim * r.uniform(lo, hi)))
        left, top, right, bottom = [
            p if s == side else 0 for s in ("left", "top", "right", "bottom")
        ]
    elif mode == "letterbox":
        top = not_aligned(round(H * r.uniform(lo, hi)))
        bottom = top + r.choice([0, 0, 1])
    elif mode == "pillarbox":
        left = not_aligned(round(W * r.uniform(lo, hi)))
        right = left + r.choice([0, 0, 1])
    elif mode == "four":
        p = not_aligned(round(min(W, H) * r.uniform(lo, hi)))
        left = top = right = bottom = p
    else:
        pad = abs(W - H)
        a = not_aligned(pad // 2)
        b = pad - a
        if W > H:
            top, bottom = a, b
        else:
            left, right = a, b
    left, top, right, bottom = (not_aligned(p) if p else 0 for p in (left, top, right, bottom))
    out = Image.new("RGB", (W + left + right, H + top + bottom), col)
    out.paste(img.convert("RGB"), (left, top))
    return out, {"mode": mode, "color": list(col), "ltrb": [left, top, right, bottom]}, None


WATERMARKS = [
    "SAMPLE",
    "PREVIEW",
    "CONFIDENTIAL",
    "DRAFT",
    "COPY",
    "stock-images.example",
    "© ACME",
    "www.example.org",
]


def ed_overlay(img, r, mod):
    W, H = img.size
    cov = r.uniform(0.03, 0.10) if mod else r.uniform(0.03, 0.20)
    area = cov * W * H
    kind = r.choice(["logo", "watermark", "caption"])
    base = img.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    params: dict = {"type": kind, "coverage": round(cov, 3)}
    if kind == "caption":
        bw = W if r.random() < 0.6 else round(W * r.uniform(0.5, 0.95))
        bh = max(12, min(H, round(area / bw)))
        x, y = r.randint(0, W - bw), r.randint(0, H - bh)
        col = rand_color(r)
        alpha = r.randint(153, 255)
        d.rectangle([x, y, x + bw, y + bh], fill=(*col, alpha))
        f = font(
            r.choice(["sans_bold", "serif_bold", "cond_bold", "sans"]), max(8, round(bh * 0.55))
        )
        text = fit_text(title_text(r, 2, 7), f, bw - 20)
        d.text((x + 10, y + bh * 0.18), text, font=f, fill=(*contrast_text(col), 255))
        params.update(box=[x, y, bw, bh], alpha=round(alpha / 255, 2))
    elif kind == "logo":
        shape = r.choice(["circle", "rounded", "star", "badge"])
        col = rand_color(r)
        if shape in ("circle", "star"):
            s = math.sqrt(area)
            bw = bh = round(s)
        else:
            asp = r.uniform(1.0, 3.0)
            bh = round(math.sqrt(area / asp))
            bw = round(bh * asp)
        bw, bh = min(bw, W - 2), min(bh, H - 2)
        x, y = r.randint(0, W - bw), r.randint(0, H - bh)
        if shape == "circle":
            d.ellipse([x, y, x + bw, y + bh], fill=(*col, 255))
        elif shape == "star":
            cx, cy = x + bw / 2, y + bh / 2
            pts = []
            for k in range(10):
                rr = bw / 2 if k % 2 == 0 else bw / 4.5
                a = math.pi / 2 + k * math.pi / 5
                pts.append((cx + rr * math.cos(a), cy - rr * math.sin(a)))
            d.polygon(pts, fill=(*col, 255))
        else:
            d.rounded_rectangle(
                [x, y, x + bw, y + bh],
                radius=bh // (3 if shape == "rounded" else 2),
                fill=(*col, 255),
                outline=(*contrast_text(col), 255),
                width=max(1, bh // 20),
            )
        label = "".join(
            chr(65 + r.randrange(26))
            for _ in range(r.randint(1, 3) if shape != "badge" else r.randint(3, 6))
        )
        f = font("sans_bold", max(8, round(bh * 0.4)))
        if shape != "star":
            d.text(
                (x + (bw - f.getlength(label)) / 2, y + bh * 0.28),
                label,
                font=f,
                fill=(*contrast_text(col), 255),
            )
        params.update(shape=shape, box=[x, y, bw, bh])
    else:
        text = r.choice(WATERMARKS)
        alpha = r.uniform(0.2, 0.6)
        f0 = font("sans_bold", 100)
        tw, th = f0.getlength(text), 100 * 1.2
        size = max(10, round(100 * math.sqrt(area / (tw * th))))
        f = font("sans_bold", size)
        tw, th = round(f.getlength(text)) + 4, round(size * 1.25)
        tl = Image.new("RGBA", (tw, th), (0, 0, 0, 0))
        col = r.choice([(255, 255, 255), (0, 0, 0), (128, 128, 128), rand_color(r)])
        ImageDraw.Draw(tl).text((2, 0), text, font=f, fill=(*col, round(alpha * 255)))
        ang = r.uniform(-35, 35) if r.random() < 0.5 else 0.0
        if ang:
            tl = tl.rotate(ang, expand=True, resample=Image.BICUBIC)
        if tl.width > W or tl.height > H:
            s = min(W / tl.width, H / tl.height) * 0.98
            tl = tl.resize((max(1, int(tl.width * s)), max(1, int(tl.height * s))), Image.LANCZOS)
        x, y = r.randint(0, W - tl.width), r.randint(0, H - tl.height)
        layer.alpha_composite(tl, (x, y))
        params.update(
            text=text, alpha=round(alpha, 2), angle=round(ang, 1), box=[x, y, tl.width, tl.height]
        )
    base.alpha_composite(layer)
    return base.convert("RGB"), params, None


def ed_color(img, r, mod):
    ops = r.sample(["hue", "saturation", "contrast", "gamma"], r.randint(1, 2))
    out = img.convert("RGB")
    params: dict = {}
    for op in ops:
        if op == "hue":
            deg = (uni(r, 10, 60) if mod else uni(r, 15, 180)) * r.choice([-1, 1])
            h, s, v = out.convert("HSV").split()
            shift = round(deg / 360 * 256)
            h = h.point(lambda x, sh=shift: (x + sh) % 256)
            out = Image.merge("HSV", (h, s, v)).convert("RGB")
            params["hue_deg"] = round(deg, 1)
        elif op == "saturation":
            f = uni(r, 0.3, 1.6, 1.0, 0.15) if mod else uni(r, 0.0, 2.0, 1.0, 0.15)
            out = ImageEnhance.Color(out).enhance(f)
            params["saturation"] = round(f, 3)
        elif op == "contrast":
            f = uni(r, 0.65, 1.4, 1.0, 0.15) if mod else uni(r, 0.5, 1.6, 1.0, 0.15)
            out = ImageEnhance.Contrast(out).enhance(f)
            params["contrast"] = round(f, 3)
        else:
            g = uni(r, 0.65, 1.5, 1.0, 0.15) if mod else uni(r, 0.5, 2.0, 1.0, 0.15)
            lut = [round(255 * (i / 255) ** g) for i in range(256)] * 3
            out = out.point(lut)
            params["gamma"] = round(g, 3)
    return out, params, None


def ed_greyscale(img, r, mod):
    out = ImageOps.grayscale(img)
    rgb = r.random() < 0.4
    return (out.convert("RGB") if rgb else out), {"as_rgb": rgb}, None


def ed_brightness(img, r, mod):
    f = uni(r, 0.6, 1.35, 1.0, 0.12) if mod else uni(r, 0.3, 1.6, 1.0, 0.12)
    return ImageEnhance.Brightness(img.convert("RGB")).enhance(f), {"factor": round(f, 3)}, None


def ed_blur(img, r, mod):
    rad = uni(r, 1.5, 3.5) if mod else uni(r, 1.5, 6.0)
    px = rad * max(img.size) / 1000
    return (
        img.filter(ImageFilter.GaussianBlur(px)),
        {"radius_at_1000": round(rad, 2), "radius_px": round(px, 2)},
        None,
    )


def ed_noise(img, r, mod):
    sigma = uni(r, 5, 12) if mod else uni(r, 5, 25)
    mono = r.random() < 0.3
    a = np.asarray(img.convert("RGB"), np.float32)
    g = np_rng(r)
    n = g.normal(0, sigma, (*a.shape[:2], 1)) if mono else g.normal(0, sigma, a.shape)
    out = Image.fromarray(np.clip(a + n + 0.5, 0, 255).astype(np.uint8))
    return out, {"sigma": round(sigma, 2), "luminance_only": mono}, None


def ed_jpeg_heavy(img, r, mod):
    q = r.randint(20, 35) if mod else r.randint(2, 15)
    return img, {"quality": q}, q


EDIT_FUNCS = {
    "resize_recompress": ed_resize_recompress,
    "recompress_chain": ed_recompress_chain,
    "crop": ed_crop,
    "flip": ed_flip,
    "rotate90": ed_rotate90,
    "rotate_small": ed_rotate_small,
    "border": ed_border,
    "overlay": ed_overlay,
    "color": ed_color,
    "greyscale": ed_greyscale,
    "brightness": ed_brightness,
    "blur": ed_blur,
    "noise": ed_noise,
    "jpeg_heavy": ed_jpeg_heavy,
}


def ed_compound(img, r, mod):
    parts = r.sample(COMPOUND_PARTS, r.randint(3, 4))
    out = img
    steps = []
    for p in parts:
        out, prm, q = EDIT_FUNCS[p](out, r, True)
        if q is not None:
            out = jpeg_roundtrip(out, q)
        steps.append({"edit": p, **prm})
    return out, {"steps": steps}, r.randint(70, 92)


EDIT_FUNCS["compound"] = ed_compound


# ----------------------------------------------------------------------------- planning
def make_plan(units: list[Unit], seed: int) -> list[dict]:
    entries = []
    for u in units:
        pr = rng_for(seed, u.name, "plan")
        if u.group:
            fmt = pick_format(rng_for(seed, u.name, "original", "format"), ORIGINAL_FORMATS[u.kind])
            entries.append({"unit": u.name, "edit": "original", "index": 0, "fmt": fmt})
            chosen = set(pr.sample(EDIT_KINDS, EDITS_PER_GROUP))
            for e in EDIT_KINDS:
                if e not in chosen:
                    continue
                efmt = (
                    fmt
                    if e == "exact_copy"
                    else pick_format(
                        rng_for(seed, u.name, e, "format"), EDIT_FORMATS.get(e, DEFAULT_EDIT_FORMAT)
                    )
                )
                entries.append({"unit": u.name, "edit": e, "index": 0, "fmt": efmt})
        n_neg = pr.randint(*u.n_neg) if u.neg_edit else 0
        for i in range(n_neg):
            nfmt = pick_format(
                rng_for(seed, u.name, u.neg_edit, i, "format"), ORIGINAL_FORMATS[u.kind]
            )
            entries.append({"unit": u.name, "edit": u.neg_edit, "index": i, "fmt": nfmt})
    return entries


def assign_splits(units: list[Unit], seed: int) -> dict[str, str]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for u in units:
        by_kind[u.kind].append(u.name)
    split = {}
    for kind in sorted(by_kind):
        names = sorted(by_kind[kind])
        r = rng_for(seed, "split", kind)
        r.shuffle(names)
        half = len(names) // 2 + (len(names) % 2 if r.random() < 0.5 else 0)
        for i, n in enumerate(names):
            split[n] = "calib" if i < half else "test"
    return split


# ----------------------------------------------------------------------------- worker
def run_unit(job: tuple) -> tuple[str, list[tuple[str, dict]], str | None]:
    u, seed, src, out, entries = job
    try:
        orig, negs = BUILDERS[u.builder](
            u, seed, Path(src), sum(e["role"] == "neg" for e in entries)
        )
        results = []
        orig_path = None
        decoded = None
        for e in entries:
            path = Path(out) / e["path"]
            if e["edit"] == "original":
                q = rng_for(seed, u.name, "original", "quality").randint(85, 95)
                save_image(orig, path, e["fmt"], q)
                orig_path = path
                decoded = Image.open(path).convert("RGB")
                results.append((e["path"], {"size": list(orig.size), "quality": q}))
            elif e["role"] == "neg":
                img = negs[e["index"]]
                q = rng_for(seed, u.name, e["edit"], e["index"], "quality").randint(82, 95)
                save_image(img, path, e["fmt"], q)
                results.append((e["path"], {"size": list(img.size)}))
            elif e["edit"] == "exact_copy":
                shutil.copyfile(orig_path, path)
                results.append((e["path"], {}))
            else:
                r = rng_for(seed, u.name, e["edit"])
                img, params, q = EDIT_FUNCS[e["edit"]](decoded, r, False)
                if q is None:
                    q = r.randint(72, 95)
                save_image(img, path, e["fmt"], q)
                params.setdefault("quality", q)
                results.append((e["path"], params))
        return u.name, results, None
    except Exception as exc:  # report and skip the whole source
        for e in entries:
            (Path(out) / e["path"]).unlink(missing_ok=True)
        return u.name, [], f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--sources-dir", type=Path, default=Path(__file__).resolve().parent / "work" / "graphics"
    )
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.time()
    src = args.sources_dir
    units = []
    for u in all_units():
        missing = [p for p in unit_files(u) if not (src / p).is_file()]
        if missing:
            print(f"warning: skipping {u.name}: missing {missing[0]}", file=sys.stderr)
            continue
        units.append(u)
    entries = make_plan(units, args.seed)
    order = list(range(len(entries)))
    rng_for(args.seed, "names").shuffle(order)
    for name_no, idx in enumerate(order):
        e = entries[idx]
        e["path"] = f"images/{name_no:06d}.{e['fmt']}"
        e["role"] = (
            "neg"
            if e["edit"] in ("neighbour_tile", "same_template", "similar_gradient")
            else "group"
        )
    split = assign_splits(units, args.seed)
    group_units = [u.name for u in units if u.group]
    rng_for(args.seed, "groups").shuffle(group_units)
    group_id = {n: f"g{i:03d}" for i, n in enumerate(group_units)}
    kind_of = {u.name: u.kind for u in units}

    out = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    if (out / "images").exists():
        shutil.rmtree(out / "images")
    (out / "truth.json").unlink(missing_ok=True)
    (out / "images").mkdir()

    by_unit: dict[str, list[dict]] = defaultdict(list)
    for e in entries:
        by_unit[e["unit"]].append(e)
    cost = {"gnome_tiles": 0, "big_tiles": 1, "clipart": 2}
    jobs = sorted(
        ((u, args.seed, str(src), str(out), by_unit[u.name]) for u in units),
        key=lambda j: (cost.get(j[0].builder, 3), j[0].name),
    )
    params: dict[str, dict] = {}
    failed = []
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            results = list(ex.map(run_unit, jobs, chunksize=1))
    else:
        results = [run_unit(j) for j in jobs]
    for name, res, err in results:
        if err:
            failed.append(name)
            print(f"warning: source {name} failed and was skipped: {err}", file=sys.stderr)
        for path, prm in res:
            params[path] = prm

    images = []
    for e in entries:
        if e["path"] not in params:
            continue
        images.append(
            {
                "path": e["path"],
                "group": group_id[e["unit"]] if e["role"] == "group" else None,
                "edit": e["edit"],
                "source": e["unit"],
                "split": split[e["unit"]],
                "kind": kind_of[e["unit"]],
                "params": params[e["path"]],
            }
        )
    images.sort(key=lambda x: x["path"])
    truth = {"version": 1, "seed": args.seed, "images": images}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=False) + "\n")

    # summary
    n_neg = sum(1 for im in images if im["group"] is None)
    n_groups = len({im["group"] for im in images if im["group"]})
    n_src = len({im["source"] for im in images})
    pct = 100 * n_neg / max(1, len(images))
    print(f"images: {len(images)}  groups: {n_groups}  negatives: {n_neg} ({pct:.1f} %)  ", end="")
    print(f"sources: {n_src}")
    print("per edit:", dict(sorted(Counter(im["edit"] for im in images).items())))
    for sp in ("calib", "test"):
        sub = [im for im in images if im["split"] == sp]
        print(
            f"{sp}: images {len(sub)}, groups {len({im['group'] for im in sub if im['group']})}, "
            f"negatives {sum(im['group'] is None for im in sub)}, "
            f"sources {len({im['source'] for im in sub})}"
        )
    kinds = Counter((im["kind"], im["split"]) for im in images)
    srcs = Counter((kind_of[n], split[n]) for n in {im["source"] for im in images})
    print("  kind          sources calib/test  images calib/test")
    for k in sorted({k for k, _ in kinds}):
        print(
            f"  {k:13s} {srcs[(k, 'calib')]:7d}/{srcs[(k, 'test')]:<4d}     "
            f"{kinds[(k, 'calib')]:6d}/{kinds[(k, 'test')]:<4d}"
        )
    print("formats:", dict(Counter(im["path"].rsplit(".", 1)[1] for im in images)))
    if failed:
        print(f"failed sources: {failed}")
    print(f"done in {time.time() - t0:.1f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
