#!/usr/bin/env bash
# Fetch the Debian packages whose pictures benchmarks/make_set_graphics.py uses.
#
#   benchmarks/fetch_graphics_sources.sh [WORKDIR]     (default: benchmarks/work/graphics)
#
# Each package is fetched with `apt-get download` (no root needed; the apt lists must be
# up to date) and unpacked with `dpkg -x` into WORKDIR/<package>/. Packages that are already
# unpacked are skipped; packages that fail are reported and skipped (the generator then skips
# the sources that need them). The .deb files are deleted after unpacking.
#
# Packages (download sizes for the Debian 12 versions):
#   openclipart-png     ~131 MB  clip art
#   gimp-help-en         ~50 MB  screenshots and diagrams of GIMP
#   gnome-backgrounds    ~33 MB  wallpapers
#   gnome-user-docs     ~8.5 MB  GNOME screenshots/figures
#   desktop-base        ~7.9 MB  Debian theme wallpapers, logo art, Plasma preview screenshot
#   inkscape-tutorials  ~1.9 MB  one dialog screenshot pair
set -u

WORKDIR=${1:-benchmarks/work/graphics}
PKGS=(openclipart-png gimp-help-en gnome-backgrounds gnome-user-docs desktop-base inkscape-tutorials)

mkdir -p "$WORKDIR/debs" || { echo "cannot create $WORKDIR" >&2; exit 1; }
ok=() skipped=() failed=()
for pkg in "${PKGS[@]}"; do
    dest="$WORKDIR/$pkg"
    if [ -f "$dest/.unpacked" ]; then
        echo "skip $pkg: already unpacked in $dest"
        skipped+=("$pkg")
        continue
    fi
    echo "fetching $pkg ..."
    rm -f "$WORKDIR/debs/${pkg}_"*.deb
    if ! (cd "$WORKDIR/debs" && apt-get download "$pkg" >/dev/null); then
        echo "FAILED: apt-get download $pkg (skipped)" >&2
        failed+=("$pkg")
        continue
    fi
    deb=$(ls "$WORKDIR/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        echo "FAILED: no .deb for $pkg (skipped)" >&2
        failed+=("$pkg")
        continue
    fi
    size=$(du -h "$deb" | cut -f1)
    rm -rf "$dest" && mkdir -p "$dest"
    if ! dpkg -x "$deb" "$dest"; then
        echo "FAILED: dpkg -x $deb (skipped)" >&2
        rm -rf "$dest"
        failed+=("$pkg")
        continue
    fi
    touch "$dest/.unpacked"
    rm -f "$deb"
    echo "ok $pkg ($size) -> $dest"
    ok+=("$pkg")
done
rmdir "$WORKDIR/debs" 2>/dev/null || true

echo "fetched: ${ok[*]:-none}; already there: ${skipped[*]:-none}; failed: ${failed[*]:-none}"
if [ ${#failed[@]} -eq ${#PKGS[@]} ]; then
    exit 1
fi
exit 0
