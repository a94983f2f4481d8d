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
mkdir -p "$DEST/debs"
failed=()
for pkg in "${PACKAGES[@]}"; do
    if [ -e "$DEST/$pkg/.unpacked" ]; then
        echo "skip $pkg (already unpacked)"
        continue
    fi
    deb=$(ls "$DEST/debs/${pkg}"_*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        if ! (cd "$DEST/debs" && apt-get download "$pkg"); then
            failed+=("$pkg (download)")
            continue
        fi
        deb=$(ls "$DEST/debs/${pkg}"_*.deb 2>/dev/null | head -n 1)
    fi
    if [ -z "$deb" ] || ! dpkg -x "$deb" "$DEST/$pkg"; then
        failed+=("$pkg (unpack)")
        continue
    fi
    touch "$DEST/$pkg/.unpacked"
    echo "unpacked $pkg"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "all packages in $DEST"
