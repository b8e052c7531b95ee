"""The app icon: draw ``resources/icons/visketch.png`` and pack it as ``.ico`` and ``.icns``.

``python installers/icons.py png`` redraws the PNG (NumPy + OpenCV, both already project
dependencies). ``python installers/icons.py ico|icns OUT`` packs the PNG for Windows or macOS
with nothing but the standard library: both formats may hold PNG images as they are (ICO
since Windows Vista, ICNS since macOS 10.7), so no Pillow and no iconutil are needed.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICON_PNG = ROOT / "resources" / "icons" / "visketch.png"
SIZE = 512
# ICNS element types holding PNG data, by pixel size (the @2x variants share the bytes)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw_icon(size: int = SIZE):
    """-> (size, size, 4) uint8 BGRA: a rounded paper tile, a quadtree grid in the app's
    depth colours, and a sketched cat head in dark ink. Drawn at 4x, then area-downsampled."""
    import cv2
    import numpy as np

    s = 4 * size
    img = np.zeros((s, s, 4), np.uint8)
    r, pad = s // 6, s // 32
    tile = np.zeros((s, s), np.uint8)
    cv2.rectangle(tile, (pad + r, pad), (s - pad - r, s - pad), 255, -1)
    cv2.rectangle(tile, (pad, pad + r), (s - pad, s - pad - r), 255, -1)
    for cx, cy in ((pad + r, pad + r), (s - pad - r, pad + r), (pad + r, s - pad - r),
                   (s - pad - r, s - pad - r)):
        cv2.circle(tile, (cx, cy), r, 255, -1, cv2.LINE_AA)
    img[..., :3] = (246, 248, 250)
    img[..., 3] = tile

    def box(x0, y0, w, colour, t):  # colours are BGR, as in app/overlays.py's depth palette
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + w), (*colour, 255), t, cv2.LINE_AA)

    lo, hi = pad + s // 10, s - pad - s // 10
    half = (hi - lo) // 2
    q = half // 2
    for qx, qy in ((0, 0), (1, 0), (0, 1), (3, 0), (2, 0), (3, 1)):  # around the ears
        box(lo + qx * q, lo + qy * q, q, (40, 140, 240), s // 160)          # orange
    for qx in (0, 1):
        for qy in (0, 1):
            box(lo + qx * half, lo + qy * half, half, (80, 170, 60), s // 120)  # green
    box(lo, lo, hi - lo, (220, 130, 40), s // 80)               # depth 0: blue

    ink, t = (40, 36, 32, 255), s // 28
    c, rad = (s // 2, s // 2 + s // 16), s // 4
    cv2.ellipse(img, c, (rad, int(rad * 0.86)), 0, -200, 20, ink, t, cv2.LINE_AA)
    ears = [(c[0] - rad + s // 40, c[1] - s // 14), (c[0] - rad // 2, c[1] - rad - s // 12),
            (c[0] - s // 12, c[1] - int(rad * 0.84)), (c[0] + s // 12, c[1] - int(rad * 0.84)),
            (c[0] + rad // 2, c[1] - rad - s // 12), (c[0] + rad - s // 40, c[1] - s // 14)]
    cv2.polylines(img, [np.array(ears, np.int32)], False, ink, t, cv2.LINE_AA)
    for ex in (-1, 1):
        cv2.circle(img, (c[0] + ex * rad // 2, c[1] - s // 40), s // 40, ink, -1, cv2.LINE_AA)
    cv2.line(img, (c[0] - s // 30, c[1] + s // 14), (c[0] + s // 30, c[1] + s // 14), ink,
             t // 2, cv2.LINE_AA)
    img[..., 3] = np.minimum(img[..., 3], tile)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def png_bytes(size: int) -> bytes:
    """The shipped PNG scaled to ``size`` pixels, PNG-encoded."""
    import cv2

    img = cv2.imread(str(ICON_PNG), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit(f"{ICON_PNG}: missing or unreadable; run `python {__file__} png`")
    if img.shape[0] != size:
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def write_ico(out: Path) -> None:
    """ICONDIR + one ICONDIRENTRY per size, each image stored as PNG."""
    images = [png_bytes(n) for n in ICO_SIZES]
    offset = 6 + 16 * len(images)
    head = struct.pack("<HHH", 0, 1, len(images))
    entries = b""
    for n, data in zip(ICO_SIZES, images):
        # width/height 0 means 256; 0 colours, 1 plane, 32 bits per pixel
        entries += struct.pack("<BBBBHHII", n % 256, n % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    out.write_bytes(head + entries + b"".join(images))


def write_icns(out: Path) -> None:
    """'icns' + total length, then (type, length, PNG bytes) per size; big-endian."""
    body = b""
    for n, kind in ICNS_TYPES.items():
        data = png_bytes(n)
        body += kind + struct.pack(">I", 8 + len(data)) + data
    out.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("png", "ico", "icns"):
        print("usage: icons.py png | ico OUT.ico | icns OUT.icns", file=sys.stderr)
        return 2
    if argv[0] == "png":
        import cv2

        ICON_PNG.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(ICON_PNG), draw_icon())
        print(ICON_PNG)
        return 0
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    (write_ico if argv[0] == "ico" else write_icns)(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
