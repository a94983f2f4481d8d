#!/usr/bin/env bash
# Download and unpack the Debian packages whose pictures make_set_games.py uses.
# Usage: benchmarks/fetch_games_sources.sh [DIR]   (default benchmarks/work/games)
# Each package ends up unpacked under DIR/<package>/ (a .unpacked marker skips it next time).
# Needs apt access to a Debian (bookworm) mirror; no root needed.
set -u
DEST="${1:-benchmarks/work/games}"
PACKAGES=(
    wesnoth-1.16-data # portraits, terrain tiles, unit art, story/map art
    freeciv-data      # terrain tilesets, flags, city art
    kicad-doc-en      # documentation screenshots of dialogs and editors
    openshot-qt-doc   # documentation screenshots of a video editor
)
exec bash "$(dirname "$0")/fetch_debs.sh" "$DEST" "${PACKAGES[@]}"
