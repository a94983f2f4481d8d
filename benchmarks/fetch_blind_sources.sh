#!/usr/bin/env bash
# Fetch the Debian (bookworm) packages that hold the source pictures of the
# "blind" near-duplicate evaluation set (see benchmarks/make_set_blind.py).
#
# Usage: bash benchmarks/fetch_blind_sources.sh [WORK_DIR]
#   WORK_DIR defaults to benchmarks/work/blind (relative to the repository root).
#   Packages are downloaded with `apt-get download` (no root needed) into
#   WORK_DIR/debs, unpacked with `dpkg -x` into WORK_DIR/<package>/, and the .deb
#   is deleted afterwards.  Packages already unpacked are skipped; a package
#   that fails to download or unpack is reported and the script carries on.
#
# Written blind on 2026-12-06 by a helper (it knows nothing about the finder).
# Download size, bookworm: about 230 MB in all (unpacked about 1.1 GB).

set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${1:-$here/work/blind}"
debs="$work/debs"
mkdir -p "$debs"

# package                  what it gives the set                       .deb size
packages=(
  lxqt-themes             # photo + gradient wallpapers (3000 px)       26 MB
  python3-skimage         # scikit-image test photos and textures       21 MB
  tuxpaint-data           # nature photos (templates), line drawings     8 MB
  kstars-data             # astronomy screenshots, charts, night sky,
                          #   constellation drawings, world map          79 MB
  grass-doc               # GIS maps, charts, diagrams, GUI screenshots  36 MB
  colobot-common-textures # game textures, game art, UI art             28 MB
  oxygen-icon-theme       # 256 px icons (one icon set)                  32 MB
)

failed=()
for pkg in "${packages[@]}"; do
  dest="$work/$pkg"
  if [ -d "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
    echo "skip   $pkg (already unpacked in $dest)"
    continue
  fi
  echo "fetch  $pkg"
  rm -f "$debs/${pkg}"_*.deb
  if ! (cd "$debs" && apt-get download "$pkg" 2> >(grep -v "unsandboxed as root" >&2) >/dev/null); then
    echo "FAILED to download $pkg" >&2
    failed+=("$pkg")
    continue
  fi
  deb="$(ls "$debs/${pkg}"_*.deb 2>/dev/null | head -n 1)"
  if [ -z "$deb" ]; then
    echo "FAILED: no .deb for $pkg after download" >&2
    failed+=("$pkg")
    continue
  fi
  echo "       $(du -h "$deb" | cut -f1)  $(basename "$deb")"
  mkdir -p "$dest.tmp"
  if dpkg -x "$deb" "$dest.tmp"; then
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    rm -f "$deb"
  else
    echo "FAILED to unpack $deb" >&2
    rm -rf "$dest.tmp"
    failed+=("$pkg")
  fi
done

rmdir "$debs" 2>/dev/null || true
if [ "${#failed[@]}" -gt 0 ]; then
  echo "packages that failed: ${failed[*]}" >&2
  exit 1
fi
echo "all packages present in $work"
