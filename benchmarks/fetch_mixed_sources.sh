#!/usr/bin/env bash
# Download and unpack the Debian packages used by make_set_mixed.py.
# Usage: fetch_mixed_sources.sh [WORKDIR]   (default: benchmarks/work/mixed)
# Each package is unpacked into WORKDIR/<package>/ (dpkg -x); packages already unpacked are skipped.
# Exit status 0 if at least one package is available afterwards.
set -u
WORKDIR="${1:-benchmarks/work/mixed}"
PKGS=(dolphin gwenview kile-doc okular kolourpaint marble-data kst-doc
      opencv-doc stellarium-data supertux-data lincity-ng-data frozen-bubble-data
      pingus-data gimp-data)
mkdir -p "$WORKDIR/.debs"
ok=0
failed=()
for p in "${PKGS[@]}"; do
  if [ -f "$WORKDIR/$p/.unpacked" ]; then
    ok=$((ok + 1)); continue
  fi
  deb=$(ls "$WORKDIR/.debs/${p}"_*.deb 2>/dev/null | head -n 1)
  if [ -z "$deb" ]; then
    (cd "$WORKDIR/.debs" && apt-get download "$p" >/dev/null 2>&1) || true
    deb=$(ls "$WORKDIR/.debs/${p}"_*.deb 2>/dev/null | head -n 1)
  fi
  if [ -n "$deb" ] && rm -rf "$WORKDIR/$p" && dpkg -x "$deb" "$WORKDIR/$p"; then
    touch "$WORKDIR/$p/.unpacked"; rm -f "$deb"; ok=$((ok + 1))
  else
    failed+=("$p")
  fi
done
echo "unpacked: $ok of ${#PKGS[@]} packages in $WORKDIR"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (try: apt-get update)"
fi
[ "$ok" -gt 0 ]
