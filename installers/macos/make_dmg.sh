#!/usr/bin/env bash
# Pack installers/dist/ViSketch.app into installers/dist/ViSketch-VERSION-macos-ARCH.dmg:
# a window with the app, a link to /Applications to drag it onto, and NOTICE.txt.
# Usage: installers/macos/make_dmg.sh [PYTHON]   (after macos/build.sh; needs hdiutil)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
installers="$(dirname "$here")"
py="${1:-python3}"
version="$("$py" "$installers/version.py")"
app="$installers/dist/ViSketch.app"
[ -d "$app" ] || { echo "make_dmg.sh: $app not found; run macos/build.sh first" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
cp "$installers/NOTICE.txt" "$stage/NOTICE.txt"
dmg="$installers/dist/ViSketch-$version-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -volname "ViSketch $version" -srcfolder "$stage" -fs HFS+ \
  -format UDZO -imagekey zlib-level=9 "$dmg"
echo "$dmg ($(du -m "$dmg" | cut -f1) MB)"
