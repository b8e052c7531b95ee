#!/usr/bin/env bash
# README screenshots, taken headless with the app's own --screenshot mode.
#   bash scripts/screenshots.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-.venv/bin/python}"
out=docs/images
mkdir -p "$out"
cfg=$(mktemp -d)
shot() {  # name, file, index, quadtree, heatmap
  mkdir -p "$cfg/$1"
  printf '{"show_quadtree": %s, "show_heatmap": %s, "show_leaf_votes": true}\n' "$4" "$5" \
    > "$cfg/$1/settings.json"
  VISKETCH_CONFIG_DIR="$cfg/$1" VISKETCH_DATA_DIR="$cfg/$1/data" QT_QPA_PLATFORM=offscreen \
    "$py" -m app "$2" --index "$3" --screenshot "$out/$1.png"
}
shot app-heatmap resources/samples/quickdraw-3.ndjson 0 false true
shot app-quadtree resources/samples/quickdraw-3.ndjson 1 true false
rm -rf "$cfg"
ls -la "$out"
