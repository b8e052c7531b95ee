#!/usr/bin/env bash
# README picture and animation of "Complete my sketch": the app benchmark drives the real
# window offscreen with the shipped models and saves a grab every 60 ms of one completion;
# ImageMagick's `convert` turns them into a GIF.
#   bash scripts/completion_animation.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-.venv/bin/python}"
frames=$(mktemp -d)
"$py" benchmarks/app_generation.py --sketches 1 --schedules sequential --frames "$frames" > /dev/null
ls "$frames"/frame-*.png > /dev/null
n=$(ls "$frames"/frame-*.png | wc -l)
mid=$(ls "$frames"/frame-*.png | sed -n "$(( n * 2 / 3 + 1 ))p")
mkdir -p docs/images
cp "$mid" docs/images/app-completion.png
"$(command -v /usr/bin/convert || command -v convert)" -delay 12 -loop 0 "$frames"/frame-*.png -delay 200 "$(ls "$frames"/frame-*.png | tail -1)" \
  -resize 50% -layers Optimize docs/images/app-completion.gif
rm -rf "$frames"
ls -la docs/images/app-completion.*
