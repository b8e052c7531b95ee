#!/usr/bin/env bash
# Turn the built bundle (linux/build.sh) into installers/dist/ViSketch-VERSION-ARCH.AppImage.
# Needs `appimagetool` on PATH (https://github.com/AppImage/appimagetool; not on PyPI or in
# Debian, so it is not installed here): without it, this script builds the AppDir and stops.
# Usage: installers/linux/appimage.sh [PYTHON]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
installers="$(dirname "$here")"
py="${1:-python3}"
version="$("$py" "$installers/version.py")"
app="$installers/dist/ViSketch"
[ -x "$app/visketch" ] || { echo "appimage.sh: build the bundle first (make dist)" >&2; exit 1; }

appdir="$installers/build/ViSketch.AppDir"
rm -rf "$appdir"
mkdir -p "$appdir/usr/lib"
cp -a "$app" "$appdir/usr/lib/ViSketch"
cat > "$appdir/AppRun" <<'SH'
#!/bin/sh
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/lib/ViSketch/visketch" "$@"
SH
chmod 755 "$appdir/AppRun"
cp "$here/visketch.desktop" "$appdir/visketch.desktop"
cp "$app/visketch.png" "$appdir/visketch.png"
ln -sf visketch.png "$appdir/.DirIcon"

if ! command -v appimagetool >/dev/null 2>&1; then
  echo "appimage.sh: AppDir ready in $appdir; install appimagetool to pack it" >&2
  exit 2
fi
out="$installers/dist/ViSketch-$version-$(uname -m).AppImage"
ARCH="$(uname -m)" VERSION="$version" appimagetool --no-appstream "$appdir" "$out"
echo "$out ($(du -m "$out" | cut -f1) MB)"
