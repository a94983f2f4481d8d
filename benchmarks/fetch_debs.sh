#!/usr/bin/env bash
# Download and unpack Debian packages for an evaluation set's sources (no root needed).
# Usage: benchmarks/fetch_debs.sh DEST PACKAGE...   Each package ends up under DEST/<package>/
# (a .unpacked marker skips it next time); the .debs stay in DEST/debs. Needs apt access to a
# Debian (bookworm) mirror. Exit 1 naming the packages that could not be fetched or unpacked.
set -u
DEST="$1"
shift
mkdir -p "$DEST/debs"
failed=()
for pkg in "$@"; do
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
