"""Build the "blind" labelled evaluation set for a near-duplicate image finder.

What it is
    An independent set of pictures with known duplicate groups and known
    look-alikes, made from real pictures in Debian packages (photos, night
    photos, gradient wallpapers, textures, screenshots, drawings, icons, charts
    and maps).  For each chosen original it writes the original and 5-8 edited
    copies (each copy is a duplicate of the original), plus hard negatives:
    look-alikes that are NOT duplicates (neighbouring tiles of one large
    picture, other pictures of one series / template / material / icon set,
    and other pictures placed in the very same frame or under the very same
    overlay as one of the copies).

    It was written BLIND on 2026-12-06 by a helper that was not allowed to
    read anything about the finder it will be used to test: the edit kinds,
    parameter ranges and look-alikes were chosen from what real collections
    (photo libraries, scraped training data, chat/social re-posts, slides,
    screenshots) contain, not from where any tool is known to be weak.

How to run
    bash benchmarks/fetch_blind_sources.sh            # ~230 MB of .debs, once
    python benchmarks/make_set_blind.py OUT_DIR [--sources DIR] [--seed N]
                                                      [--jobs N] [--check-sources]

    --sources defaults to benchmarks/work/blind (where the fetch script
    unpacks).  Needs Pillow (>= 10.1, with FreeType and WebP) and numpy; the
    rest is the standard library.  Deterministic for a seed (default 1) and a
    given Pillow/libjpeg/libwebp build (checked: --jobs 1 and 2 give identical
    files).  About 30 s on 2 cores (Pillow 13, numpy 2.5); 1366 images,
    ~155 MB, for seed 1: 158 originals, 934 copies, 274 look-alikes (20 %).

Output
    OUT_DIR/images/NNNNNN.{jpg,png,webp}  (numbering shuffled, so a name says
    nothing about the group) and OUT_DIR/truth.json:

    {"version": 1, "seed": 1, "images": [
      {"path": "images/000000.jpg", "group": "g012", "edit": "original",
       "source": "<package>:<path inside the package>[#tile...]",
       "split": "calib" | "test", "kind": "photo", "params": {...}}, ...]}

    Two images are duplicates exactly when they share a non-null `group`.
    Negatives have group null, their own `edit` name, `source` = the source
    of the original they are a look-alike of, and params.from = what they
    were really made from.  The split is by family of source pictures (an
    original, its copies, its look-alikes and any sibling originals of the
    same series are always in the same half).

    --check-sources prints the most similar pairs among all originals and
    look-alike bases (tiny grey thumbnails) so that accidental near-duplicate
    sources can be spotted; it writes nothing else.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Image.MAX_IMAGE_PIXELS = None

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCES = os.path.join(HERE, "work", "blind")

# --------------------------------------------------------------------------
# Source pictures.  Paths are relative to the sources dir (<package>/...).
# --------------------------------------------------------------------------
LX = "lxqt-themes/usr/share/lxqt/wallpapers/"
SK = "python3-skimage/usr/lib/python3/dist-packages/skimage/data/"
TT = "tuxpaint-data/usr/share/tuxpaint/templates/"
TS = "tuxpaint-data/usr/share/tuxpaint/starters/"
KD = "kstars-data/usr/share/doc/HTML/en/kstars/"
KC = "kstars-data/usr/share/kstars/skycultures/western/"
KS = "kstars-data/usr/share/kstars/"
GR = "grass-doc/usr/share/doc/grass-doc/html/"
CO = "colobot-common-textures/usr/share/games/colobot/textures/"
OX = "oxygen-icon-theme/usr/share/icons/oxygen/base/256x256/"
CA = "colobot-common-textures/usr/share/games/colobot/mods/AltTextures/textures/objects/"


def F(fid, kind, orig=(), tile=None, neg=(), neg_kind="same_series"):
    """A family of source pictures that always goes to one half.

    orig: files used whole as originals.
    tile: (file, rows, cols, n_neighbours): the file is cut into a grid; one
          cell is the original, n other cells are `neighbour_tile` negatives.
    neg:  files that are look-alikes (not duplicates) of the originals; each
          is a (file, kind_name) pair or a file (then neg_kind is used).
    """
    negs = []
    for n in neg:
        negs.append(n if isinstance(n, tuple) else (n, neg_kind))
    return {"id": fid, "kind": kind, "orig": list(orig), "tile": tile, "neg": negs}


FAMILIES = [
    # ---- photographs (lxqt wallpapers, 2000-3000 px) ----
    F("lx_butterflies", "photo", orig=[LX + "Butterfly-Kenneth-Wimer.jpg", LX + "butterfly.png"]),
    F("lx_valendas", "photo", tile=(LX + "Valendas.png", 2, 3, 5)),
    F("lx_after_rain", "night_photo", tile=(LX + "after-the-rain.jpg", 3, 3, 6)),
    F("lx_appleflower", "photo", orig=[LX + "appleflower.png"]),
    F("lx_beam", "night_photo", tile=(LX + "beam.png", 2, 3, 5)),
    F("lx_cloud", "photo", tile=(LX + "cloud.png", 3, 3, 6)),
    F("lx_drop", "photo", orig=[LX + "drop.png"]),
    F("lx_flowers", "photo", tile=(LX + "flowers.png", 3, 3, 6)),
    F("lx_fog", "photo", tile=(LX + "fog.jpg", 1, 3, 2)),
    F("lx_notwindows", "photo", tile=(LX + "this-is-not-windows.jpg", 1, 3, 2)),
    # ---- smooth / gradient wallpapers (one per design family) ----
    F("lx_simple_blue", "gradient", orig=[LX + "simple_blue_widescreen.png"]),
    F("lx_origami_dark", "gradient", orig=[LX + "origami-dark.png"]),
    F("lx_plasma_logo_dark", "gradient", orig=[LX + "plasma-logo-dark.png"]),
    F("lx_plasma_arch", "gradient", orig=[LX + "plasma_arch.png"]),
    F("lx_kde_plasma", "gradient", orig=[LX + "kde-plasma.png"]),
    F("lx_triangles", "gradient", orig=[LX + "triangles.png"]),
    F("sk_colorwheel", "gradient", orig=[SK + "color.png"]),
    F("co_back33", "gradient", orig=[CO + "back33.png"]),
    # ---- scikit-image test pictures ----
    F("sk_astronaut", "photo", orig=[SK + "astronaut.png"]),
    F("sk_camera", "photo", orig=[SK + "camera.png"]),
    F("sk_chelsea", "photo", orig=[SK + "chelsea.png"]),
    F("sk_coffee", "photo", orig=[SK + "coffee.png"]),
    F("sk_coins", "photo", orig=[SK + "coins.png"]),
    F("sk_ihc", "photo", orig=[SK + "ihc.png"]),
    F("sk_retina", "photo", orig=[SK + "retina.jpg"]),
    F("sk_rocket", "night_photo", orig=[SK + "rocket.jpg"]),
    F("sk_motorcycle", "photo", orig=[SK + "motorcycle_left.png"]),
    F("sk_hubble", "night_photo", tile=(SK + "hubble_deep_field.jpg", 2, 2, 3)),
    F(
        "sk_textures",
        "texture",
        orig=[SK + "brick.png", SK + "grass.png"],
        neg=[SK + "gravel.png"],
        neg_kind="same_material",
    ),
    F("sk_moon", "texture", orig=[SK + "moon.png"]),
    F("sk_horse", "drawing", orig=[SK + "horse.png"]),
    F("sk_logo", "drawing", orig=[SK + "logo.png"]),
    # ---- tuxpaint photo templates ----
    F("tp_cliff", "photo", tile=(TT + "cliff.jpg", 2, 2, 3)),
    F("tp_rocks", "texture", tile=(TT + "rocks.jpg", 2, 2, 3)),
    F("tp_sun_clouds", "photo", tile=(TT + "sun_behind_clouds.jpg", 2, 2, 3)),
    F("tp_corn_maze", "photo", orig=[TT + "corn_maze.jpg"]),
    F("tp_jellyfish", "night_photo", orig=[TT + "jellyfish.jpg"]),
    F("tp_lighthouse", "photo", orig=[TT + "lighthouse.jpg"]),
    F("tp_mossy_log", "photo", orig=[TT + "mossy_log.jpg"]),
    F("tp_mudstone", "texture", tile=(TT + "mudstone.jpg", 1, 2, 1)),
    F("tp_sheep", "photo", orig=[TT + "sheep.jpg"]),
    F("tp_spiders_web", "photo", orig=[TT + "spiders_web.jpg"]),
    F("tp_trees_at_dusk", "night_photo", orig=[TT + "trees_at_dusk.jpg"]),
    F("tp_wool_mill", "photo", tile=(TT + "wool_mill_machine.jpg", 1, 2, 1)),
    F("tp_ocean", "photo", tile=(TT + "ocean_splash.jpg", 1, 2, 1), orig=[TT + "ocean_waves.jpg"]),
    F("tp_trees_above", "photo", orig=[TT + "redwoods_above.jpg", TT + "trees_above.jpg"]),
    F("tp_sun_leaves", "photo", orig=[TT + "sun_behind_leaves.jpg"]),
    F(
        "tp_bark",
        "texture",
        tile=(TT + "burnt_bark.jpg", 1, 2, 1),
        neg=[TT + "mossy_bark.jpg"],
        neg_kind="same_material",
    ),
    # ---- tuxpaint line drawings / colouring pages ----
    F(
        "tp_starters",
        "drawing",
        orig=[
            TS + "carcassone.png",
            TS + "chicken.png",
            TS + "frog.png",
            TS + "tux_farmer.png",
            TS + "street.png",
            TS + "shipwreck.png",
        ],
        neg=[
            TS + "hat.png",
            TS + "jetplane.png",
            TS + "pansy.png",
            TS + "nagasaki.png",
            TS + "rocket.png",
        ],
    ),
    F(
        "tp_worldmaps",
        "map",
        orig=[TS + "worldmap_europe.png", TS + "worldmap_america_south.png"],
        neg=[
            TS + "worldmap_africa.png",
            TS + "worldmap_australasia.png",
            TS + "worldmap_asia_south.png",
            TS + "worldmap_japan.png",
        ],
        neg_kind="same_template",
    ),
    F(
        "tp_frames",
        "drawing",
        orig=[TS + "frame_gold.png"],
        neg=[TS + "frame_picture.png", TS + "frame_television.png"],
        neg_kind="same_template",
    ),
    # ---- KStars handbook: screenshots, charts ----
    F(
        "ks_calc",
        "screenshot",
        orig=[KD + "calc-angdist.png", KD + "calc-planetcoords.png"],
        neg=[
            KD + "calc-julian.png",
            KD + "calc-equinox.png",
            KD + "calc-geodetic.png",
            KD + "calc-sidereal.png",
            KD + "calc-ecliptic.png",
        ],
        neg_kind="same_template",
    ),
    F(
        "ks_csv",
        "screenshot",
        orig=[KD + "csv_import_populated.png"],
        neg=[KD + "import_catalog.png", KD + "catalog_details.png"],
        neg_kind="same_app_ui",
    ),
    F(
        "ks_wizard",
        "screenshot",
        orig=[KD + "profile_wizard_welcome.png"],
        neg=[KD + "profile_wizard_remote.png"],
        neg_kind="same_template",
    ),
    F("ks_eyepiece", "screenshot", orig=[KD + "Arp84_EyepieceView.png"]),
    F(
        "ks_planner",
        "screenshot",
        orig=[KD + "KStars_Neptune.png", KD + "Add_Object_to_Session_plan.png"],
        neg=[KD + "dss.png"],
        neg_kind="same_app_ui",
    ),
    F(
        "ks_ekos_focus",
        "screenshot",
        orig=[KD + "ekos_focus.png"],
        neg=[
            KD + "focus_display.png",
            KD + "ekos_guide.png",
            KD + "ekos_capture.png",
            KD + "ekos_analyze.png",
        ],
        neg_kind="same_app_ui",
    ),
    F(
        "ks_fitsviewer",
        "screenshot",
        orig=[KD + "fitsviewer.png"],
        neg=[KD + "fitsviewer_selstat.png", KD + "fitsviewer_histogram.png"],
        neg_kind="same_app_ui",
    ),
    F("ks_hips", "screenshot", orig=[KD + "kstars_hips.png"]),
    F(
        "ks_horizon",
        "screenshot",
        orig=[KD + "kstars_horizon.png"],
        neg=[KD + "kstars_annotation.png", KD + "polar_alignment_result.png"],
        neg_kind="same_app_ui",
    ),
    F("ks_cheatsheet", "screenshot", orig=[KD + "ekos_summary_cheatsheet.png"]),
    F(
        "ks_mosaic",
        "screenshot",
        orig=[KD + "mosaic_planner.png"],
        neg=[KD + "mosaic_close_pole.png"],
        neg_kind="same_app_ui",
    ),
    F("ks_geolocator", "screenshot", orig=[KD + "geolocator.png"]),
    F(
        "ks_scheduler",
        "screenshot",
        orig=[KD + "ekos-scheduler-mosaic-std.png"],
        neg=[KD + "ekos_scheduler.png", KD + "scheduler_planner.png"],
        neg_kind="same_app_ui",
    ),
    F("ks_altvstime", "chart", orig=[KD + "altvstime.png"]),
    F(
        "ks_blackbody",
        "chart",
        orig=[KD + "blackbody.png"],
        neg=[KD + "color_indices.png", KD + "star_colors.png"],
        neg_kind="same_template",
    ),
    F("ks_jmoons", "chart", orig=[KD + "jmoons.png"]),
    F("ks_kepler", "chart", orig=[KD + "kepler2nd.png"]),
    F("ks_lightcurve", "chart", orig=[KD + "lightcurve.png"]),
    F(
        "ks_vcurve",
        "chart",
        orig=[KD + "focus_vcurve.png"],
        neg=[KD + "focus_relative_profile.png", KD + "focus_vcurve_timeseries.png"],
        neg_kind="same_template",
    ),
    F("ks_splash", "night_photo", tile=(KS + "kstarslite/qml/images/splash_bg@4x.jpeg", 3, 4, 8)),
    F("ks_geomap", "map", tile=(KS + "geomap.jpg", 3, 5, 8)),
    # ---- KStars constellation drawings: one series, many different pictures ----
    F(
        "ks_const_a",
        "drawing",
        orig=[KC + n + ".png" for n in ("canis-major", "ursa-major", "leo", "pisces", "aquila")],
        neg=[
            KC + n + ".png"
            for n in (
                "canis-minor",
                "ursa-minor",
                "leo-minor",
                "piscis-austrinus",
                "corvus",
                "lupus",
                "vulpecula",
                "lynx",
                "monoceros",
                "lepus",
                "capricornus",
                "delphinus",
                "dorado",
            )
        ],
    ),
    F(
        "ks_const_b",
        "drawing",
        orig=[KC + n + ".png" for n in ("hydra", "orion", "pegasus", "cassiopeia", "scorpius")],
        neg=[
            KC + n + ".png"
            for n in (
                "hydrus",
                "bootes",
                "hercules",
                "cepheus",
                "cancer",
                "ophiuchus",
                "perseus",
                "andromeda",
                "sagittarius",
                "cygnus",
                "aquarius",
                "virgo",
                "auriga",
            )
        ],
    ),
    F(
        "ks_const_c",
        "drawing",
        orig=[KC + n + ".png" for n in ("taurus", "draco", "gemini", "pavo")],
        neg=[
            KC + n + ".png"
            for n in (
                "aries",
                "camelopardalis",
                "lacerta",
                "eridanus",
                "phoenix",
                "grus",
                "tucana",
                "columba",
                "canes-venatici",
                "centaurus",
                "cetus",
                "equuleus",
                "lyra",
                "libra",
            )
        ],
    ),
    # ---- GRASS GIS manual: charts, maps, diagrams, GUI screenshots ----
    F(
        "gr_bench",
        "chart",
        orig=[GR + "r_neighbors_benchmark_size.png", GR + "r_series_benchmark_memory.png"],
        neg=[
            GR + "r_neighbors_benchmark_memory.png",
            GR + "r_series_benchmark_size.png",
            GR + "r_patch_benchmark_size.png",
            GR + "r_slope_aspect_benchmark_size.png",
            GR + "r_patch_benchmark_memory.png",
            GR + "r_slope_aspect_benchmark_memory.png",
            GR + "r_neighbors_benchmark_nprocs.png",
            GR + "r_mfilter_benchmark_1.png",
        ],
        neg_kind="same_template",
    ),
    F(
        "gr_hist",
        "chart",
        orig=[GR + "r_random_surface_hist.png"],
        neg=[GR + "r_surf_gauss_hist.png", GR + "r_surf_random_hist.png"],
        neg_kind="same_template",
    ),
    F(
        "gr_nviz",
        "screenshot",
        orig=[GR + "wxGUI_nviz_tools_surface.jpg"],
        neg=[
            GR + "wxGUI_nviz_tools_light.jpg",
            GR + "wxGUI_nviz_tools_view.jpg",
            GR + "wxGUI_nviz_tools_vector.jpg",
        ],
        neg_kind="same_template",
    ),
    F("gr_pie", "chart", orig=[GR + "d_histogram_pie.png"]),
    F("gr_spectral", "chart", orig=[GR + "i_spectral.png"]),
    F("gr_polar", "chart", orig=[GR + "rhorizon_polar_plot.png"]),
    F("gr_sentinel", "map", orig=[GR + "r_in_wms_sentinel2.jpg"]),
    F("gr_geomorphon", "map", orig=[GR + "r_geomorphon.png"]),
    F(
        "gr_delaunay",
        "chart",
        orig=[GR + "v_delaunay.png"],
        neg=[GR + "v_voronoi_areas.png"],
        neg_kind="same_template",
    ),
    F("gr_lidar", "map", orig=[GR + "r_fill_stats_lidar.png"]),
    F("gr_ortho", "photo", orig=[GR + "i_segment_ortho_segs_l1.jpg"]),
    F("gr_iscatt", "screenshot", orig=[GR + "wxGUI_iscatt.jpg"]),
    F("gr_vnet", "screenshot", orig=[GR + "wxGUI_vnet.jpg"]),
    F("gr_sql", "screenshot", orig=[GR + "dbmgr_sql_builder.png"]),
    F(
        "gr_usle",
        "chart",
        orig=[GR + "g_gui_gmodeler_model_usle.png"],
        neg=[
            GR + "g_gui_gmodeler_model_landslides.png",
            GR + "g_gui_gmodeler_model_avg.png",
            GR + "g_gui_gmodeler_items.png",
            GR + "g_gui_gmodeler_intermediate_data.png",
        ],
        neg_kind="same_template",
    ),
    F("gr_arch", "chart", orig=[GR + "grass8_arch.png"]),
    F("gr_bands", "chart", orig=[GR + "band_references_scheme.png"]),
    F("gr_iphoto", "screenshot", orig=[GR + "wxGUI_iphoto2image_frame.jpg"]),
    # ---- Colobot: game textures and game art ----
    F(
        "co_mars",
        "texture",
        orig=[CO + "mars001.png", CO + "mars007.png"],
        neg=[
            CO + "mars002.png",
            CO + "mars003.png",
            CO + "mars005.png",
            CO + "mars004.png",
            CO + "mars008.png",
        ],
        neg_kind="same_material",
    ),
    F("co_desert", "texture", orig=[CO + "desert4.png"]),
    F(
        "co_dirty",
        "texture",
        orig=[CO + "dirty01.png"],
        neg=[CO + "dirty03.png", CO + "dirty06.png"],
        neg_kind="same_material",
    ),
    F(
        "co_cloud",
        "texture",
        orig=[CO + "cloud02.png"],
        neg=[CO + "cloud03.png", CO + "cloud04.png"],
        neg_kind="same_material",
    ),
    F(
        "co_green",
        "texture",
        orig=[CO + "green01.png"],
        neg=[CO + "green02.png"],
        neg_kind="same_material",
    ),
    F(
        "co_rock",
        "texture",
        orig=[CO + "roca2.png"],
        neg=[CO + "rocb2.png"],
        neg_kind="same_material",
    ),
    F(
        "co_water",
        "texture",
        orig=[CO + "water12.png"],
        neg=[CO + "water16.png"],
        neg_kind="same_material",
    ),
    F(
        "co_chili",
        "texture",
        orig=[CO + "chili01.png"],
        neg=[CO + "chili02.png"],
        neg_kind="same_material",
    ),
    F("co_moon", "texture", orig=[CO + "moon103.png"]),
    F("co_wood", "texture", orig=[CO + "objects/wood01.png"]),
    F(
        "co_atlas",
        "game_art",
        orig=[CA + "roller.png"],
        neg=[CA + n + ".png" for n in ("apollo", "base1", "search", "subm")],
    ),
    F(
        "co_intro",
        "game_art",
        orig=[CO + "interface/intro1.png", CO + "interface/intro3.png"],
        neg=[CO + "interface/intro2.png"],
    ),
    F("co_interface", "game_art", orig=[CO + "interface/interface.png"]),
    F("co_generico", "game_art", orig=[CO + "interface/generico.png"]),
    F(
        "co_planets",
        "game_art",
        orig=[CO + "planets/planet-earth.png", CO + "planets/planet-moon.png"],
    ),
    F("co_faces", "game_art", orig=[CO + "objects/face01.png"]),
    F("co_nebula", "night_photo", tile=(CO + "back01.png", 1, 4, 3)),
    F("co_back22", "night_photo", orig=[CO + "back22.png"]),
    # ---- Oxygen icon set (256 px, transparent) ----
    F(
        "ox_folders",
        "icon",
        orig=[OX + "places/folder-important.png", OX + "places/folder-games.png"],
        neg=[
            OX + "places/folder-" + n + ".png"
            for n in ("bookmark", "temp", "locked", "print", "network", "html")
        ],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_docs",
        "icon",
        orig=[
            OX + "mimetypes/application-pdf.png",
            OX + "mimetypes/application-vnd.oasis.opendocument.spreadsheet.png",
        ],
        neg=[
            OX + "mimetypes/" + n + ".png"
            for n in (
                "application-msword",
                "application-rtf",
                "application-vnd.oasis.opendocument.text",
                "application-vnd.oasis.opendocument.presentation",
                "application-x-java",
                "text-x-python",
                "application-postscript",
                "application-vnd.ms-excel",
                "application-epub+zip",
                "application-x-deb",
                "text-x-csrc",
            )
        ],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_printer",
        "icon",
        orig=[OX + "devices/printer.png"],
        neg=[OX + "devices/printer-laser.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_laptop",
        "icon",
        orig=[OX + "devices/computer-laptop.png"],
        neg=[OX + "devices/computer.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_flash",
        "icon",
        orig=[OX + "devices/media-flash-sd-mmc.png"],
        neg=[
            OX + "devices/media-flash-smart-media.png",
            OX + "devices/media-flash-memory-stick.png",
        ],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_konqueror",
        "icon",
        orig=[OX + "apps/konqueror.png"],
        neg=[
            OX + "categories/preferences-system-network.png",
            OX + "apps/internet-web-browser.png",
        ],
        neg_kind="same_icon_set",
    ),
    F("ox_kgpg", "icon", orig=[OX + "apps/kgpg.png"]),
    F(
        "ox_drives",
        "icon",
        orig=[OX + "devices/drive-harddisk.png"],
        neg=[
            OX + "devices/drive-optical.png",
            OX + "devices/drive-removable-media.png",
            OX + "devices/media-floppy.png",
        ],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_network",
        "icon",
        orig=[OX + "devices/network-wireless.png"],
        neg=[OX + "devices/network-wired.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_input",
        "icon",
        orig=[OX + "devices/input-keyboard.png"],
        neg=[OX + "devices/input-mouse.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_display",
        "icon",
        orig=[OX + "devices/video-display.png"],
        neg=[OX + "devices/smartphone.png", OX + "devices/tablet.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_server",
        "icon",
        orig=[OX + "places/network-server.png"],
        neg=[OX + "places/network-server-database.png", OX + "places/server-database.png"],
        neg_kind="same_icon_set",
    ),
    F(
        "ox_categories",
        "icon",
        orig=[OX + "categories/applications-science.png"],
        neg=[
            OX + "categories/applications-engineering.png",
            OX + "categories/applications-office.png",
            OX + "categories/applications-internet.png",
            OX + "categories/applications-multimedia.png",
        ],
        neg_kind="same_icon_set",
    ),
    F("ox_camera", "icon", orig=[OX + "devices/camera-photo.png"]),
    F("ox_graphics", "icon", orig=[OX + "categories/applications-graphics.png"]),
    F(
        "ox_headphones",
        "icon",
        orig=[OX + "devices/audio-headphones.png"],
        neg=[OX + "devices/audio-card.png"],
        neg_kind="same_icon_set",
    ),
    F("ox_wallet", "icon", orig=[OX + "apps/kwalletmanager.png"]),
    F("ox_bell", "icon", orig=[OX + "apps/preferences-desktop-notification-bell.png"]),
]

# Pictures used only as the inner picture of "same frame / same overlay, other
# picture" negatives: each is wrapped in exactly the frame or overlay of one
# copy of some group (in that group's half) and used nowhere else.
POOL = (
    [
        (KC + n + ".png", "drawing")
        for n in (
            "apus",
            "ara",
            "argonavis",
            "caelum",
            "chamaeleon",
            "circinus",
            "coma-berenices",
            "corona-australis",
            "corona-borealis",
            "crater",
            "fornax",
            "horlogium",
            "indus",
            "mensa",
            "microscopium",
            "musca",
            "octans",
            "pictor",
            "pyxis",
            "sagitta",
            "sculptor",
            "scutum",
            "volans",
        )
    ]
    + [
        (OX + "apps/" + n + ".png", "icon")
        for n in (
            "digikam",
            "k3b",
            "kdevelop",
            "kmail2",
            "akregator",
            "yakuake",
            "accessories-dictionary",
            "clock",
            "kchart",
            "kspread",
            "artikulate",
            "telepathy-kde",
            "kbruch",
            "korgac",
            "kplato",
            "lokalize",
            "qelectrotech",
            "quassel",
            "strigi",
            "zanshin",
            "timevault",
            "kmag",
            "kig",
            "hotspot",
            "picmi",
        )
    ]
    + [
        (GR + n, k)
        for n, k in (
            ("d_polar_aspect.png", "chart"),
            ("r_clump_lsat.png", "map"),
            ("timeline_2D.jpg", "screenshot"),
            ("raster3d_layout.png", "chart"),
            ("r_gwflow_concept.png", "chart"),
            ("help_loc_struct.png", "chart"),
            ("v_cluster_4_methods.png", "chart"),
            ("r_sunhours.png", "map"),
            ("r_surf_fractal_simple.png", "map"),
            ("v_kernel.png", "map"),
            ("r_plane_3d.png", "chart"),
            ("wxGUI_gcp_frame.jpg", "screenshot"),
            ("i_pca_result.png", "map"),
        )
    ]
)
MIMIC_POOL = {"screenshot", "social_post", "slide", "caption_bar", "meme_text", "watermark"}

# --------------------------------------------------------------------------
# Text material for overlays (invented; nothing here refers to real people).
# --------------------------------------------------------------------------
CAPTIONS = [
    "when the weekend finally arrives",
    "found this in my old photos",
    "this is fine",
    "can't unsee it now",
    "tag someone who needs this",
    "the view from today's walk",
    "me explaining my plan to the team",
    "monday mood",
    "best day ever!!",
    "rate this 1-10",
    "who else remembers this?",
    "throwback to last summer",
    "not sure what I expected",
    "sending this to the group chat",
    "my week in one picture",
    "posted without comment",
    "daily reminder to drink water",
    "saw this and thought of you",
    "the algorithm brought me here",
    "wallpaper of the day",
    "scientists hate this one trick",
]
MEME = [
    ("WHEN YOU OPEN THE FRIDGE", "AND IT'S STILL EMPTY"),
    ("NOBODY:", "ABSOLUTELY NOBODY:"),
    ("ONE DOES NOT SIMPLY", "CLOSE ALL THE TABS"),
    ("ME AT 3 AM", "JUST ONE MORE EPISODE"),
    ("IT WORKS ON MY MACHINE", "SHIP IT"),
    ("EXPECTATION", "REALITY"),
    ("WHEN THE WIFI DROPS", "FOR ONE SECOND"),
    ("TOP TEXT", "BOTTOM TEXT"),
]
USERS = [
    "lena.wanders",
    "pixel_pete",
    "nightowl_88",
    "the.daily.view",
    "marco_foto",
    "kittenfacts",
    "retro_maps",
    "astro_ana",
    "green_thumb",
    "lofi_larry",
]
WATERMARKS = [
    "© Lumen Stock",
    "SAMPLE",
    "shutterframe",
    "© 2021 J. Keller",
    "PREVIEW ONLY",
    "pixabank.example",
    "DRAFT",
    "© northlight photo",
    "@retro_maps",
    "not for resale",
]
LOGOS = ["QX", "N7", "VTX", "KAL", "ZEB", "HUB", "M4", "ORBIT"]
WORDMARKS = ["NEWS", "studio", "live", "media", "daily", "+", "TV"]
SLIDE_TITLES = [
    "Quarterly results",
    "Field trip 2019",
    "Project overview",
    "Lessons learned",
    "Results",
    "Introduction",
    "Case study",
    "Next steps",
    "Background",
    "Where we are",
]
BULLETS = [
    "Collected in spring",
    "Processed with default settings",
    "Compare with last year",
    "Three sites surveyed",
    "Open questions remain",
    "Budget on track",
    "See appendix B",
    "Thanks to the team",
    "Numbers are preliminary",
    "Source: internal archive",
]
FILENAMES = [
    "IMG_2041.JPG",
    "DSC00417.jpg",
    "scan_0032.png",
    "wallpaper.png",
    "photo (3).jpg",
    "Screenshot_20190714.png",
    "export-final-v2.webp",
    "download.jpeg",
    "image001.png",
    "P1030522.JPG",
]
APPS = ["Image Viewer", "Photos", "Gallery", "Preview", "Shotwell-ish", "Viewer"]
REDACT_STYLES = ["black", "pixelate", "blur"]

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
RESAMPLE = {
    "lanczos": Image.LANCZOS,
    "bicubic": Image.BICUBIC,
    "bilinear": Image.BILINEAR,
    "nearest": Image.NEAREST,
    "box": Image.BOX,
}

_FONT_CACHE = {}


def font(size):
    size = max(7, int(round(size)))
    f = _FONT_CACHE.get(size)
    if f is None:
        try:
            f = ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: bitmap font only
            f = ImageFont.load_default()
        _FONT_CACHE[size] = f
    return f


def r4(x):
    return float(round(float(x), 4))


def hexc(c):
    return "#%02x%02x%02x" % tuple(int(v) for v in c[:3])


def unhex(s):
    s = s.lstrip("#")
    return tuple(int(s[i : i + 2], 16) for i in (0, 2, 4))


def rand_colour(rng, kind="any"):
    if kind == "dark":
        return hexc([rng.randint(0, 70) for _ in range(3)])
    if kind == "light":
        return hexc([rng.randint(190, 255) for _ in range(3)])
    return hexc([rng.randint(0, 255) for _ in range(3)])


def pick_fill(rng):
    u = rng.random()
    if u < 0.45:
        return "#000000"
    if u < 0.7:
        return "#ffffff"
    return rand_colour(rng)


def seed_int(*parts):
    return zlib.crc32("|".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def flatten(img, colour="#ffffff"):
    if img.mode == "RGBA":
        bg = Image.new("RGB", img.size, unhex(colour))
        bg.paste(img, mask=img.getchannel("A"))
        return bg
    return img.convert("RGB")


def to_rgb(img):
    return flatten(img) if img.mode == "RGBA" else img.convert("RGB")


def text_size(draw, text, fnt, stroke=0):
    b = draw.textbbox((0, 0), text, font=fnt, stroke_width=stroke)
    return b[2] - b[0], b[3] - b[1], b


def fit_font(draw, text, max_w, size, min_size=8, stroke_frac=0.0):
    size = int(size)
    while size > min_size:
        f = font(size)
        w, _, _ = text_size(draw, text, f, int(size * stroke_frac))
        if w <= max_w:
            return f, size
        size = int(size * 0.92)
    return font(min_size), min_size


def wrap(draw, text, fnt, max_w):
    words = text.split()
    lines, cur = [], ""
    for w in words:
        t = (cur + " " + w).strip()
        if cur and text_size(draw, t, fnt)[0] > max_w:
            lines.append(cur)
            cur = w
        else:
            cur = t
    if cur:
        lines.append(cur)
    return lines


def draw_text(draw, xy, text, fnt, fill, stroke=0, stroke_fill=None, anchor="la"):
    draw.text(
        xy, text, font=fnt, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill, anchor=anchor
    )


def composite(base, layer, opacity=1.0):
    """alpha-composite an RGBA layer (same size) onto base (RGB/RGBA)."""
    if opacity < 1.0:
        a = layer.getchannel("A").point(lambda v: int(v * opacity))
        layer = layer.copy()
        layer.putalpha(a)
    had_alpha = base.mode == "RGBA"
    b = base.convert("RGBA")
    b.alpha_composite(layer)
    return b if had_alpha else b.convert("RGB")


def resize_to(img, w, h, resample=Image.LANCZOS):
    w, h = max(1, int(round(w))), max(1, int(round(h)))
    if (w, h) == img.size:
        return img
    return img.resize((w, h), resample)


def fit_in(img, box_w, box_h, resample=Image.LANCZOS):
    s = min(box_w / img.width, box_h / img.height)
    return resize_to(img, img.width * s, img.height * s, resample)


def cover(img, w, h, resample=Image.LANCZOS):
    s = max(w / img.width, h / img.height)
    im = resize_to(img, img.width * s, img.height * s, resample)
    x = (im.width - w) // 2
    y = (im.height - h) // 2
    return im.crop((x, y, x + w, y + h))


def frac_crop(img, box):
    W, H = img.size
    x0, y0, x1, y1 = box
    return img.crop(
        (int(round(x0 * W)), int(round(y0 * H)), int(round(x1 * W)), int(round(y1 * H)))
    )


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------
def encode(img, fmt, quality=None, extra=None):
    """Return encoded bytes."""
    extra = extra or {}
    buf = io.BytesIO()
    if fmt == "jpg":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = to_rgb(img)
        kw = {"quality": int(quality or 90)}
        if "subsampling" in extra:
            kw["subsampling"] = int(extra["subsampling"])
        if extra.get("progressive"):
            kw["progressive"] = True
        if "exif" in extra:
            kw["exif"] = extra["exif"]
        img.save(buf, "JPEG", **kw)
    elif fmt == "webp":
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        if extra.get("lossless"):
            img.save(buf, "WEBP", lossless=True, quality=80, method=4)
        else:
            img.save(buf, "WEBP", quality=int(quality or 85), method=4)
    elif fmt == "png":
        if img.mode not in ("RGB", "RGBA", "L", "P", "LA"):
            img = img.convert("RGB")
        img.save(buf, "PNG", compress_level=6)
    else:
        raise ValueError(fmt)
    return buf.getvalue()


def decode(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def roundtrip(img, fmt, quality, extra=None):
    out = decode(encode(img, fmt, quality, extra))
    if out.mode not in ("RGB", "RGBA", "L"):
        out = out.convert("RGB")
    return out


def plan_format(rng, alpha_ok=False):
    u = rng.random()
    if u < 0.55:
        return {"format": "jpg", "quality": rng.randint(72, 95)}
    if u < 0.78:
        return {"format": "png"}
    return {"format": "webp", "quality": rng.randint(70, 92)}


# --------------------------------------------------------------------------
# Drawing of synthetic overlays: stickers, logos
# --------------------------------------------------------------------------
def sticker(kind, size, angle, colour_seed):
    S = size * 4
    im = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    m = S * 0.06
    if kind in ("smiley", "laugh", "cool"):
        d.ellipse(
            (m, m, S - m, S - m),
            fill=(255, 204, 51, 255),
            outline=(225, 140, 20, 255),
            width=int(S * 0.03),
        )
        if kind == "cool":
            d.rounded_rectangle(
                (S * 0.2, S * 0.3, S * 0.47, S * 0.45), radius=S * 0.05, fill=(20, 20, 20, 255)
            )
            d.rounded_rectangle(
                (S * 0.53, S * 0.3, S * 0.8, S * 0.45), radius=S * 0.05, fill=(20, 20, 20, 255)
            )
            d.line(
                (S * 0.45, S * 0.34, S * 0.55, S * 0.34),
                fill=(20, 20, 20, 255),
                width=int(S * 0.03),
            )
        else:
            d.ellipse((S * 0.3, S * 0.28, S * 0.4, S * 0.45), fill=(80, 50, 10, 255))
            d.ellipse((S * 0.6, S * 0.28, S * 0.7, S * 0.45), fill=(80, 50, 10, 255))
        if kind == "laugh":
            d.chord((S * 0.25, S * 0.4, S * 0.75, S * 0.82), 0, 180, fill=(120, 30, 30, 255))
            d.ellipse((S * 0.08, S * 0.42, S * 0.22, S * 0.62), fill=(80, 170, 255, 255))
            d.ellipse((S * 0.78, S * 0.42, S * 0.92, S * 0.62), fill=(80, 170, 255, 255))
        else:
            d.arc(
                (S * 0.27, S * 0.38, S * 0.73, S * 0.78),
                20,
                160,
                fill=(80, 50, 10, 255),
                width=int(S * 0.05),
            )
    elif kind == "heart":
        c = (230, 30, 70, 255)
        d.ellipse((S * 0.08, S * 0.15, S * 0.52, S * 0.6), fill=c)
        d.ellipse((S * 0.48, S * 0.15, S * 0.92, S * 0.6), fill=c)
        d.polygon([(S * 0.11, S * 0.47), (S * 0.89, S * 0.47), (S * 0.5, S * 0.92)], fill=c)
    elif kind == "star":
        pts = []
        for i in range(10):
            r = S * (0.46 if i % 2 == 0 else 0.19)
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((S / 2 + r * math.cos(a), S / 2 + r * math.sin(a)))
        d.polygon(pts, fill=(255, 200, 0, 255), outline=(200, 120, 0, 255))
    elif kind == "badge":
        rr = random.Random(colour_seed)
        col = (rr.randint(120, 255), rr.randint(0, 90), rr.randint(40, 200), 255)
        d.ellipse((m, m, S - m, S - m), fill=col, outline=(255, 255, 255, 255), width=int(S * 0.04))
        txt = rr.choice(["NEW", "100", "LOL", "WOW", "OMG", "#1"])
        f, _ = fit_font(d, txt, S * 0.7, S * 0.35)
        draw_text(d, (S / 2, S / 2), txt, f, (255, 255, 255, 255), anchor="mm")
    im = im.resize((size, size), Image.LANCZOS)
    if angle:
        im = im.rotate(angle, resample=Image.BICUBIC, expand=True)
    return im


def logo_image(text, word, shape, colour, h):
    """A fictional broadcaster / brand logo, RGBA, height h."""
    S = 4
    H = h * S
    f = font(H * 0.55)
    tmp = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    tw, th, _ = text_size(tmp, text, f)
    bw = max(H, tw + H * 0.5)
    wf = font(H * 0.45)
    ww = text_size(tmp, word, wf)[0] + H * 0.3 if word else 0
    im = Image.new("RGBA", (int(bw + ww + H * 0.1), int(H)), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    col = unhex(colour) + (255,)
    if shape == "circle":
        bw = H
        f, _ = fit_font(d, text, H * 0.78, H * 0.5)
        d.ellipse((0, 0, H - 1, H - 1), fill=col)
    elif shape == "round":
        d.rounded_rectangle((0, 0, bw - 1, H - 1), radius=H * 0.25, fill=col)
    else:
        d.rectangle((0, 0, bw - 1, H - 1), fill=col)
    draw_text(d, (bw / 2, H / 2), text, f, (255, 255, 255, 255), anchor="mm")
    if word:
        draw_text(
            d,
            (bw + H * 0.15, H / 2),
            word,
            wf,
            col,
            stroke=int(H * 0.03),
            stroke_fill=(255, 255, 255, 255),
            anchor="lm",
        )
        im = im.crop((0, 0, int(bw + ww + H * 0.1), int(H)))
    else:
        im = im.crop((0, 0, int(bw), int(H)))
    return im.resize((max(1, im.width // S), max(1, im.height // S)), Image.LANCZOS)


# --------------------------------------------------------------------------
# Edits: each has a planner (rng, ctx) -> params and a renderer
# (img, params, nrng) -> img.  ctx: {"w","h","alpha","kind"} of the input.
# --------------------------------------------------------------------------
def aspect_of(ctx):
    return ctx["w"] / ctx["h"]


# ---- size / compression ----
def plan_resize_recompress(rng, ctx):
    u = rng.random()
    if u < 0.7:
        s = rng.uniform(0.3, 0.9)
    elif u < 0.85 and max(ctx["w"], ctx["h"]) <= 1100:
        s = rng.uniform(1.15, 1.7)
    else:
        s = rng.choice([1024, 800, 640, 512]) / max(ctx["w"], ctx["h"])
    s = min(s, 2.0)
    p = {
        "scale": r4(s),
        "resample": rng.choice(["lanczos", "bicubic", "bilinear", "bilinear", "box", "nearest"]),
    }
    v = rng.random()
    if v < 0.55:
        p.update(
            {
                "format": "jpg",
                "quality": rng.randint(55, 92),
                "subsampling": rng.choice([0, 2, 2]),
                "progressive": rng.random() < 0.3,
            }
        )
    elif v < 0.9:
        p.update({"format": "webp", "quality": rng.randint(40, 90)})
    else:
        p.update({"format": "png"})
    return p


def do_resize(img, p, nrng):
    s = p["scale"]
    return resize_to(img, img.width * s, img.height * s, RESAMPLE[p.get("resample", "lanczos")])


def plan_thumbnail(rng, ctx):
    p = {"long_side": rng.randint(96, 200), "resample": rng.choice(["lanczos", "bicubic", "box"])}
    p.update(plan_format(rng))
    if p["format"] == "jpg":
        p["quality"] = rng.randint(60, 90)
    return p


def do_thumbnail(img, p, nrng):
    s = p["long_side"] / max(img.size)
    return resize_to(img, img.width * s, img.height * s, RESAMPLE[p["resample"]])


def plan_jpeg_heavy(rng, ctx):
    p = {"quality": rng.randint(5, 20), "format": "jpg", "subsampling": 2}
    p["scale"] = 1.0 if rng.random() < 0.5 else r4(rng.uniform(0.5, 0.9))
    return p


def do_scale_only(img, p, nrng):
    s = p.get("scale", 1.0)
    if s == 1.0:
        return img
    return resize_to(img, img.width * s, img.height * s)


def plan_jpeg_generations(rng, ctx):
    n = rng.randint(3, 8)
    gens = []
    for _ in range(n):
        gens.append(
            [rng.randint(55, 85), 1.0 if rng.random() < 0.5 else r4(rng.uniform(0.85, 0.99))]
        )
    return {"generations": gens, "format": "jpg", "quality": gens[-1][0]}


def do_jpeg_generations(img, p, nrng):
    img = to_rgb(img)
    for q, s in p["generations"][:-1]:
        if s != 1.0:
            img = resize_to(img, img.width * s, img.height * s, Image.BILINEAR)
        img = roundtrip(img, "jpg", q)
    s = p["generations"][-1][1]
    if s != 1.0:
        img = resize_to(img, img.width * s, img.height * s, Image.BILINEAR)
    return img


def plan_webp_heavy(rng, ctx):
    return {
        "format": "webp",
        "quality": rng.randint(3, 20),
        "scale": 1.0 if rng.random() < 0.5 else r4(rng.uniform(0.5, 0.9)),
    }


def plan_cmyk_jpeg(rng, ctx):
    return {"format": "jpg", "quality": rng.randint(80, 95), "cmyk": True}


def do_cmyk(img, p, nrng):
    return to_rgb(img).convert("CMYK")


def plan_exif_orientation(rng, ctx):
    return {"format": "jpg", "quality": rng.randint(82, 95), "orientation": rng.choice([6, 8, 3])}


def do_exif_orientation(img, p, nrng):
    # store the pixels turned so that a viewer that honours EXIF shows it upright
    o = p["orientation"]
    t = {
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }[o]
    return to_rgb(img).transpose(t)


def plan_quantize(rng, ctx):
    return {
        "colours": rng.choice([16, 32, 64, 128, 256]),
        "dither": rng.random() < 0.5,
        "format": "png",
    }


def do_quantize(img, p, nrng):
    img = to_rgb(img)
    q = img.quantize(
        colors=p["colours"],
        method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.FLOYDSTEINBERG if p["dither"] else Image.Dither.NONE,
    )
    return q.convert("RGB")


def plan_downscale_upscale(rng, ctx):
    p = {"factor": r4(rng.uniform(0.1, 0.3)), "up": rng.choice(["nearest", "bilinear", "bicubic"])}
    p.update(plan_format(rng))
    return p


def do_downscale_upscale(img, p, nrng):
    W, H = img.size
    small = resize_to(img, W * p["factor"], H * p["factor"], Image.BOX)
    return small.resize((W, H), RESAMPLE[p["up"]])


def plan_alpha_flatten(rng, ctx):
    return {
        "colour": rng.choice(
            [
                "#000000",
                "#808080",
                rand_colour(rng, "dark"),
                rand_colour(rng, "light"),
                rand_colour(rng),
            ]
        ),
        "format": "jpg",
        "quality": rng.randint(80, 95),
    }


def do_alpha_flatten(img, p, nrng):
    return flatten(img, p["colour"])


# ---- geometry ----
def plan_crop(rng, ctx, amin=0.5, amax=0.95):
    a = rng.uniform(amin, amax)
    r = math.exp(rng.uniform(math.log(0.75), math.log(1.33)))
    cw = min(1.0, math.sqrt(a * r))
    ch = min(1.0, a / cw)
    x0 = rng.uniform(0, 1 - cw)
    y0 = rng.uniform(0, 1 - ch)
    return {"box": [r4(x0), r4(y0), r4(x0 + cw), r4(y0 + ch)], "area": r4(cw * ch)}


def do_crop(img, p, nrng):
    return frac_crop(img, p["box"])


ASPECTS = {
    "1:1": 1.0,
    "4:5": 0.8,
    "9:16": 9 / 16,
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "3:4": 0.75,
    "2:1": 2.0,
    "3:2": 1.5,
}


def plan_crop_aspect(rng, ctx):
    a0 = aspect_of(ctx)
    opts = []
    for name, a in ASPECTS.items():
        area = min(a, a0) / max(a, a0)
        if 0.5 <= area <= 0.93:
            opts.append(name)
    if not opts:
        return None
    name = rng.choice(opts)
    a = ASPECTS[name]
    if a < a0:  # narrower: full height
        cw, ch = a / a0, 1.0
    else:
        cw, ch = 1.0, a0 / a
    t = rng.choice([0.5, 0.5, rng.uniform(0, 1)])
    x0 = (1 - cw) * t
    y0 = (1 - ch) * t
    p = {"aspect": name, "box": [r4(x0), r4(y0), r4(x0 + cw), r4(y0 + ch)], "area": r4(cw * ch)}
    if rng.random() < 0.5:
        p["resize_width"] = rng.choice([1080, 720, 640])
    p.update(plan_format(rng))
    return p


def do_crop_aspect(img, p, nrng):
    im = frac_crop(img, p["box"])
    if "resize_width" in p:
        s = p["resize_width"] / im.width
        im = resize_to(im, im.width * s, im.height * s)
    return im


def plan_trim_edges(rng, ctx):
    edges = rng.sample(["left", "top", "right", "bottom"], rng.randint(1, 3))
    return {"trim": {e: r4(rng.uniform(0.01, 0.06)) for e in sorted(edges)}}


def do_trim_edges(img, p, nrng):
    t = p["trim"]
    return frac_crop(
        img, (t.get("left", 0), t.get("top", 0), 1 - t.get("right", 0), 1 - t.get("bottom", 0))
    )


def plan_stretch(rng, ctx):
    f = rng.choice([rng.uniform(0.65, 0.88), rng.uniform(1.12, 1.5)])
    if rng.random() < 0.5:
        return {"sx": r4(f), "sy": 1.0}
    return {"sx": 1.0, "sy": r4(f)}


def do_stretch(img, p, nrng):
    return resize_to(img, img.width * p["sx"], img.height * p["sy"], Image.BICUBIC)


def rotated_crop_k(w, h, deg):
    t = math.radians(abs(deg))
    c, s = math.cos(t), math.sin(t)
    return min(w / (w * c + h * s), h / (w * s + h * c))


def plan_rotate_crop(rng, ctx, amax=25.0):
    w, h = ctx["w"], ctx["h"]
    ang = rng.uniform(1, amax)
    while rotated_crop_k(w, h, ang) ** 2 < 0.4 and ang > 2:
        ang *= 0.85
    ang = r4(ang * rng.choice([-1, 1]))
    k = rotated_crop_k(w, h, ang)
    return {"angle": ang, "kept_area": r4(k * k)}


def do_rotate_crop(img, p, nrng):
    w, h = img.size
    k = rotated_crop_k(w, h, p["angle"])
    r = img.rotate(p["angle"], resample=Image.BICUBIC, expand=True)
    cw, ch = w * k, h * k
    x0 = (r.width - cw) / 2
    y0 = (r.height - ch) / 2
    return r.crop((int(math.ceil(x0)), int(math.ceil(y0)), int(x0 + cw), int(y0 + ch)))


def plan_rotate_fill(rng, ctx, amax=25.0):
    return {"angle": r4(rng.uniform(1, amax) * rng.choice([-1, 1])), "fill": pick_fill(rng)}


def do_rotate_fill(img, p, nrng):
    img = to_rgb(img)
    return img.rotate(p["angle"], resample=Image.BICUBIC, expand=True, fillcolor=unhex(p["fill"]))


def plan_rot90(rng, ctx):
    return {"angle": rng.choice([90, 180, 270])}


def do_rot90(img, p, nrng):
    return img.transpose(
        {
            90: Image.Transpose.ROTATE_90,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_270,
        }[p["angle"]]
    )


def plan_mirror(rng, ctx):
    return {"axis": "horizontal" if rng.random() < 0.8 else "vertical"}


def do_mirror(img, p, nrng):
    return ImageOps.mirror(img) if p["axis"] == "horizontal" else ImageOps.flip(img)


def plan_perspective(rng, ctx):
    d = rng.uniform(0.02, 0.09)
    pattern = rng.choice(["tilt_lr", "tilt_tb", "random"])
    c = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]  # tl tr br bl
    if pattern == "tilt_lr":
        side = rng.choice([0, 1])
        if side == 0:
            c[0][1] += d
            c[3][1] -= d
        else:
            c[1][1] += d
            c[2][1] -= d
    elif pattern == "tilt_tb":
        if rng.random() < 0.5:
            c[0][0] += d
            c[1][0] -= d
        else:
            c[3][0] += d
            c[2][0] -= d
    else:
        for q in c:
            q[0] += (
                rng.uniform(-d, d)
                if 0 < q[0] < 1
                else (rng.uniform(0, d) if q[0] == 0 else -rng.uniform(0, d))
            )
            q[1] += rng.uniform(0, d) if q[1] == 0 else -rng.uniform(0, d)
    mode = rng.choice(["fill", "fill", "crop"])
    return {
        "corners": [[r4(a), r4(b)] for a, b in c],
        "d": r4(d),
        "pattern": pattern,
        "mode": mode,
        "fill": pick_fill(rng),
    }


def perspective_coeffs(dst, src):
    A, B = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        B.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        B.append(v)
    return np.linalg.solve(np.array(A, float), np.array(B, float)).tolist()


def do_perspective(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    dst = [(x * W, y * H) for x, y in p["corners"]]
    src = [(0, 0), (W, 0), (W, H), (0, H)]
    co = perspective_coeffs(dst, src)
    out = img.transform((W, H), Image.PERSPECTIVE, co, Image.BICUBIC, fillcolor=unhex(p["fill"]))
    if p["mode"] == "crop":
        c = p["corners"]
        x0 = max(c[0][0], c[3][0])
        x1 = min(c[1][0], c[2][0])
        y0 = max(c[0][1], c[1][1])
        y1 = min(c[2][1], c[3][1])
        out = frac_crop(out, (x0, y0, x1, y1))
    return out


# ---- borders / padding ----
def plan_letterbox(rng, ctx):
    a0 = aspect_of(ctx)
    opts = [
        n
        for n in ("16:9", "2:1", "3:2", "4:3", "1:1")
        if ASPECTS[n] > a0 * 1.08 and ASPECTS[n] < a0 * 2.6
    ]
    if not opts:
        return None
    return {
        "target": rng.choice(opts),
        "colour": pick_fill(rng),
        "offset": 0.5 if rng.random() < 0.8 else r4(rng.uniform(0.1, 0.9)),
    }


def plan_pillarbox(rng, ctx):
    a0 = aspect_of(ctx)
    opts = [
        n
        for n in ("4:3", "1:1", "4:5", "9:16", "3:4")
        if ASPECTS[n] < a0 / 1.08 and ASPECTS[n] > a0 / 2.6
    ]
    if not opts:
        return None
    return {
        "target": rng.choice(opts),
        "colour": pick_fill(rng),
        "offset": 0.5 if rng.random() < 0.8 else r4(rng.uniform(0.1, 0.9)),
    }


def pad_to(img, target, colour, offset=0.5):
    img = to_rgb(img)
    W, H = img.size
    a = ASPECTS[target] if isinstance(target, str) else target
    if W / H < a:
        NW, NH = int(round(H * a)), H
    else:
        NW, NH = W, int(round(W / a))
    out = Image.new("RGB", (NW, NH), unhex(colour))
    out.paste(img, (int((NW - W) * offset), int((NH - H) * offset)))
    return out


def do_pad(img, p, nrng):
    return pad_to(img, p["target"], p["colour"], p.get("offset", 0.5))


def plan_pad_square(rng, ctx):
    if abs(aspect_of(ctx) - 1) < 0.06:
        return None
    return {"target": "1:1", "colour": pick_fill(rng), "offset": 0.5}


def plan_frame_border(rng, ctx):
    p = {"width": r4(rng.uniform(0.01, 0.12)), "colour": pick_fill(rng)}
    if rng.random() < 0.3:
        p["inner"] = {"width": r4(rng.uniform(0.003, 0.012)), "colour": pick_fill(rng)}
    return p


def do_frame_border(img, p, nrng):
    img = to_rgb(img)
    L = max(img.size)
    if "inner" in p:
        iw = max(1, int(p["inner"]["width"] * L))
        img = ImageOps.expand(img, iw, unhex(p["inner"]["colour"]))
    bw = max(1, int(p["width"] * L))
    return ImageOps.expand(img, bw, unhex(p["colour"]))


def plan_blur_pad(rng, ctx):
    a0 = aspect_of(ctx)
    opts = [n for n in ("9:16", "1:1", "16:9", "4:5") if abs(math.log(ASPECTS[n] / a0)) > 0.15]
    return {
        "target": rng.choice(opts),
        "blur": r4(rng.uniform(0.02, 0.06)),
        "darken": r4(rng.uniform(0.55, 0.95)),
        "long_side": rng.choice([1080, 1280, 1920]),
    }


def do_blur_pad(img, p, nrng):
    img = to_rgb(img)
    a = ASPECTS[p["target"]]
    L = p["long_side"]
    CW, CH = (L, int(L / a)) if a >= 1 else (int(L * a), L)
    bg = cover(img, CW, CH)
    bg = bg.filter(ImageFilter.GaussianBlur(p["blur"] * L))
    bg = ImageEnhance.Brightness(bg).enhance(p["darken"])
    fg = fit_in(img, CW, CH)
    bg.paste(fg, ((CW - fg.width) // 2, (CH - fg.height) // 2))
    return bg


# ---- overlays ----
def plan_caption_bar(rng, ctx):
    return {
        "text": rng.choice(CAPTIONS),
        "position": "top" if rng.random() < 0.7 else "bottom",
        "bar": "#ffffff" if rng.random() < 0.7 else "#000000",
        "size": r4(rng.uniform(0.045, 0.075)),
        "align": rng.choice(["left", "center"]),
    }


def do_caption_bar(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    bar = unhex(p["bar"])
    tc = (0, 0, 0) if p["bar"] == "#ffffff" else (255, 255, 255)
    d0 = ImageDraw.Draw(img)
    f = font(max(12, p["size"] * math.sqrt(W * H) * 1.1))
    lines = wrap(d0, p["text"], f, W * 0.9)
    lh = int(f.size * 1.3)
    bh = int(lh * len(lines) + f.size * 1.2)
    out = Image.new("RGB", (W, H + bh), bar)
    out.paste(img, (0, bh if p["position"] == "top" else 0))
    d = ImageDraw.Draw(out)
    y0 = (0 if p["position"] == "top" else H) + int(f.size * 0.6)
    for i, ln in enumerate(lines):
        if p["align"] == "center":
            draw_text(d, (W / 2, y0 + i * lh), ln, f, tc, anchor="ma")
        else:
            draw_text(d, (W * 0.05, y0 + i * lh), ln, f, tc)
    return out


def plan_meme_text(rng, ctx):
    top, bottom = rng.choice(MEME)
    which = rng.choice(["both", "both", "top", "bottom"])
    return {
        "top": top if which != "bottom" else "",
        "bottom": bottom if which != "top" else "",
        "size": r4(rng.uniform(0.07, 0.12)),
    }


def do_meme_text(img, p, nrng):
    img = to_rgb(img).copy()
    W, H = img.size
    d = ImageDraw.Draw(img)
    for key, ypos in (("top", 0.03), ("bottom", 0.97)):
        t = p[key]
        if not t:
            continue
        f, sz = fit_font(d, t, W * 0.94, p["size"] * H, stroke_frac=0.08)
        st = max(1, int(sz * 0.08))
        anchor = "ma" if key == "top" else "md"
        draw_text(
            d,
            (W / 2, H * ypos),
            t,
            f,
            (255, 255, 255),
            stroke=st,
            stroke_fill=(0, 0, 0),
            anchor=anchor,
        )
    return img


def plan_text_overlay(rng, ctx):
    t = rng.choice(
        CAPTIONS
        + ["#" + rng.choice(["nofilter", "sunset", "tbt", "wow", "nature"]), rng.choice(FILENAMES)]
    )
    return {
        "text": t,
        "x": r4(rng.uniform(0.03, 0.6)),
        "y": r4(rng.uniform(0.03, 0.9)),
        "size": r4(rng.uniform(0.035, 0.08)),
        "colour": rng.choice(["#ffffff", "#000000", "#ffff00", rand_colour(rng)]),
        "style": rng.choice(["plain", "shadow", "box", "outline"]),
    }


def do_text_overlay(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    f = font(max(10, p["size"] * max(W, H) * 0.8))
    lines = wrap(d, p["text"], f, W * (0.95 - p["x"]))
    x, y = p["x"] * W, p["y"] * H
    lh = f.size * 1.25
    y = min(y, H - lh * len(lines) - 2)
    col = unhex(p["colour"]) + (255,)
    inv = (0, 0, 0, 255) if sum(col[:3]) > 380 else (255, 255, 255, 255)
    for i, ln in enumerate(lines):
        yy = y + i * lh
        if p["style"] == "box":
            b = d.textbbox((x, yy), ln, font=f)
            d.rectangle((b[0] - 6, b[1] - 4, b[2] + 6, b[3] + 4), fill=inv[:3] + (150,))
        if p["style"] == "shadow":
            draw_text(
                d, (x + max(1, f.size // 12), yy + max(1, f.size // 12)), ln, f, (0, 0, 0, 180)
            )
        st = max(1, f.size // 14) if p["style"] == "outline" else 0
        draw_text(d, (x, yy), ln, f, col, stroke=st, stroke_fill=inv)
    return composite(img, layer)


def plan_logo(rng, ctx):
    return {
        "text": rng.choice(LOGOS),
        "word": rng.choice(WORDMARKS + ["", ""]),
        "shape": rng.choice(["circle", "round", "square"]),
        "colour": rand_colour(rng, "dark")
        if rng.random() < 0.4
        else rng.choice(["#d01010", "#1050d0", "#10a040", "#f08000"]),
        "height": r4(rng.uniform(0.06, 0.14)),
        "corner": rng.choice(["tl", "tr", "bl", "br"]),
        "margin": r4(rng.uniform(0.02, 0.05)),
        "opacity": r4(rng.choice([1.0, 1.0, rng.uniform(0.55, 0.9)])),
    }


def do_logo(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    lg = logo_image(p["text"], p["word"], p["shape"], p["colour"], max(12, int(p["height"] * H)))
    if lg.width > W * 0.5:
        lg = resize_to(lg, W * 0.5, lg.height * W * 0.5 / lg.width)
    m = int(p["margin"] * min(W, H))
    x = m if p["corner"][1] == "l" else W - lg.width - m
    y = m if p["corner"][0] == "t" else H - lg.height - m
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    layer.paste(lg, (x, y))
    return composite(img, layer, p["opacity"])


def plan_stickers(rng, ctx):
    n = rng.randint(1, 4)
    items = []
    for _ in range(n):
        items.append(
            {
                "type": rng.choice(["smiley", "laugh", "cool", "heart", "star", "badge"]),
                "size": r4(rng.uniform(0.08, 0.22)),
                "x": r4(rng.uniform(0, 0.85)),
                "y": r4(rng.uniform(0, 0.85)),
                "angle": rng.randint(-30, 30),
                "seed": rng.randint(0, 10**6),
            }
        )
    return {"items": items}


def do_stickers(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    for it in p["items"]:
        s = max(10, int(it["size"] * min(W, H)))
        st = sticker(it["type"], s, it["angle"], it["seed"])
        x, y = int(it["x"] * W), int(it["y"] * H)
        x = min(x, W - st.width // 2)
        y = min(y, H - st.height // 2)
        tmp = Image.new("RGBA", img.size, (0, 0, 0, 0))
        tmp.paste(st, (x, y))
        layer.alpha_composite(tmp)
    return composite(img, layer)


def plan_watermark(rng, ctx):
    mode = rng.choice(["tiled", "tiled", "centre", "corner"])
    p = {
        "text": rng.choice(WATERMARKS),
        "mode": mode,
        "colour": "#ffffff" if rng.random() < 0.7 else "#000000",
    }
    if mode == "tiled":
        p.update(
            {
                "opacity": r4(rng.uniform(0.15, 0.4)),
                "angle": rng.randint(15, 45),
                "size": r4(rng.uniform(0.04, 0.08)),
            }
        )
    elif mode == "centre":
        p.update(
            {
                "opacity": r4(rng.uniform(0.2, 0.45)),
                "angle": rng.choice([0, 0, rng.randint(10, 35)]),
                "size": r4(rng.uniform(0.1, 0.18)),
            }
        )
    else:
        p.update(
            {
                "opacity": r4(rng.uniform(0.4, 0.75)),
                "angle": 0,
                "size": r4(rng.uniform(0.035, 0.06)),
                "corner": rng.choice(["br", "bl", "tr"]),
            }
        )
    return p


def do_watermark(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    col = unhex(p["colour"]) + (255,)
    if p["mode"] == "tiled":
        D = int(math.hypot(W, H)) + 10
        layer = Image.new("RGBA", (D, D), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        f = font(max(10, p["size"] * max(W, H)))
        tw, th, _ = text_size(d, p["text"], f)
        sx, sy = int(tw * 1.5) + 10, int(th * 3.5) + 10
        for j, y in enumerate(range(0, D, sy)):
            for x in range(-(j % 2) * sx // 2, D, sx):
                draw_text(d, (x, y), p["text"], f, col)
        layer = layer.rotate(p["angle"], resample=Image.BICUBIC)
        x0, y0 = (D - W) // 2, (D - H) // 2
        layer = layer.crop((x0, y0, x0 + W, y0 + H))
    elif p["mode"] == "centre":
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        f, _ = fit_font(d, p["text"], W * 0.85, p["size"] * max(W, H))
        draw_text(d, (W / 2, H / 2), p["text"], f, col, anchor="mm")
        if p["angle"]:
            layer = layer.rotate(p["angle"], resample=Image.BICUBIC)
    else:
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        f = font(max(10, p["size"] * max(W, H)))
        m = 0.025 * min(W, H)
        xy = {"br": (W - m, H - m), "bl": (m, H - m), "tr": (W - m, m)}[p["corner"]]
        anchor = {"br": "rd", "bl": "ld", "tr": "ra"}[p["corner"]]
        draw_text(d, xy, p["text"], f, col, anchor=anchor)
    return composite(img, layer, p["opacity"])


def plan_timestamp(rng, ctx):
    y, mo, da = rng.randint(2004, 2023), rng.randint(1, 12), rng.randint(1, 28)
    hh, mi = rng.randint(0, 23), rng.randint(0, 59)
    style = rng.choice(["camera", "phone"])
    if style == "camera":
        text = (
            "'%02d %d %d" % (y % 100, mo, da)
            if rng.random() < 0.5
            else "%04d/%02d/%02d %02d:%02d" % (y, mo, da, hh, mi)
        )
    else:
        text = "%04d-%02d-%02d %02d:%02d:%02d" % (y, mo, da, hh, mi, rng.randint(0, 59))
    return {"text": text, "style": style, "size": r4(rng.uniform(0.035, 0.06))}


def do_timestamp(img, p, nrng):
    img = to_rgb(img)
    W, H = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    f = font(max(10, p["size"] * max(W, H)))
    m = 0.03 * min(W, H)
    if p["style"] == "camera":
        glow = layer.copy()
        gd = ImageDraw.Draw(glow)
        draw_text(
            gd,
            (W - m, H - m),
            p["text"],
            f,
            (120, 40, 0, 200),
            stroke=max(1, f.size // 10),
            stroke_fill=(120, 40, 0, 160),
            anchor="rd",
        )
        glow = glow.filter(ImageFilter.GaussianBlur(max(1, f.size / 10)))
        layer.alpha_composite(glow)
        draw_text(d, (W - m, H - m), p["text"], f, (255, 150, 30, 255), anchor="rd")
    else:
        draw_text(d, (m + 2, H - m + 2), p["text"], f, (0, 0, 0, 160), anchor="ld")
        draw_text(d, (m, H - m), p["text"], f, (255, 255, 255, 255), anchor="ld")
    return composite(img, layer)


def plan_redact(rng, ctx):
    boxes = []
    for _ in range(rng.randint(1, 2)):
        a = rng.uniform(0.02, 0.07)
        r = rng.uniform(0.5, 2.0)
        w = min(0.6, math.sqrt(a * r))
        h = min(0.6, a / w)
        x = rng.uniform(0.05, 0.95 - w)
        y = rng.uniform(0.05, 0.95 - h)
        boxes.append([r4(x), r4(y), r4(x + w), r4(y + h)])
    return {"boxes": boxes, "style": rng.choice(REDACT_STYLES)}


def do_redact(img, p, nrng):
    img = to_rgb(img).copy()
    W, H = img.size
    for b in p["boxes"]:
        box = (int(b[0] * W), int(b[1] * H), int(b[2] * W), int(b[3] * H))
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            continue
        reg = img.crop(box)
        if p["style"] == "black":
            reg = Image.new("RGB", reg.size, (0, 0, 0))
        elif p["style"] == "pixelate":
            small = resize_to(reg, max(1, reg.width // 12), max(1, reg.height // 12), Image.BOX)
            reg = small.resize(reg.size, Image.NEAREST)
        else:
            reg = reg.filter(ImageFilter.GaussianBlur(max(3, reg.width / 8)))
        img.paste(reg, box[:2])
    return img


# ---- colour / tone ----
def plan_hue_shift(rng, ctx):
    return {"degrees": rng.choice([-1, 1]) * rng.randint(20, 180)}


def do_hue_shift(img, p, nrng):
    img = to_rgb(img)
    hsv = np.array(img.convert("HSV"))
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(round(p["degrees"] / 360 * 256))) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def plan_saturation(rng, ctx):
    return {"factor": r4(rng.choice([rng.uniform(0.15, 0.6), rng.uniform(1.4, 2.3)]))}


def do_saturation(img, p, nrng):
    return ImageEnhance.Color(to_rgb(img)).enhance(p["factor"])


def plan_greyscale(rng, ctx):
    p = {"method": rng.choice(["luma", "average", "max"]), "save_mode": rng.choice(["L", "RGB"])}
    p.update(plan_format(rng))
    return p


def do_greyscale(img, p, nrng):
    img = to_rgb(img)
    if p["method"] == "luma":
        g = img.convert("L")
    else:
        a = np.asarray(img).astype(np.float32)
        g = Image.fromarray(
            (a.mean(2) if p["method"] == "average" else a.max(2)).round().astype(np.uint8), "L"
        )
    return g if p["save_mode"] == "L" else g.convert("RGB")


def plan_sepia(rng, ctx):
    return {"strength": r4(rng.uniform(0.6, 1.0))}


def do_sepia(img, p, nrng):
    a = np.asarray(to_rgb(img)).astype(np.float32)
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    s = np.clip(a @ m.T, 0, 255)
    out = a * (1 - p["strength"]) + s * p["strength"]
    return Image.fromarray(out.round().astype(np.uint8), "RGB")


def plan_colour_cast(rng, ctx):
    name = rng.choice(["warm", "cool", "green", "magenta", "random"])
    base = {
        "warm": (1.15, 1.0, 0.82),
        "cool": (0.85, 0.97, 1.18),
        "green": (0.9, 1.15, 0.9),
        "magenta": (1.12, 0.86, 1.1),
    }.get(name)
    if base is None:
        base = tuple(rng.uniform(0.78, 1.22) for _ in range(3))
    k = rng.uniform(0.6, 1.4)
    gains = [r4(1 + (g - 1) * k) for g in base]
    return {"cast": name, "gains": gains}


def do_colour_cast(img, p, nrng):
    a = np.asarray(to_rgb(img)).astype(np.float32) * np.array(p["gains"], np.float32)
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8), "RGB")


def plan_brightness(rng, ctx):
    return {"factor": r4(rng.choice([rng.uniform(0.45, 0.8), rng.uniform(1.2, 1.6)]))}


def do_brightness(img, p, nrng):
    return ImageEnhance.Brightness(to_rgb(img)).enhance(p["factor"])


def plan_contrast(rng, ctx):
    return {"factor": r4(rng.choice([rng.uniform(0.45, 0.8), rng.uniform(1.2, 1.8)]))}


def do_contrast(img, p, nrng):
    return ImageEnhance.Contrast(to_rgb(img)).enhance(p["factor"])


def plan_gamma(rng, ctx):
    return {"gamma": r4(rng.choice([rng.uniform(0.45, 0.75), rng.uniform(1.35, 2.2)]))}


def do_gamma(img, p, nrng):
    g = p["gamma"]
    lut = [int(round(255 * (i / 255) ** g)) for i in range(256)]
    return to_rgb(img).point(lut * 3)


def plan_auto_enhance(rng, ctx):
    return {
        "method": rng.choice(["autocontrast", "equalize", "phone"]),
        "cutoff": r4(rng.uniform(0.5, 3.0)),
    }


def do_auto_enhance(img, p, nrng):
    img = to_rgb(img)
    if p["method"] == "autocontrast":
        return ImageOps.autocontrast(img, cutoff=p["cutoff"])
    if p["method"] == "equalize":
        return ImageOps.equalize(img)
    img = ImageOps.autocontrast(img, cutoff=p["cutoff"])
    img = ImageEnhance.Color(img).enhance(1.25)
    return img.filter(ImageFilter.UnsharpMask(2, 60, 2))


# ---- filters ----
def plan_blur(rng, ctx):
    t = rng.choice(["gaussian", "gaussian", "box", "motion"])
    L = max(ctx["w"], ctx["h"])
    return {
        "type": t,
        "radius_px": r4(max(1.0, rng.uniform(0.002, 0.007) * L)),
        "direction": rng.choice(["horizontal", "vertical"]),
    }


def do_blur(img, p, nrng):
    img = to_rgb(img)
    r = p["radius_px"]
    if p["type"] == "gaussian":
        return img.filter(ImageFilter.GaussianBlur(r))
    if p["type"] == "box":
        return img.filter(ImageFilter.BoxBlur(r))
    n = max(3, int(round(r * 3)) | 1)
    a = np.asarray(img).astype(np.float32)
    ax = 1 if p["direction"] == "horizontal" else 0
    pad = [(0, 0)] * 3
    pad[ax] = (n // 2, n // 2)
    ap = np.pad(a, pad, mode="edge")
    c = np.cumsum(ap, axis=ax, dtype=np.float64)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=ax)), c], axis=ax)
    L = a.shape[ax]
    out = (np.take(c, np.arange(n, n + L), axis=ax) - np.take(c, np.arange(0, L), axis=ax)) / n
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8), "RGB")


def plan_noise(rng, ctx):
    t = rng.choice(["gaussian", "gaussian", "grain", "salt_pepper"])
    p = {"type": t}
    if t == "salt_pepper":
        p["amount"] = r4(rng.uniform(0.002, 0.015))
    else:
        p["sigma"] = r4(rng.uniform(4, 22))
    p.update(plan_format(rng))
    return p


def do_noise(img, p, nrng):
    a = np.asarray(to_rgb(img)).astype(np.float32)
    if p["type"] == "gaussian":
        a = a + nrng.normal(0, p["sigma"], a.shape)
    elif p["type"] == "grain":
        a = a + nrng.normal(0, p["sigma"], a.shape[:2])[..., None]
    else:
        m = nrng.random(a.shape[:2])
        a[m < p["amount"] / 2] = 0
        a[m > 1 - p["amount"] / 2] = 255
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8), "RGB")


def plan_sharpen(rng, ctx):
    return {
        "radius": r4(rng.uniform(1, 4)),
        "percent": rng.randint(80, 250),
        "threshold": rng.randint(0, 3),
    }


def do_sharpen(img, p, nrng):
    return to_rgb(img).filter(ImageFilter.UnsharpMask(p["radius"], p["percent"], p["threshold"]))


def plan_vignette(rng, ctx):
    return {
        "strength": r4(rng.uniform(0.3, 0.75)),
        "radius": r4(rng.uniform(0.5, 0.9)),
        "colour": "#000000" if rng.random() < 0.85 else "#ffffff",
    }


def do_vignette(img, p, nrng):
    a = np.asarray(to_rgb(img)).astype(np.float32)
    H, W = a.shape[:2]
    y, x = np.ogrid[:H, :W]
    d = np.sqrt(((x - W / 2) / (W / 2)) ** 2 + ((y - H / 2) / (H / 2)) ** 2) / math.sqrt(2)
    m = np.clip((d - p["radius"] * 0.5) / (1 - p["radius"] * 0.5), 0, 1) ** 2 * p["strength"]
    c = np.array(unhex(p["colour"]), np.float32)
    out = a * (1 - m[..., None]) + c * m[..., None]
    return Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8), "RGB")


# ---- the picture inside a bigger canvas ----
def plan_screenshot(rng, ctx):
    return {
        "screen": rng.choice([[1280, 800], [1366, 768], [1440, 900], [1600, 900], [1280, 1024]]),
        "theme": rng.choice(["dark", "light"]),
        "sidebar": r4(rng.choice([0.0, rng.uniform(0.14, 0.24)])),
        "maximised": rng.random() < 0.6,
        "title": rng.choice(FILENAMES) + " - " + rng.choice(APPS),
        "desktop": rand_colour(rng),
        "zoom": rng.randint(12, 100),
        "index": rng.randint(1, 60),
        "accent": rand_colour(rng),
    }


def do_screenshot(img, p, nrng):
    img = to_rgb(img)
    SW, SH = p["screen"]
    dark = p["theme"] == "dark"
    scr = Image.new("RGB", (SW, SH), unhex(p["desktop"]))
    d = ImageDraw.Draw(scr)
    d.rectangle((0, 0, SW, 26), fill=(30, 30, 30))
    draw_text(
        d, (SW - 10, 13), "Tue 14:%02d" % (p["index"] % 60), font(14), (230, 230, 230), anchor="rm"
    )
    if p["maximised"]:
        wx0, wy0, wx1, wy1 = 0, 26, SW, SH
    else:
        wx0, wy0 = int(SW * 0.06), int(SH * 0.1)
        wx1, wy1 = SW - int(SW * 0.05), SH - int(SH * 0.05)
    panel = (45, 45, 48) if dark else (236, 236, 236)
    text = (220, 220, 220) if dark else (30, 30, 30)
    view_bg = (28, 28, 30) if dark else (250, 250, 250)
    d.rectangle((wx0, wy0, wx1, wy1), fill=panel, outline=(10, 10, 10))
    d.rectangle((wx0, wy0, wx1, wy0 + 32), fill=(60, 60, 64) if dark else (210, 210, 214))
    draw_text(d, ((wx0 + wx1) / 2, wy0 + 16), p["title"], font(15), text, anchor="mm")
    for i, c in enumerate([(237, 94, 88), (246, 190, 79), (98, 197, 84)]):
        d.ellipse((wx1 - 80 + i * 24, wy0 + 9, wx1 - 66 + i * 24, wy0 + 23), fill=c)
    ty = wy0 + 32
    d.rectangle((wx0, ty, wx1, ty + 40), fill=panel)
    acc = unhex(p["accent"])
    for i in range(10):
        x = wx0 + 12 + i * 38
        d.rounded_rectangle(
            (x, ty + 8, x + 26, ty + 32),
            radius=5,
            fill=acc if i in (2, 5) else ((90, 90, 95) if dark else (180, 180, 185)),
        )
    vy0 = ty + 41
    vy1 = wy1 - 26
    sbw = int((wx1 - wx0) * p["sidebar"])
    if sbw:
        d.rectangle((wx0, vy0, wx0 + sbw, vy1), fill=(38, 38, 40) if dark else (242, 242, 242))
        f = font(13)
        for i in range(int((vy1 - vy0) / 26)):
            yy = vy0 + 8 + i * 26
            d.rectangle((wx0 + 8, yy, wx0 + 26, yy + 16), fill=acc if i == 0 else (120, 120, 125))
            draw_text(d, (wx0 + 34, yy), FILENAMES[(i + p["index"]) % len(FILENAMES)], f, text)
    vx0 = wx0 + sbw + 1
    d.rectangle((vx0, vy0, wx1, vy1), fill=view_bg)
    m = 12
    pic = fit_in(img, (wx1 - vx0) - 2 * m, (vy1 - vy0) - 2 * m)
    scr.paste(pic, (vx0 + ((wx1 - vx0) - pic.width) // 2, vy0 + ((vy1 - vy0) - pic.height) // 2))
    d.rectangle((wx0, vy1, wx1, wy1), fill=panel)
    draw_text(
        d,
        (wx0 + 10, vy1 + 13),
        "%d / 60    %d x %d    %d%%" % (p["index"], img.width, img.height, p["zoom"]),
        font(13),
        text,
        anchor="lm",
    )
    return scr


def plan_social_post(rng, ctx):
    return {
        "user": rng.choice(USERS),
        "theme": rng.choice(["light", "dark"]),
        "avatar": rand_colour(rng),
        "caption": rng.choice(CAPTIONS),
        "text_above": rng.random() < 0.45,
        "likes": rng.randint(3, 250000),
        "comments": rng.randint(0, 3000),
        "hours": rng.randint(1, 23),
        "out_width": rng.choice([1080, 828, 720, 640]),
        "format": "jpg" if rng.random() < 0.6 else "png",
        "quality": rng.randint(70, 92),
    }


def do_social_post(img, p, nrng):
    img = to_rgb(img)
    W = 1080
    light = p["theme"] == "light"
    bg = (255, 255, 255) if light else (0, 0, 0)
    fg = (20, 20, 20) if light else (245, 245, 245)
    grey = (140, 140, 140)
    a = img.width / img.height
    pic = img
    if a < 0.8:  # platforms crop tall pictures to 4:5
        h = int(img.width / 0.8)
        y0 = (img.height - h) // 2
        pic = img.crop((0, y0, img.width, y0 + h))
    elif a > 1.91:
        w = int(img.height * 1.91)
        x0 = (img.width - w) // 2
        pic = img.crop((x0, 0, x0 + w, img.height))
    pic = resize_to(pic, W, W * pic.height / pic.width)
    tmp = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    fcap = font(32)
    cap_lines = wrap(tmp, p["caption"], fcap, W - 80) if p["text_above"] else []
    head = 130 + len(cap_lines) * 42 + (16 if cap_lines else 0)
    foot = 250
    out = Image.new("RGB", (W, head + pic.height + foot), bg)
    d = ImageDraw.Draw(out)
    d.ellipse((30, 25, 110, 105), fill=unhex(p["avatar"]))
    draw_text(d, (70, 65), p["user"][0].upper(), font(40), (255, 255, 255), anchor="mm")
    draw_text(d, (130, 35), p["user"], font(32), fg, stroke=1, stroke_fill=fg)
    draw_text(d, (130, 75), "%dh ·  Public" % p["hours"], font(26), grey)
    draw_text(d, (W - 40, 55), "···", font(40), fg, anchor="rm")
    for i, ln in enumerate(cap_lines):
        draw_text(d, (40, 130 + i * 42), ln, fcap, fg)
    out.paste(pic, (0, head))
    y = head + pic.height + 25
    d.ellipse((40, y, 72, y + 28), outline=fg, width=4)
    d.ellipse((62, y, 94, y + 28), outline=fg, width=4)
    d.polygon([(42, y + 18), (92, y + 18), (67, y + 48)], outline=fg)
    d.rounded_rectangle((130, y, 180, y + 40), radius=18, outline=fg, width=4)
    d.polygon([(220, y + 5), (265, y + 20), (220, y + 38)], outline=fg, width=4)
    draw_text(
        d, (40, y + 75), "{:,} likes".format(p["likes"]), font(30), fg, stroke=1, stroke_fill=fg
    )
    draw_text(
        d,
        (40, y + 120),
        p["user"] + "  " + (p["caption"] if not cap_lines else "#repost"),
        font(28),
        fg,
    )
    draw_text(d, (40, y + 165), "View all %d comments" % p["comments"], font(26), grey)
    s = p["out_width"] / W
    return resize_to(out, out.width * s, out.height * s)


def plan_slide(rng, ctx):
    return {
        "size": rng.choice([[1280, 720], [1024, 768], [1920, 1080]]),
        "layout": rng.choice(["left", "right", "center"]),
        "bg": rng.choice(["#ffffff", "#f4f1ea", "#1e2a3a", "#2b2b2b", "gradient"]),
        "grad": [rand_colour(rng), rand_colour(rng)],
        "title": rng.choice(SLIDE_TITLES),
        "bullets": rng.sample(BULLETS, 3),
        "page": rng.randint(2, 40),
        "picture_share": r4(rng.uniform(0.5, 0.62)),
        "format": rng.choice(["jpg", "png"]),
        "quality": rng.randint(75, 92),
    }


def do_slide(img, p, nrng):
    img = to_rgb(img)
    SW, SH = p["size"]
    if p["bg"] == "gradient":
        c0, c1 = (
            np.array(unhex(p["grad"][0]), np.float32),
            np.array(unhex(p["grad"][1]), np.float32),
        )
        t = np.linspace(0, 1, SH, dtype=np.float32)[:, None, None]
        arr = (c0 * (1 - t) + c1 * t) * np.ones((1, SW, 1), np.float32)
        out = Image.fromarray(arr.round().astype(np.uint8), "RGB")
        darkbg = (c0.mean() + c1.mean()) / 2 < 128
    else:
        out = Image.new("RGB", (SW, SH), unhex(p["bg"]))
        darkbg = sum(unhex(p["bg"])) < 380
    fg = (240, 240, 240) if darkbg else (25, 25, 35)
    d = ImageDraw.Draw(out)
    ft = font(SH * 0.065)
    draw_text(d, (SW * 0.05, SH * 0.05), p["title"], ft, fg)
    top = SH * 0.18
    fb = font(SH * 0.038)
    if p["layout"] == "center":
        pic = fit_in(img, SW * 0.8, SH * 0.68)
        out.paste(pic, (int((SW - pic.width) / 2), int(top)))
        draw_text(
            d,
            (SW / 2, top + pic.height + SH * 0.02),
            p["bullets"][0],
            font(SH * 0.03),
            fg,
            anchor="ma",
        )
    else:
        pw = SW * p["picture_share"]
        pic = fit_in(img, pw - SW * 0.05, SH * 0.74)
        px = int(SW * 0.05) if p["layout"] == "left" else int(SW * 0.95 - pic.width)
        out.paste(pic, (px, int(top + (SH * 0.74 - pic.height) / 2)))
        tx = px + pic.width + SW * 0.04 if p["layout"] == "left" else SW * 0.05
        tw = SW * 0.95 - tx if p["layout"] == "left" else px - SW * 0.09
        y = top + SH * 0.04
        for b in p["bullets"]:
            for j, ln in enumerate(wrap(d, b, fb, max(60, tw - SH * 0.05))):
                if j == 0:
                    r = fb.size * 0.16
                    cy = y + fb.size * 0.6
                    d.ellipse((tx, cy - r, tx + 2 * r, cy + r), fill=fg)
                draw_text(d, (tx + fb.size * 0.9, y), ln, fb, fg)
                y += fb.size * 1.35
            y += fb.size * 0.6
    draw_text(d, (SW * 0.95, SH * 0.96), str(p["page"]), font(SH * 0.025), fg, anchor="rd")
    return out


# --------------------------------------------------------------------------
# Edit registry
# --------------------------------------------------------------------------
EDITS = {
    # name: (planner, renderer, weight, category)
    "resize_recompress": (plan_resize_recompress, do_resize, 2.5, "size"),
    "thumbnail": (plan_thumbnail, do_thumbnail, 0.8, "size"),
    "jpeg_heavy": (plan_jpeg_heavy, do_scale_only, 1.2, "size"),
    "jpeg_generations": (plan_jpeg_generations, do_jpeg_generations, 0.8, "size"),
    "webp_heavy": (plan_webp_heavy, do_scale_only, 0.6, "size"),
    "cmyk_jpeg": (plan_cmyk_jpeg, do_cmyk, 0.4, "size"),
    "exif_orientation": (plan_exif_orientation, do_exif_orientation, 0.6, "geom"),
    "quantize": (plan_quantize, do_quantize, 0.6, "colour"),
    "downscale_upscale": (plan_downscale_upscale, do_downscale_upscale, 0.7, "filter"),
    "crop": (plan_crop, do_crop, 2.0, "geom"),
    "crop_aspect": (plan_crop_aspect, do_crop_aspect, 1.0, "geom"),
    "trim_edges": (plan_trim_edges, do_trim_edges, 0.7, "geom"),
    "stretch": (plan_stretch, do_stretch, 1.0, "geom"),
    "rotate_crop": (plan_rotate_crop, do_rotate_crop, 1.0, "geom"),
    "rotate_fill": (plan_rotate_fill, do_rotate_fill, 1.0, "geom"),
    "rot90": (plan_rot90, do_rot90, 0.8, "geom"),
    "mirror": (plan_mirror, do_mirror, 1.0, "geom"),
    "perspective": (plan_perspective, do_perspective, 0.9, "geom"),
    "letterbox": (plan_letterbox, do_pad, 0.8, "frame"),
    "pillarbox": (plan_pillarbox, do_pad, 0.8, "frame"),
    "pad_square": (plan_pad_square, do_pad, 0.6, "frame"),
    "frame_border": (plan_frame_border, do_frame_border, 0.8, "overlay"),
    "blur_pad": (plan_blur_pad, do_blur_pad, 0.8, "frame"),
    "caption_bar": (plan_caption_bar, do_caption_bar, 1.0, "overlay"),
    "meme_text": (plan_meme_text, do_meme_text, 1.0, "overlay"),
    "text_overlay": (plan_text_overlay, do_text_overlay, 1.0, "overlay"),
    "logo": (plan_logo, do_logo, 0.9, "overlay"),
    "stickers": (plan_stickers, do_stickers, 0.9, "overlay"),
    "watermark": (plan_watermark, do_watermark, 1.1, "overlay"),
    "timestamp": (plan_timestamp, do_timestamp, 0.7, "overlay"),
    "redact": (plan_redact, do_redact, 0.6, "overlay"),
    "hue_shift": (plan_hue_shift, do_hue_shift, 0.8, "colour"),
    "saturation": (plan_saturation, do_saturation, 0.8, "colour"),
    "greyscale": (plan_greyscale, do_greyscale, 0.9, "colour"),
    "sepia": (plan_sepia, do_sepia, 0.6, "colour"),
    "colour_cast": (plan_colour_cast, do_colour_cast, 0.8, "colour"),
    "brightness": (plan_brightness, do_brightness, 0.9, "colour"),
    "contrast": (plan_contrast, do_contrast, 0.8, "colour"),
    "gamma": (plan_gamma, do_gamma, 0.7, "colour"),
    "auto_enhance": (plan_auto_enhance, do_auto_enhance, 0.6, "colour"),
    "blur": (plan_blur, do_blur, 0.9, "filter"),
    "noise": (plan_noise, do_noise, 0.9, "filter"),
    "sharpen": (plan_sharpen, do_sharpen, 0.6, "filter"),
    "vignette": (plan_vignette, do_vignette, 0.6, "filter"),
    "screenshot": (plan_screenshot, do_screenshot, 1.0, "canvas"),
    "social_post": (plan_social_post, do_social_post, 1.0, "canvas"),
    "slide": (plan_slide, do_slide, 0.8, "canvas"),
    "alpha_flatten": (plan_alpha_flatten, do_alpha_flatten, 1.0, "colour"),
}
COMPOUND_WEIGHT = 3.5

# steps allowed inside a compound, by stage (applied in this order)
COMPOUND_STAGES = [
    [
        "crop",
        "crop",
        "trim_edges",
        "rotate_crop",
        "rotate_fill",
        "mirror",
        "stretch",
        "perspective",
        "rot90",
    ],
    [
        "hue_shift",
        "saturation",
        "greyscale",
        "sepia",
        "colour_cast",
        "brightness",
        "contrast",
        "gamma",
        "auto_enhance",
        "blur",
        "noise",
        "sharpen",
        "vignette",
    ],
    [
        "caption_bar",
        "meme_text",
        "text_overlay",
        "logo",
        "stickers",
        "watermark",
        "timestamp",
        "frame_border",
        "letterbox",
        "pillarbox",
        "blur_pad",
        "redact",
    ],
    ["screenshot", "social_post", "slide", "resize"],
]
MIMIC_FRAME = {"screenshot", "social_post", "slide"}
MIMIC_OVERLAY = {
    "caption_bar",
    "meme_text",
    "text_overlay",
    "logo",
    "stickers",
    "watermark",
    "timestamp",
    "frame_border",
}
ALPHA_KEEP = {"resize_recompress", "thumbnail", "crop", "mirror", "rot90", "trim_edges"}

SIZE_KEYS = ("format", "quality", "subsampling", "progressive", "cmyk", "orientation", "lossless")


def plan_edit(name, rng, ctx):
    planner = EDITS[name][0]
    p = planner(rng, ctx)
    if p is None:
        return None
    if "format" not in p:
        p.update(plan_format(rng))
    return p


def step_ctx(ctx, name, p):
    """rough size after a step (for planning later steps)."""
    w, h = ctx["w"], ctx["h"]
    if name in ("crop", "crop_aspect") and "box" in p:
        b = p["box"]
        w, h = w * (b[2] - b[0]), h * (b[3] - b[1])
    elif name == "rot90" and p["angle"] != 180:
        w, h = h, w
    elif name == "stretch":
        w, h = w * p["sx"], h * p["sy"]
    elif name in ("letterbox", "pillarbox", "pad_square"):
        a = ASPECTS[p["target"]]
        if w / h < a:
            w = h * a
        else:
            h = w / a
    return dict(ctx, w=max(8, w), h=max(8, h))


def plan_compound(rng, ctx):
    n = rng.choice([2, 2, 3, 3, 4])
    stages = sorted(rng.sample(range(4), n))
    steps = []
    c = dict(ctx)
    for st in stages:
        for _ in range(10):
            name = rng.choice(COMPOUND_STAGES[st])
            if name == "resize":
                p = {
                    "scale": r4(rng.uniform(0.35, 0.85)),
                    "resample": rng.choice(["lanczos", "bilinear"]),
                }
            elif name == "crop":
                p = plan_crop(rng, c, 0.65, 0.95)
            elif name == "rotate_crop":
                p = plan_rotate_crop(rng, c, 12.0)
            elif name == "rotate_fill":
                p = plan_rotate_fill(rng, c, 15.0)
            else:
                p = EDITS[name][0](rng, c)
            if p is None:
                continue
            p = {k: v for k, v in p.items() if k not in SIZE_KEYS}
            steps.append(dict({"edit": name}, **p))
            c = step_ctx(c, name, p)
            break
    u = rng.random()
    if u < 0.6:
        fmt = {"format": "jpg", "quality": rng.randint(45, 90)}
    elif u < 0.85:
        fmt = {"format": "webp", "quality": rng.randint(40, 88)}
    else:
        fmt = {"format": "png"}
    return dict({"steps": steps}, **fmt)


def render_edit(img, name, p, nrng):
    if name == "compound":
        for st in p["steps"]:
            if st["edit"] == "resize":
                img = do_resize(img, st, nrng)
            else:
                img = EDITS[st["edit"]][1](img, st, nrng)
        return img
    return EDITS[name][1](img, p, nrng)


def save_params(path, img, p):
    fmt = p["format"]
    extra = {}
    for k in ("subsampling", "progressive", "lossless"):
        if k in p:
            extra[k] = p[k]
    if "orientation" in p:
        ex = Image.Exif()
        ex[0x0112] = p["orientation"]
        extra["exif"] = ex.tobytes()
    data = encode(img, fmt, p.get("quality"), extra)
    with open(path, "wb") as fh:
        fh.write(data)


# --------------------------------------------------------------------------
# Loading and preparing source pictures
# --------------------------------------------------------------------------
def load_source(sources, rel):
    path = os.path.join(sources, rel)
    im = Image.open(path)
    im.load()
    grey = im.mode in ("L", "LA", "I;16", "I", "1") or (im.mode == "P" and False)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        if im.getchannel("A").getextrema()[0] == 255:
            im = im.convert("RGB")
    elif im.mode in ("I;16", "I", "F"):
        a = np.asarray(im).astype(np.float32)
        a = (a - a.min()) / max(1.0, a.max() - a.min()) * 255
        im = Image.fromarray(a.round().astype(np.uint8), "L").convert("RGB")
    else:
        im = im.convert("RGB")
    return im, grey


def base_image(sources, spec, cache):
    """spec: {"file": rel, "cell": [r, c], "grid": [rows, cols], "long": L or None}"""
    key = spec["file"]
    if key not in cache:
        cache[key] = load_source(sources, key)
    im, grey = cache[key]
    if "grid" in spec:
        rows, cols = spec["grid"]
        r, c = spec["cell"]
        W, H = im.size
        im = im.crop((W * c // cols, H * r // rows, W * (c + 1) // cols, H * (r + 1) // rows))
    L = spec.get("long")
    if L and max(im.size) > L:
        s = L / max(im.size)
        im = resize_to(im, im.width * s, im.height * s, Image.LANCZOS)
    return im, grey


def source_id(spec):
    s = spec["file"].split("/", 1)
    sid = s[0] + ":/" + s[1]
    if "grid" in spec:
        sid += "#tile r%d c%d of %dx%d" % (
            spec["cell"][0],
            spec["cell"][1],
            spec["grid"][0],
            spec["grid"][1],
        )
    return sid


def probe(sources, rel):
    """size and whether it has real transparency (decodes only if needed)."""
    path = os.path.join(sources, rel)
    with Image.open(path) as im:
        size = im.size
        maybe_alpha = im.mode in ("RGBA", "LA", "PA") or (
            im.mode == "P" and "transparency" in im.info
        )
        if not maybe_alpha:
            return size, False
        a = im.convert("RGBA").getchannel("A").getextrema()
        return size, a[0] < 255


def busy_cells(sources, rel, rows, cols, min_edge=2.5, min_sd=14.0):
    """grid cells with enough content: a tile of blank sky or open sea is no
    fair look-alike (nor a fair original)."""
    im, _ = load_source(sources, rel)
    W, H = im.size
    ok = []
    for r in range(rows):
        for c in range(cols):
            cell = im.crop((W * c // cols, H * r // rows, W * (c + 1) // cols, H * (r + 1) // rows))
            g = np.asarray(flatten(cell).convert("L").resize((128, 128), Image.BOX), np.float32)
            e = np.abs(np.diff(g, axis=1)).mean() + np.abs(np.diff(g, axis=0)).mean()
            if e >= min_edge and g.std() >= min_sd:
                ok.append((r, c))
    return ok


def target_long(rng, w, h):
    L = max(w, h)
    if L > 1400:
        return rng.randint(1000, 1400)
    return None


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------
def choose_edits(rng, n, counts, ctx):
    names = [k for k in EDITS if k != "alpha_flatten"] + ["compound"]
    if ctx["alpha"]:
        names.append("alpha_flatten")
    scored = []
    for k in names:
        w = COMPOUND_WEIGHT if k == "compound" else EDITS[k][2]
        if k == "alpha_flatten":
            w = 1.5
        scored.append(((counts.get(k, 0) + 1) / w + rng.uniform(0, 0.8 / w), k))
    scored.sort()
    chosen = []
    for _, k in scored:
        if len(chosen) >= n:
            break
        chosen.append(k)
    return chosen


def plan_all(sources, seed):
    rng = random.Random("blind-set|%d" % seed)
    families = []
    missing = []
    for fam in FAMILIES:
        frng = random.Random("fam|%d|%s" % (seed, fam["id"]))
        origs, negs = [], []
        if fam["tile"]:
            rel, rows, cols, n_nb = fam["tile"]
            if not os.path.exists(os.path.join(sources, rel)):
                missing.append(rel)
                continue
            (W, H), alpha = probe(sources, rel)
            cells = busy_cells(sources, rel, rows, cols)
            frng.shuffle(cells)
            cw, ch = W // cols, H // rows
            L = target_long(frng, cw, ch)
            for i, cell in enumerate(cells[: 1 + n_nb]):
                spec = {"file": rel, "grid": [rows, cols], "cell": list(cell), "long": L}
                info = {"spec": spec, "w": cw, "h": ch, "alpha": alpha}
                (origs if i == 0 else negs).append(dict(info, neg_kind="neighbour_tile"))
        for rel in fam["orig"]:
            if not os.path.exists(os.path.join(sources, rel)):
                missing.append(rel)
                continue
            (W, H), alpha = probe(sources, rel)
            origs.append(
                {
                    "spec": {"file": rel, "long": target_long(frng, W, H)},
                    "w": W,
                    "h": H,
                    "alpha": alpha,
                }
            )
        for rel, nk in fam["neg"]:
            if not os.path.exists(os.path.join(sources, rel)):
                missing.append(rel)
                continue
            (W, H), alpha = probe(sources, rel)
            negs.append(
                {
                    "spec": {"file": rel, "long": target_long(frng, W, H)},
                    "w": W,
                    "h": H,
                    "alpha": alpha,
                    "neg_kind": nk,
                }
            )
        if not origs:
            continue
        for o in origs + negs:
            L = o["spec"].get("long")
            if L:
                s = L / max(o["w"], o["h"])
                o["w"], o["h"] = max(1, int(round(o["w"] * s))), max(1, int(round(o["h"] * s)))
        families.append({"id": fam["id"], "kind": fam["kind"], "origs": origs, "negs": negs})
    if missing:
        print("WARNING: %d source files missing, skipped:" % len(missing), file=sys.stderr)
        for m in missing:
            print("   ", m, file=sys.stderr)

    # ---- split: per kind, greedily balance image counts between halves ----
    split_count = {}
    fam_order = sorted(
        families, key=lambda f: (f["kind"], -(len(f["origs"]) * 7 + len(f["negs"])), f["id"])
    )
    for f in fam_order:
        est = len(f["origs"]) * 7 + len(f["negs"])
        a = split_count.get((f["kind"], "calib"), 0)
        b = split_count.get((f["kind"], "test"), 0)
        if a == b:
            half = "calib" if rng.random() < 0.5 else "test"
        else:
            half = "calib" if a < b else "test"
        f["split"] = half
        split_count[(f["kind"], half)] = split_count.get((f["kind"], half), 0) + est

    # ---- groups, copies, negatives ----
    items = []
    counts = {}
    all_origs = [(f, o) for f in families for o in f["origs"]]
    gid_order = list(range(len(all_origs)))
    rng.shuffle(gid_order)
    for idx, (f, o) in enumerate(all_origs):
        o["group"] = "g%03d" % gid_order[idx]
    for f in families:
        frng = random.Random("plan|%d|%s" % (seed, f["id"]))
        fam_copies = []
        for o in f["origs"]:
            sid = source_id(o["spec"])
            grp = o["group"]
            # original: keep the source's own kind of file
            ext = os.path.splitext(o["spec"]["file"])[1].lower()
            if frng.random() < 0.12:
                ofmt = {"format": "webp", "quality": 92}
            elif ext in (".jpg", ".jpeg"):
                ofmt = {"format": "jpg", "quality": 95}
            else:
                ofmt = {"format": "png"}
            if o["alpha"] and ofmt["format"] == "jpg":
                ofmt = {"format": "png"}
            if o["spec"].get("long"):
                ofmt["scaled_long_side"] = o["spec"]["long"]
            items.append(
                {
                    "family": f["id"],
                    "group": grp,
                    "edit": "original",
                    "source": sid,
                    "split": f["split"],
                    "kind": f["kind"],
                    "base": o["spec"],
                    "alpha": o["alpha"],
                    "params": ofmt,
                }
            )
            n = frng.choices([5, 6, 7, 8], weights=[50, 25, 15, 10])[0]
            ctx = {"w": o["w"], "h": o["h"], "alpha": o["alpha"], "kind": f["kind"]}
            chosen = choose_edits(frng, n + 3, counts, ctx)
            made = 0
            for name in chosen:
                if made >= n:
                    break
                if name == "compound":
                    p = plan_compound(frng, ctx)
                else:
                    p = plan_edit(name, frng, ctx)
                if p is None:
                    continue
                if o["alpha"]:
                    if name == "alpha_flatten":
                        pass
                    elif name in ALPHA_KEEP and p["format"] in ("png", "webp"):
                        p["keep_alpha"] = True
                    else:
                        p["flatten"] = "#ffffff"
                counts[name] = counts.get(name, 0) + 1
                it = {
                    "family": f["id"],
                    "group": grp,
                    "edit": name,
                    "source": sid,
                    "split": f["split"],
                    "kind": f["kind"],
                    "base": o["spec"],
                    "alpha": o["alpha"],
                    "params": p,
                }
                items.append(it)
                fam_copies.append(it)
                made += 1
        # negatives
        for ng in f["negs"]:
            partner = frng.choice(f["origs"])
            psid = source_id(partner["spec"])
            base_sid = source_id(ng["spec"])
            mimic = [
                c
                for c in fam_copies
                if c["group"] == partner["group"] and c["edit"] in (MIMIC_FRAME | MIMIC_OVERLAY)
            ]
            params = {"from": base_sid, "lookalike_of": partner["group"]}
            if mimic and frng.random() < 0.25:
                c = frng.choice(mimic)
                name = (
                    "same_frame_other_picture"
                    if c["edit"] in MIMIC_FRAME
                    else "same_overlay_other_picture"
                )
                params.update(
                    {"base_kind": ng["neg_kind"], "mimics": c["edit"], "mimic_params": c["params"]}
                )
                params.update({k: c["params"][k] for k in SIZE_KEYS if k in c["params"]})
                if ng["alpha"]:
                    params["flatten"] = "#ffffff"
            else:
                name = ng["neg_kind"]
                if frng.random() < 0.5:
                    post = plan_resize_recompress(frng, {"w": ng["w"], "h": ng["h"]})
                    post["scale"] = r4(
                        max(frng.uniform(0.5, 1.0), min(1.0, 200 / max(ng["w"], ng["h"])))
                    )
                    params["post"] = {
                        "edit": "resize_recompress",
                        "scale": post["scale"],
                        "resample": post["resample"],
                    }
                    params.update({k: post[k] for k in SIZE_KEYS if k in post})
                else:
                    ext = os.path.splitext(ng["spec"]["file"])[1].lower()
                    if ext in (".jpg", ".jpeg"):
                        params.update({"format": "jpg", "quality": 95})
                    elif frng.random() < 0.15:
                        params.update({"format": "webp", "quality": 92})
                    else:
                        params.update({"format": "png"})
                if ng["alpha"] and params["format"] == "jpg":
                    params["flatten"] = "#ffffff"
            if ng["spec"].get("long"):
                params["scaled_long_side"] = ng["spec"]["long"]
            items.append(
                {
                    "family": f["id"],
                    "group": None,
                    "edit": name,
                    "source": psid,
                    "split": f["split"],
                    "kind": f["kind"],
                    "base": ng["spec"],
                    "alpha": ng["alpha"],
                    "params": params,
                }
            )
    # pool pictures: same frame / same overlay as one copy, other picture
    fam_by_id = {f["id"]: f for f in families}
    cands = [it for it in items if it["group"] and it["edit"] in MIMIC_POOL]
    rng.shuffle(cands)
    pool = [pe for pe in POOL if os.path.exists(os.path.join(sources, pe[0]))]
    rng.shuffle(pool)
    for (rel, kind), c in zip(pool, cands):
        (W, H), alpha = probe(sources, rel)
        spec = {"file": rel, "long": target_long(rng, W, H)}
        name = (
            "same_frame_other_picture" if c["edit"] in MIMIC_FRAME else "same_overlay_other_picture"
        )
        params = {
            "from": source_id(spec),
            "lookalike_of": c["group"],
            "base_kind": "unrelated_picture",
            "mimics": c["edit"],
            "mimic_params": c["params"],
        }
        params.update({k: c["params"][k] for k in SIZE_KEYS if k in c["params"]})
        if alpha:
            params["flatten"] = "#ffffff"
        items.append(
            {
                "family": c["family"],
                "group": None,
                "edit": name,
                "source": c["source"],
                "split": c["split"],
                "kind": kind,
                "base": spec,
                "alpha": alpha,
                "params": params,
            }
        )
        fam_by_id[c["family"]]["negs"].append(
            {"spec": spec, "w": W, "h": H, "alpha": alpha, "neg_kind": "pool"}
        )
    # shuffle numbering
    order = list(range(len(items)))
    rng.shuffle(order)
    ext = {"jpg": "jpg", "png": "png", "webp": "webp"}
    for num, i in enumerate(order):
        it = items[i]
        it["path"] = "images/%06d.%s" % (num, ext[it["params"]["format"]])
        it["key"] = it["path"]
    return families, items


# --------------------------------------------------------------------------
# Rendering (per family, in worker processes)
# --------------------------------------------------------------------------
def render_family(args):
    sources, out_dir, seed, fam_items = args
    cache = {}
    done = 0
    for it in fam_items:
        img, grey = base_image(sources, it["base"], cache)
        p = it["params"]
        nrng = np.random.default_rng(seed_int(seed, it["key"]))
        edit = it["edit"]
        if edit == "original":
            out = img
            if grey and out.mode == "RGB":
                out = out.convert("L")
        elif it["group"] is None:
            work = img
            if "mimics" in p:
                if p.get("flatten"):
                    work = flatten(work, p["flatten"])
                out = render_edit(to_rgb(work), p["mimics"], p["mimic_params"], nrng)
            else:
                if "post" in p:
                    work = do_resize(work, p["post"], nrng)
                if p.get("flatten"):
                    work = flatten(work, p["flatten"])
                out = work
                if grey and out.mode == "RGB":
                    out = out.convert("L")
        else:
            work = img
            if p.get("flatten"):
                work = flatten(work, p["flatten"])
            elif not p.get("keep_alpha") and edit != "alpha_flatten":
                work = to_rgb(work)
            out = render_edit(work, edit, p, nrng)
        save_params(os.path.join(out_dir, it["path"]), out, p)
        done += 1
    return done


# --------------------------------------------------------------------------
# Source similarity check (development aid)
# --------------------------------------------------------------------------
def check_sources(sources, families):
    vecs, names = [], []
    cache = {}
    for f in families:
        for o in f["origs"] + f["negs"]:
            img, _ = base_image(sources, o["spec"], cache)
            g = flatten(img).convert("L").resize((24, 24), Image.BOX)
            v = np.asarray(g, np.float32).ravel()
            v = v - v.mean()
            v /= np.linalg.norm(v) + 1e-6
            vecs.append(v)
            names.append(
                ("O " if o in f["origs"] else "N ")
                + f["id"]
                + " "
                + source_id(o["spec"]).split("/")[-1]
            )
        cache.clear()
    V = np.stack(vecs)
    S = V @ V.T
    np.fill_diagonal(S, -1)
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            pairs.append((S[i, j], names[i], names[j]))
    pairs.sort(reverse=True)
    print("most similar pairs of originals / look-alike bases (grey 24x24 correlation):")
    for s, a, b in pairs[:40]:
        print("  %.3f  %s  <->  %s" % (s, a, b))


def validate(images):
    """the truth must be self-consistent; raise if not."""
    groups = {}
    for im in images:
        if im["group"] is not None:
            groups.setdefault(im["group"], []).append(im)
        else:
            assert im["edit"] != "original", im
            assert im["params"]["lookalike_of"] is not None, im
    for g, members in groups.items():
        n_orig = sum(1 for m in members if m["edit"] == "original")
        assert n_orig == 1, (g, n_orig)
        assert len({m["split"] for m in members}) == 1, g
        assert 5 <= len(members) - 1 <= 9, (g, len(members))
    for im in images:
        if im["group"] is None:
            g = im["params"]["lookalike_of"]
            assert g in groups and groups[g][0]["split"] == im["split"], im["path"]
    by_file = {im["source"]: im for im in images if im["edit"] == "original"}
    assert len(by_file) == len(groups), "two originals from one source"
    for im in images:
        f = im["params"].get("from") or im["source"]
        if im["group"] is None:
            assert f not in by_file, ("look-alike base used twice", f)
            by_file[f] = im
    assert len({im["path"] for im in images}) == len(images)


# --------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--sources", default=DEFAULT_SOURCES)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--check-sources", action="store_true", help="print the most similar source pairs and exit"
    )
    a = ap.parse_args(argv)
    t0 = time.time()
    if not os.path.isdir(a.sources):
        sys.exit(
            "sources dir %s not found; run benchmarks/fetch_blind_sources.sh first" % a.sources
        )
    families, items = plan_all(a.sources, a.seed)
    if a.check_sources:
        check_sources(a.sources, families)
        return
    img_dir = os.path.join(a.out_dir, "images")
    os.makedirs(img_dir, exist_ok=True)
    for fn in os.listdir(img_dir):
        if fn.split(".")[-1] in ("jpg", "png", "webp"):
            os.remove(os.path.join(img_dir, fn))
    by_fam = {}
    for it in items:
        by_fam.setdefault(it["family"], []).append(it)
    tasks = [
        (a.sources, a.out_dir, a.seed, v)
        for _, v in sorted(by_fam.items(), key=lambda kv: -len(kv[1]))
    ]
    if a.jobs > 1:
        with ProcessPoolExecutor(max_workers=a.jobs) as ex:
            n = sum(ex.map(render_family, tasks))
    else:
        n = sum(map(render_family, tasks))
    images = []
    for it in sorted(items, key=lambda i: i["path"]):
        images.append(
            {
                "path": it["path"],
                "group": it["group"],
                "edit": it["edit"],
                "source": it["source"],
                "split": it["split"],
                "kind": it["kind"],
                "params": it["params"],
            }
        )
    validate(images)
    with open(os.path.join(a.out_dir, "truth.json"), "w") as fh:
        json.dump({"version": 1, "seed": a.seed, "images": images}, fh, indent=1)
    # summary
    n_orig = sum(1 for i in images if i["edit"] == "original")
    n_neg = sum(1 for i in images if i["group"] is None)
    print(
        "wrote %d images (%d originals, %d copies, %d negatives = %.1f%%) to %s in %.1f s"
        % (
            n,
            n_orig,
            len(images) - n_orig - n_neg,
            n_neg,
            100.0 * n_neg / len(images),
            a.out_dir,
            time.time() - t0,
        )
    )
    for half in ("calib", "test"):
        sub = [i for i in images if i["split"] == half]
        print(
            "  %-5s: %4d images, %3d originals, %4d negatives"
            % (
                half,
                len(sub),
                sum(1 for i in sub if i["edit"] == "original"),
                sum(1 for i in sub if i["group"] is None),
            )
        )


if __name__ == "__main__":
    main()
