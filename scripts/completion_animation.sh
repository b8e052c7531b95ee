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
# at most 60 frames, evenly spread, each halved as it is read (ImageMagick's default cache
# limits refuse a few hundred full-size frames)
step=$(( (n + 59) / 60 ))
pick=$(ls "$frames"/frame-*.png | awk -v s="$step" '(NR - 1) % s == 0 { print $0 "[50%]" }')
last="$(ls "$frames"/frame-*.png | tail -1)[50%]"
# shellcheck disable=SC2086
"$(command -v /usr/bin/convert || command -v convert)" -delay $(( 12 * step )) -loop 0 $pick -delay 200 "$last" \
  -layers Optimize docs/images/app-completion.gif
rm -rf "$frames"
ls -la docs/images/app-completion.*
