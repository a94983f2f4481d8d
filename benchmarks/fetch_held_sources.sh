#!/usr/bin/env bash
# Download and unpack the Debian packages whose pictures make_set_held.py uses.
# Usage: fetch_held_sources.sh [DIR]   (default benchmarks/work/held)
# Each package ends up unpacked under DIR/<package>/ (a .unpacked marker skips it next time).
# Needs apt access to a Debian (bookworm) mirror; no root needed.  About 510 MB of .debs.
set -u
DEST="${1:-benchmarks/work/held}"
PACKAGES=(
    endless-sky-data        # landscape photographs (planet views), painted ship/outfit art
    tuxpaint-stamps-default # cartoon clip art stamps
    gnome-backgrounds       # 4096 px wallpapers: pixel art, smooth abstract, wood and pattern textures
    marble-data             # handbook screenshots of map views and dialogs (no map data in bookworm)
    gimp-help-en            # documentation screenshots of dialogs and tutorial photos
    xplanet-images          # world map (day)
    graphviz-doc            # graph diagrams
    extremetuxracer-data    # sky boxes (smooth), course preview screenshots
    hedgewars-data          # painted forts, skies, land textures
)
exec bash "$(dirname "$0")/fetch_debs.sh" "$DEST" "${PACKAGES[@]}"
