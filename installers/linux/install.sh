#!/usr/bin/env bash
# Install this unpacked ViSketch folder for the current user (no root needed):
#   the app to ~/.local/opt/ViSketch, a launcher to ~/.local/bin/visketch,
#   the menu entry and icon under ~/.local/share. `./install.sh --uninstall` removes them.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
dest="$HOME/.local/opt/ViSketch"
bin="$HOME/.local/bin"
apps="$data/applications"
icons="$data/icons/hicolor/512x512/apps"

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$dest" "$bin/visketch" "$apps/visketch.desktop" "$icons/visketch.png"
  echo "ViSketch removed."
  exit 0
fi
if [ "$src" != "$dest" ]; then
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -a "$src" "$dest"
fi
mkdir -p "$bin" "$apps" "$icons"
ln -sf "$dest/visketch" "$bin/visketch"
cp "$dest/visketch.png" "$icons/visketch.png"
sed "s|^Exec=.*|Exec=\"$dest/visketch\" %f|" "$dest/visketch.desktop" > "$apps/visketch.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" || true
echo "ViSketch installed in $dest; it is in your applications menu, and 'visketch' starts it."
