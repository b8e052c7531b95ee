#!/usr/bin/env bash
# Build the macOS app: installers/dist/ViSketch.app (then macos/make_dmg.sh for the .dmg).
# Usage: installers/macos/build.sh [PYTHON]   (a Python with ViSketch and PyInstaller installed)
# Not run in this repository's CI (Linux only); .github/workflows/build.yml runs it on macOS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
installers="$(dirname "$here")"
py="${1:-python3}"

"$py" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$installers/dist" --workpath "$installers/build" "$installers/visketch.spec"

app="$installers/dist/ViSketch.app"
# PyInstaller signs ad hoc; that runs on the machine that built it. For other Macs, sign with
# a Developer ID and notarise (see docs/installers.md), e.g.
#   codesign --force --deep --options runtime --sign "Developer ID Application: ..." "$app"
"$app/Contents/MacOS/ViSketch" --check-bundle
echo "$app ($(du -sm "$app" | cut -f1) MB)"
