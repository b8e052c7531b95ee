#!/usr/bin/env bash
# Build the Linux bundle:
#   installers/dist/ViSketch/                          the one-folder app (run ./visketch)
#   installers/dist/ViSketch-VERSION-linux-ARCH.tar.gz   what users download
# Usage: installers/linux/build.sh [PYTHON]   (a Python with ViSketch and PyInstaller installed)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
installers="$(dirname "$here")"
root="$(dirname "$installers")"
py="${1:-python3}"
version="$("$py" "$installers/version.py")"
dist="$installers/dist"
app="$dist/ViSketch"

"$py" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$dist" --workpath "$installers/build" "$installers/visketch.spec"

# Symbol tables of the big libraries that nobody patched: -115 MB, mostly libtorch_cpu.
# (PyInstaller's strip=True strips everything, which breaks auditwheel-patched libraries.)
find "$app/_internal" -maxdepth 3 -type f \( -name 'libtorch*.so' -o -name 'libpython3*.so*' \
  -o -name 'libc10.so' \) -exec strip --strip-unneeded {} +

# next to the executable: what a person looks for in an unpacked folder
cp "$here/visketch.desktop" "$app/visketch.desktop"
cp "$root/resources/icons/visketch.png" "$app/visketch.png"
cp "$installers/NOTICE.txt" "$app/NOTICE.txt"
install -m 755 "$here/install.sh" "$app/install.sh"

tarball="$dist/ViSketch-$version-linux-$(uname -m).tar.gz"
tar -C "$dist" -cf - ViSketch | gzip -6 > "$tarball"
echo "$app"
echo "$tarball ($(du -sm --apparent-size "$app" | cut -f1) MB unpacked, $(du -m --apparent-size "$tarball" | cut -f1) MB packed)"
